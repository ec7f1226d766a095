"""``dockgate audit``: read the audit trail, as a table, JSON, or JSON Lines for export.

``--since``/``--until`` take what ``docker events`` takes (RFC 3339 dates, unix seconds, or
durations before now such as ``1h``). The store and SQLAlchemy are imported inside the command
(see :mod:`dockgate.cli.store_session`).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from dockgate.cli import output
from dockgate.cli.store_session import with_store
from dockgate.engines.time_values import to_engine_time

if TYPE_CHECKING:
    from dockgate.access.audit import AuditRecord
    from dockgate.store.audit_records import Decision
    from dockgate.store.database import Store

DEFAULT_LIMIT = 100


class AuditFormat(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"


class DecisionChoice(StrEnum):
    allow = "allow"
    deny = "deny"


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)


def audit(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user's requests.")] = None,
    host: Annotated[str | None, typer.Option("--host", "-H", help="Only requests to this host.")] = None,
    since: Annotated[str | None, typer.Option(
        help="From this time on (2024-01-31, 2024-01-31T13:45:00Z, 1706708700, or 10m, 2h before now).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (same forms as --since).")] = None,
    operation: Annotated[str | None, typer.Option(
        help="Only this Engine API operation, e.g. ContainerCreate.")] = None,
    decision: Annotated[DecisionChoice | None, typer.Option(help="allow or deny.")] = None,
    limit: Annotated[int | None, typer.Option(
        min=1, help=f"The newest N records (default {DEFAULT_LIMIT}; jsonl exports all unless given).")
    ] = None,
    fmt: Annotated[AuditFormat, typer.Option("--format", help="table, json, or jsonl (one JSON object "
                                                               "per line, for export)")] = AuditFormat.table,
) -> None:
    """Show who did what through the gateway, allowed or denied, oldest first."""
    from dockgate.access.audit import AuditLog, jsonl_line, record_json

    chosen: Decision | None = decision.value if decision else None
    since_at, until_at = _moment(since, "since"), _moment(until, "until")

    if fmt is AuditFormat.jsonl and limit is None:
        async def export(store: Store) -> int:
            return await AuditLog(store).export_jsonl(sys.stdout, user=user, host=host, operation=operation,
                                                      decision=chosen, since=since_at, until=until_at)

        with_store(export)
        return

    async def query(store: Store) -> list[AuditRecord]:
        return await AuditLog(store).query(user=user, host=host, operation=operation, decision=chosen,
                                           since=since_at, until=until_at, limit=limit or DEFAULT_LIMIT)

    records = with_store(query)
    if fmt is AuditFormat.json:
        output.print_json([record_json(r) for r in records])
    elif fmt is AuditFormat.jsonl:
        sys.stdout.writelines(jsonl_line(r) for r in records)
    else:
        output.print_table(
            ("TIME", "USER", "SOURCE", "HOST", "REQUEST", "OPERATION", "DECISION", "RULE", "STATUS",
             "DURATION", "IN/OUT"),
            ((f"{r.time.astimezone():%Y-%m-%d %H:%M:%S}", r.user or "-", r.source, r.host or "",
              f"{r.method} {r.path}", r.operation, r.decision, r.rule, r.status or "",
              _duration(r.duration_ms), f"{output.human_size(r.bytes_in)}/{output.human_size(r.bytes_out)}")
             for r in records))


def _moment(value: str | None, param: str) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(float(to_engine_time(value, param=f"--{param}")), UTC)


def _duration(ms: float | None) -> str:
    return "" if ms is None else f"{ms:.0f}ms" if ms >= 10 else f"{ms:.1f}ms"
