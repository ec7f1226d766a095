"""Opening the store: one URL in, an engine with the schema in place out.

SQLite runs in WAL mode with ``synchronous=FULL``, so a commit has reached the disk when it returns:
the gateway relies on that to write an audit record before it forwards a mutating request. Its file
is created owner-only, since it holds token digests and request bodies.

The schema is created on open (``create_all``, which only adds missing tables); migrations of
existing tables come with the first change to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from dockgate.store.errors import StoreUnavailable
from dockgate.store.models import Base
from dockgate.store.url import default_url, display_url, normalize_url, sqlite_path

# How long a SQLite writer waits for another one (another process, or the gateway) to finish.
_SQLITE_BUSY_MS = 5000
# Errors that mean "the database cannot be reached or written", whatever the driver.
DATABASE_ERRORS = (SQLAlchemyError, OSError, TimeoutError)
T = TypeVar("T")


class Store:
    """An open database: sessions for reads and occasional changes, :meth:`write` for the gateway's
    frequent small ones (audit records), and closing at the end."""

    def __init__(self, engine: AsyncEngine, url: str) -> None:
        self.engine = engine
        self.url = url
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        path = sqlite_path(url)
        self._writer: _ThreadWriter | _KeptWriter = _ThreadWriter(path) if path else _KeptWriter(engine)

    @property
    def display_url(self) -> str:
        return display_url(self.url)

    def session(self) -> AsyncSession:
        return self._sessions()

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` (plain SQLAlchemy Core on a sync connection) in a transaction, and commit.

        Writes queue for one kept connection, as SQLite makes them anyway. A write that fails
        leaves that connection in doubt: it is dropped, and the next write opens another.
        """
        return await self._writer.write(work)

    async def close(self) -> None:
        await self._writer.close()
        await self.engine.dispose()


class _ThreadWriter:
    """SQLite: each write is one hop to a thread of its own, where a plain (pysqlite) connection
    runs the whole transaction. Through aiosqlite the cursor, each statement and the commit crossed
    threads one by one: four hops, 0.94 ms per durable audit record back to back, which a mutating
    request waits for before it is forwarded; here 0.5 ms. A write whose caller stops waiting (a
    timeout) still completes."""

    def __init__(self, path: Path) -> None:
        self._engine = create_engine(f"sqlite+pysqlite:///{path}", poolclass=NullPool)
        event.listen(self._engine, "connect", _sqlite_pragmas)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="dockgate-store-writer")
        self._connection: Connection | None = None  # used in the thread only

    async def write(self, work: Callable[[Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._write, work)

    def _write(self, work: Callable[[Connection], T]) -> T:
        connection = self._connection
        if connection is None:
            connection = self._connection = self._engine.connect()
        try:
            result = work(connection)
            connection.commit()
            return result
        except BaseException:
            self._drop()
            raise

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(*DATABASE_ERRORS):
                connection.close()

    async def close(self) -> None:
        """After the writes already queued."""
        await asyncio.get_running_loop().run_in_executor(self._thread, self._drop)
        self._thread.shutdown()
        self._engine.dispose()


class _KeptWriter:
    """PostgreSQL: writes on one kept connection of the async engine. A session per write, with a
    pool checkout, a reset and ORM bookkeeping, cost twice the CPU of the insert itself. A kept
    connection the server has closed meanwhile (a restart) is replaced once, as the pool's
    pre-ping would."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._writing = asyncio.Lock()

    async def write(self, work: Callable[[Connection], T]) -> T:
        async with self._writing:
            kept = self._connection is not None and not self._connection.closed
            try:
                return await self._write_once(work)
            except DBAPIError as exc:
                if not (kept and exc.connection_invalidated):
                    raise
            return await self._write_once(work)

    async def _write_once(self, work: Callable[[Connection], T]) -> T:
        if self._connection is None or self._connection.closed:
            self._connection = await self._engine.connect()
        try:
            result = await self._connection.run_sync(work)
            await self._connection.commit()
            return result
        except BaseException:  # cancelled or failed: the connection is in doubt
            connection, self._connection = self._connection, None
            with contextlib.suppress(*DATABASE_ERRORS):
                await asyncio.shield(connection.close())
            raise

    async def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(*DATABASE_ERRORS):
                await self._connection.close()
            self._connection = None


async def open_store(url: str | None = None, *, env: Mapping[str, str] | None = None) -> Store:
    """Open (creating if needed) the store at ``url``, by default the SQLite file of :func:`default_url`.

    Raises :class:`StoreUnavailable` naming the URL (password hidden) when it cannot be opened.
    """
    url = normalize_url(url or default_url(env))
    path = sqlite_path(url)
    if path is not None:
        _create_private_file(url, path)
    engine = create_async_engine(url, pool_pre_ping=path is None)
    if path is not None:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
    except DATABASE_ERRORS as exc:
        await engine.dispose()
        raise StoreUnavailable(f"cannot open the store {display_url(url)}: {describe(exc)}") from exc
    return Store(engine, url)


def describe(exc: BaseException) -> str:
    """The driver's own words for a database failure, without SQLAlchemy's SQL echo and links."""
    origin = getattr(exc, "orig", None) or exc
    text = str(origin).strip() or type(origin).__name__
    return text.splitlines()[0]


def _create_private_file(url: str, path: Path) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    except PermissionError:
        return  # a read-only store still serves reads; writes fail with their own message
    except OSError as exc:
        raise StoreUnavailable(f"cannot open the store {url}: {exc.strerror}: {path}") from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                   f"busy_timeout={_SQLITE_BUSY_MS}"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()
