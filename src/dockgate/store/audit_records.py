"""Audit records: written one at a time and durably, completed when the answer is known, queried."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from functools import cache
from operator import attrgetter
from typing import Any, Literal, cast

from sqlalchemy import Connection, Dialect, Select, Table, bindparam, func, insert, select, update

from dockgate.store import models
from dockgate.store.database import Store

Decision = Literal["allow", "deny"]


@dataclass(frozen=True)
class AuditRecord:
    """One request through dockgate.

    ``status``, ``duration_ms`` and the byte counts are known once the answer is, and may be filled
    in by :func:`complete_records` after a record written before forwarding. For exec/attach
    sessions ``kind`` is ``"exec"`` or ``"attach"``, ``started``/``ended`` bound the stream, and
    the byte counts are the stream's, each way. ``body`` is the redacted request body (JSON text).
    """

    time: datetime
    user: str | None
    source: str
    host: str | None
    method: str
    path: str
    operation: str
    decision: Decision
    rule: str = ""
    status: int | None = None
    duration_ms: float | None = None
    bytes_in: int = 0
    bytes_out: int = 0
    body: str | None = None
    kind: str | None = None
    started: datetime | None = None
    ended: datetime | None = None
    id: int | None = None


@dataclass(frozen=True)
class AuditFilter:
    """Which records to read; every field left None matches all."""

    user: str | None = None
    host: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    operation: str | None = None
    decision: Decision | None = None


_COLUMNS = tuple(f.name for f in fields(AuditRecord) if f.name != "id")


# Declarative types __table__ as any FromClause; a class with __tablename__ is mapped to a Table.
_TABLE = cast(Table, models.AuditEntry.__table__)


async def insert_record(store: Store, record: AuditRecord) -> int:
    """Write ``record``; when this returns the commit is done (on disk for SQLite in FULL mode)."""

    def insert_one(connection: Connection) -> int:
        plan = _insert_plan(connection.dialect)
        return int(connection.exec_driver_sql(plan.returning_id, plan.row(record)).scalar_one())
    return await store.write(insert_one)


async def insert_records(store: Store, records: list[AuditRecord]) -> None:
    """Write several records in one transaction (the records of reads, written after the fact)."""

    def insert_all(connection: Connection) -> None:
        plan = _insert_plan(connection.dialect)
        connection.exec_driver_sql(plan.sql, [plan.row(r) for r in records])
    await store.write(insert_all)


@dataclass(frozen=True)
class _InsertPlan:
    """Records go to the driver as tuples: Core's execute binds each row's parameters one by one,
    which cost more CPU per record than SQLite spends storing it (a tenth of the gateway's CPU per
    listing request, and 0.05 to 0.2 ms of a mutating request's wait for its durable record). The
    SQL and the conversions are still SQLAlchemy's: the statement compiled for the dialect, each
    column type's own bind processor."""

    sql: str
    returning_id: str  # the same INSERT, answering the new record's id
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, the column type's processor)

    def row(self, record: AuditRecord) -> tuple[Any, ...]:
        values = _VALUES(record)
        if not self.converters:
            return values
        converted = list(values)
        for position, convert in self.converters:
            converted[position] = convert(converted[position])
        return tuple(converted)


_VALUES = attrgetter(*_COLUMNS)


@cache
def _insert_plan(dialect: Dialect) -> _InsertPlan:
    statements = (insert(_TABLE), insert(_TABLE).returning(_TABLE.c.id))
    compiled = [s.compile(dialect=dialect, column_keys=list(_COLUMNS)) for s in statements]
    if any(tuple(c.positiontup or ()) != _COLUMNS for c in compiled):  # so are both our drivers'
        raise ValueError(f"the {dialect.name} driver's parameters are not positional in column order")
    types = (_TABLE.columns[name].type.dialect_impl(dialect) for name in _COLUMNS)  # as Core binds them
    processors = ((i, t.bind_processor(dialect)) for i, t in enumerate(types))
    return _InsertPlan(compiled[0].string, compiled[1].string,
                       tuple((i, p) for i, p in processors if p is not None))


async def complete_records(store: Store, outcomes: list[dict[str, object]]) -> None:
    """Fill in records written before their call was forwarded: ``id`` and the outcome (status,
    duration, bytes each way; for a session its kind, start and end), several in one statement."""
    column = models.AuditEntry
    # A session's kind, start and end are kept when an outcome does not say them.
    statement = update(column).where(column.id == bindparam("record_id")).values(
        **{name: func.coalesce(bindparam(name), getattr(column, name)) if name in _KEPT else bindparam(name)
           for name in OUTCOME})
    rows = [{"record_id": o["id"], **{name: o.get(name) for name in OUTCOME}} for o in outcomes]

    def update_all(connection: Connection) -> None:
        connection.execute(statement, rows)
    await store.write(update_all)


# The fields known once a call is answered: what completing a record fills in.
OUTCOME = ("status", "duration_ms", "bytes_in", "bytes_out", "kind", "started", "ended")
_KEPT = frozenset({"kind", "started", "ended"})


async def latest_records(store: Store, where: AuditFilter, limit: int | None) -> list[AuditRecord]:
    """The newest ``limit`` matching records (all when None), oldest first."""
    query = _select(where).order_by(models.AuditEntry.time.desc(), models.AuditEntry.id.desc())
    if limit is not None:
        query = query.limit(limit)
    async with store.session() as session:
        entries = list(await session.scalars(query))
    return [_record(e) for e in reversed(entries)]


async def stream_records(store: Store, where: AuditFilter) -> AsyncIterator[AuditRecord]:
    """Every matching record, oldest first, read in batches rather than all at once."""
    query = _select(where).order_by(models.AuditEntry.time, models.AuditEntry.id)
    async with store.session() as session:
        result = await session.stream_scalars(query.execution_options(yield_per=500))
        async for entry in result:
            yield _record(entry)


def _select(where: AuditFilter) -> Select[models.AuditEntry]:
    column = models.AuditEntry
    query = select(column)
    for name, value in asdict(where).items():
        if value is None:
            continue
        if name == "since":
            query = query.where(column.time >= value)
        elif name == "until":
            query = query.where(column.time < value)
        else:
            query = query.where(getattr(column, name) == value)
    return query


def _record(entry: models.AuditEntry) -> AuditRecord:
    return AuditRecord(id=entry.id, **{name: getattr(entry, name) for name in _COLUMNS})
