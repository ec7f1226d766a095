"""The store for one CLI command: found from the configuration, opened, closed, and its refusals
turned into the CLI's exit codes (2 for a request that does not fit the data, 1 when the database
cannot be reached or written).

SQLAlchemy and the database drivers take about 0.4 s to import, so they are imported only by the
commands that use the store, never by every ``dockgate`` call.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import typer

from dockgate.cli import output, session
from dockgate.config.file import ConfigError

if TYPE_CHECKING:
    from dockgate.store.database import Store

T = TypeVar("T")


def with_store(work: Callable[[Store], Awaitable[T]]) -> T:
    """Run ``work`` on the configured store (``$DOCKGATE_STORE_URL``, ``[store] url``, or the
    default SQLite file)."""
    from sqlalchemy.exc import SQLAlchemyError

    from dockgate.store.database import describe, open_store
    from dockgate.store.errors import StoreError, StoreUnavailable
    from dockgate.store.url import display_url

    url = session.load_config().store.resolved_url(os.environ)

    async def run() -> T:
        store = await open_store(url)
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return session.run(run())
    except StoreUnavailable as exc:
        output.error(str(exc))
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:
        output.error(f"the store {display_url(url)} cannot be used: {describe(exc)}")
        raise typer.Exit(1) from None
    except StoreError as exc:
        raise ConfigError(str(exc)) from None
