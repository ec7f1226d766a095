"""Store URLs: which database, written the way people write them, turned into the driver we use.

Kept free of SQLAlchemy so the configuration can validate ``[store] url`` without paying for the
import on every CLI call.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ENV_VAR = "DOCKGATE_STORE_URL"
_SQLITE = "sqlite+aiosqlite"
_POSTGRES = "postgresql+asyncpg"
_ALIASES = {"sqlite": _SQLITE, _SQLITE: _SQLITE,
            "postgresql": _POSTGRES, "postgres": _POSTGRES, _POSTGRES: _POSTGRES}
_HINT = "use sqlite:////path/to/dockgate.db or postgresql://user:password@host:5432/dbname"


class StoreURLError(ValueError):
    """A store URL that names no database we can use."""


def normalize_url(url: str) -> str:
    """``url`` with the async driver we use (``sqlite`` → aiosqlite, ``postgresql`` → asyncpg)."""
    scheme, sep, rest = url.partition("://")
    driver = _ALIASES.get(scheme.lower())
    if not sep or driver is None:
        raise StoreURLError(f"unsupported store URL {display_url(url)!r}: {_HINT}")
    if driver == _SQLITE and rest.lstrip("/").split("?")[0] in ("", ":memory:"):
        raise StoreURLError(f"store URL {url!r} names no file: an in-memory database would lose "
                            f"every user, token and audit record at exit; {_HINT}")
    if driver == _POSTGRES and not urlsplit(url).hostname and "host=" not in rest:
        raise StoreURLError(f"store URL {display_url(url)!r} names no server; {_HINT}")
    return f"{driver}://{rest}"


def default_url(env: Mapping[str, str] | None = None) -> str:
    """A SQLite file in ``$XDG_DATA_HOME/dockgate/`` (``~/.local/share/dockgate/``)."""
    env = os.environ if env is None else env
    base = Path(env.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"{_SQLITE}:///{(base / 'dockgate' / 'dockgate.db').absolute()}"


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, None for other databases."""
    scheme, _, rest = url.partition("://")
    if _ALIASES.get(scheme.lower()) != _SQLITE:
        return None
    return Path(rest.split("?")[0][1:])


def display_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, fit for messages and logs."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
