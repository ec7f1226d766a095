"""The dashboard's only way to an engine: an Engine API client aimed at the gateway's private socket,
carrying the signed-in person's session token and their browser's address.

So each call is identified, authorised, scoped, policed and audited by the gateway exactly as a
``docker`` CLI call would be, and a button that a page shows by mistake still cannot do more than
its user may. Refusals come back as the gateway's own 401/403 answers (:class:`EngineAPIError`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from dockgate.dashboard.auth import SESSION
from dockgate.dashboard.services import services
from dockgate.engines.client import EngineClient
from dockgate.engines.endpoint import Endpoint
from dockgate.engines.errors import EngineAPIError, EngineError

T = TypeVar("T")
HOST_TIMEOUT = 5.0  # a host that takes longer is reported as such; the others are shown


@asynccontextmanager
async def engine(request: web.Request, host: str) -> AsyncIterator[EngineClient]:
    """A client for ``host`` as the signed-in user; 404 for a host this user cannot see.

    Each host's API version is learnt once: aiodocker would otherwise ask ``GET /version`` before
    every page's first call (and the audit trail would record it).
    """
    srv = services(request)
    session = request[SESSION]
    if host not in srv.hosts or not srv.gatekeeper.may_see_host(session.identity, host):
        raise web.HTTPNotFound(text=f"no such host: {host}")
    endpoint = Endpoint(host, f"unix://{srv.api_socket}", prefix=f"/hosts/{host}")
    client = EngineClient(endpoint, api_version=srv.api_versions.get(host),
                          headers={"Authorization": f"Bearer {session.token}",
                                   "X-Dockgate-Source": f"{session.source} (dashboard)"})
    async with client:
        try:
            yield client
        finally:
            if client.api_version:
                srv.api_versions[host] = client.api_version


def visible_hosts(request: web.Request, wanted: Sequence[str] = ()) -> list[str]:
    """The hosts the user may see, narrowed to ``wanted`` when given."""
    srv = services(request)
    identity = request[SESSION].identity
    return [h for h in srv.hosts if srv.gatekeeper.may_see_host(identity, h) and (not wanted or h in wanted)]


@dataclass
class HostOutcome:
    host: str
    value: Any = None
    error: str | None = None
    status: int | None = None

    def json(self) -> dict[str, Any]:
        return {"host": self.host, "error": self.error, "status": self.status}


async def on_hosts(request: web.Request, hosts: Sequence[str],
                   work: Callable[[EngineClient], Awaitable[T]]) -> list[HostOutcome]:
    """``work`` on every host at once, each bounded in time; one host's failure never hides another's."""

    async def one(host: str) -> HostOutcome:
        try:
            async with asyncio.timeout(HOST_TIMEOUT), engine(request, host) as client:
                return HostOutcome(host, await work(client))
        except TimeoutError:
            return HostOutcome(host, error=f"no answer within {HOST_TIMEOUT:.0f} s", status=504)
        except EngineAPIError as exc:
            return HostOutcome(host, error=exc.message, status=exc.status)
        except EngineError as exc:
            return HostOutcome(host, error=exc.message, status=502)

    return list(await asyncio.gather(*(one(h) for h in hosts)))


def status_of(exc: EngineError) -> int:
    """The status a page reports for ``exc``: the engine's or the gateway's own, 502 when none answered."""
    return exc.status if isinstance(exc, EngineAPIError) else 502


def error_response(exc: EngineError) -> web.Response:
    """An engine's or the gateway's refusal, as JSON the pages show next to what was tried."""
    status = status_of(exc)
    return web.json_response({"message": getattr(exc, "message", str(exc)), "host": exc.host}, status=status)
