"""Where a gateway request goes: which host, which API version, which engine path.

Pure functions, no I/O (like h11). The engine decodes percent-escapes and answers 301 for a path that
is not clean (``//``, ``/./``, ``/../``); the gateway does the same *before* deciding anything, and
forwards the canonical encoding of the decoded path, so it decides on exactly the path the engine acts on.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, unquote, urlsplit

_VERSION = re.compile(r"^/v([0-9.]+)(/.*)?$")
_SAFE = "/:@!$&'()*+,;=-._~"
HOSTS_PREFIX = "/hosts"


class TargetError(ValueError):
    def __init__(self, status: int, message: str, location: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.location = location


@dataclass(frozen=True)
class Target:
    host: str | None  # from a /hosts/{name} prefix; None means the default host
    version: str | None  # as written, e.g. "1.41"; None when unversioned
    path: str  # decoded and clean, without prefix or version, e.g. "/containers/json"
    query: str  # raw query string, without "?"
    listing: bool = False  # GET /hosts itself

    def engine_target(self, query: str | None = None) -> str:
        """The request target sent to the engine (query replaced when given)."""
        version = f"/v{self.version}" if self.version is not None else ""
        q = self.query if query is None else query
        return version + quote(self.path, safe=_SAFE) + (f"?{q}" if q else "")

    @property
    def version_tuple(self) -> tuple[int, ...] | None:
        return version_tuple(self.version) if self.version is not None else None


def is_dashboard_target(method: bytes, raw: bytes, accept: bytes | None) -> bool:
    """Whether a request is for the dashboard: anything under ``/ui/``, and a browser asking for
    ``/`` (``Accept: text/html``), which no Docker API client sends (the engine answers it 404)."""
    if raw.startswith(b"/ui"):  # every API request passes here: no splitting, no copies
        return raw[3:4] in (b"", b"/", b"?")
    if raw == b"/" or raw.startswith(b"/?"):
        return method in (b"GET", b"HEAD") and b"text/html" in (accept or b"")
    return False


def version_tuple(version: str) -> tuple[int, ...]:
    """Numeric comparison, as the engine does: 1.41.0 == 1.41 and 01.41 == 1.41."""
    parts = [int(p) for p in version.split(".") if p != ""]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


@lru_cache(maxsize=4096)  # pollers ask for the same targets again and again; errors are not kept
def parse_target(raw: str) -> Target:
    """Split a request target into host, version and engine path; raises :class:`TargetError`."""
    if raw.startswith(("http://", "https://")):  # absolute-form, allowed by HTTP/1.1
        parts = urlsplit(raw)
        raw = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not raw.startswith("/"):
        raise TargetError(400, f"invalid request target {raw!r}")
    raw_path, _, query = raw.partition("?")
    try:
        path = unquote(raw_path, errors="strict") if "%" in raw_path else raw_path
    except UnicodeDecodeError:  # no engine route, name or id holds such bytes
        raise TargetError(400, "invalid request path: its percent-escapes are not UTF-8") from None
    if "\x00" in path:
        raise TargetError(400, "invalid request path")
    clean = clean_path(path)
    if clean != path:
        location = quote(clean, safe=_SAFE) + (f"?{query}" if query else "")
        raise TargetError(301, "moved permanently", location=location)
    host = None
    if path == HOSTS_PREFIX or path.startswith(HOSTS_PREFIX + "/"):
        rest = path[len(HOSTS_PREFIX):]
        if rest in ("", "/"):
            return Target(None, None, path, query, listing=True)
        name, slash, remainder = rest[1:].partition("/")
        host, path = name, slash + remainder or "/"
    version = None
    match = _VERSION.match(path)
    if match:
        version, path = match.group(1), match.group(2) or "/"
        try:
            version_tuple(version)
        except ValueError:
            raise TargetError(400, f"invalid API version {version!r}") from None
    return Target(host, version, path, query)


def clean_path(path: str) -> str:
    """Go's path.Clean as gorilla/mux applies it: keep a trailing slash, resolve dots and '//'."""
    if not path:
        return "/"
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    if path.endswith("/") and cleaned != "/":
        cleaned += "/"
    return cleaned
