"""The dashboard as a companion of the gateway's process: served on a private socket, which the
gateway's listeners relay browser requests to, so one address serves both."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from aiohttp import web

from dockgate.dashboard.app import build_app
from dockgate.dashboard.services import Services
from dockgate.gateway.server import Gateway
from dockgate.store.database import Store


class Dashboard:
    def __init__(self, *, session_lifetime: timedelta = timedelta(hours=12)) -> None:
        self.session_lifetime = session_lifetime
        self._runner: web.AppRunner | None = None

    async def start(self, gateway: Gateway, store: Store, private: Path) -> None:
        api = private / "api.sock"
        await gateway.start_private(api)
        self._runner = web.AppRunner(build_app(Services(gateway, store, api, self.session_lifetime)),
                                     access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        socket = private / "dashboard.sock"
        await web.UnixSite(self._runner, str(socket)).start()
        gateway.serve_dashboard(socket)

    def describe(self, gateway: Gateway) -> str:
        address = gateway.listen.tcp_address()
        if address is None:
            return "dashboard: no TCP listener to serve it on"
        host = "127.0.0.1" if address[0] in ("0.0.0.0", "::", "") else address[0]
        host = f"[{host}]" if ":" in host else host
        scheme = "https" if gateway.listen.tls else "http"
        return f"dashboard at {scheme}://{host}:{gateway.tcp_port}/ (sign in with a password or a token)"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
