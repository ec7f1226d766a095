"""Opening the store: one URL in, an engine with the schema in place out.

SQLite runs in WAL mode with ``synchronous=FULL``, so a commit has reached the disk when it returns:
the gateway relies on that to write an audit record before it forwards a mutating request. Its file
is created owner-only, since it holds token digests and request bodies.

The schema is created on open (``create_all``, which only adds missing tables); migrations of
existing tables come with the first change to them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from dockgate.store.errors import StoreUnavailable
from dockgate.store.models import Base
from dockgate.store.url import default_url, display_url, normalize_url, sqlite_path

# How long a SQLite writer waits for another one (another process, or the gateway) to finish.
_SQLITE_BUSY_MS = 5000
# Errors that mean "the database cannot be reached or written", whatever the driver.
DATABASE_ERRORS = (SQLAlchemyError, OSError, TimeoutError)


class Store:
    """An open database: hand out sessions, close at the end."""

    def __init__(self, engine: AsyncEngine, url: str) -> None:
        self.engine = engine
        self.url = url
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    @property
    def display_url(self) -> str:
        return display_url(self.url)

    def session(self) -> AsyncSession:
        return self._sessions()

    async def close(self) -> None:
        await self.engine.dispose()


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
