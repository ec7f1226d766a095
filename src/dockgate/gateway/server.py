"""The gateway process: listeners (unix socket, TCP, TLS), engines by name, access log, shutdown."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import ssl
import stat
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockgate.access.audit import DEFAULT_SECRET_PATTERNS, AuditLog, AuditRecord
from dockgate.access.body import DEFAULT_LIMIT
from dockgate.access.engine_lookup import WireLookup
from dockgate.access.gatekeeper import Caller, Gatekeeper
from dockgate.access.identity import Authenticator
from dockgate.access.policy_table import PolicyTable
from dockgate.access.roles import Role
from dockgate.config.hosts import HostBook
from dockgate.engines.client import EngineClient
from dockgate.engines.container_query import ContainerListQuery
from dockgate.engines.endpoint import Endpoint, EndpointError
from dockgate.engines.fleet import on_each
from dockgate.engines.wire import EngineWire
from dockgate.gateway.access_log import AccessLog
from dockgate.gateway.connection import ClientConnection, Exchange
from dockgate.net.streams import PlainStream, TLSStream

log = logging.getLogger("dockgate.gateway")
DEFAULT_PORT = 6732
FINISH_DELAY = 0.01  # seconds an answered request's log line and audit record may wait


class ListenerError(Exception):
    """A listener that must not or cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class TLSServerFiles:
    cert: Path
    key: Path
    client_ca: Path | None = None  # when set, clients must present a certificate it signed

    def context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            ctx.load_cert_chain(str(self.cert), str(self.key))
            if self.client_ca:
                ctx.load_verify_locations(cafile=str(self.client_ca))
                ctx.verify_mode = ssl.CERT_REQUIRED
        except (OSError, ssl.SSLError) as exc:
            raise ListenerError(f"cannot load the gateway's TLS files: {exc}") from exc
        return ctx


@dataclass(frozen=True)
class ListenSpec:
    """Where to listen. ``tcp`` is "host:port"; plain TCP off loopback needs ``allow_plaintext``."""

    unix: Path | None = None
    tcp: str | None = f"127.0.0.1:{DEFAULT_PORT}"
    tls: TLSServerFiles | None = None
    allow_plaintext: bool = False

    def tcp_address(self) -> tuple[str, int] | None:
        if not self.tcp:
            return None
        host, sep, port = self.tcp.rpartition(":")
        if not sep:
            host, port = self.tcp, str(DEFAULT_PORT)
        host = host.strip("[]") or "0.0.0.0"
        try:
            return host, int(port)
        except ValueError:
            raise ListenerError(f"invalid listen address {self.tcp!r}: use HOST:PORT") from None

    def check(self) -> list[str]:
        """Refuse an unsafe setup; returns warnings for an accepted but risky one."""
        address = self.tcp_address()
        if address is None or self.tls is not None:
            return []
        if is_loopback(address[0]):
            return []
        if not self.allow_plaintext:
            raise ListenerError(
                f"refusing to serve the Docker API in plaintext on {address[0]}:{address[1]}: anyone who "
                "reaches it is root on the engines' hosts. Use TLS (--tls-cert/--tls-key/--tls-client-ca), "
                "listen on 127.0.0.1, or pass --insecure-plaintext if you accept that risk.")
        return [f"serving the Docker API WITHOUT TLS on {address[0]}:{address[1]}: traffic and control "
                "of every engine are open to anyone on the network"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine's loopback: where plain TCP is safe to
    serve, and where browsers keep a Secure cookie over plain HTTP."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class AccessSetup:
    """What the gatekeeper needs besides the engines: who is who, roles, policy, the audit log."""

    authenticator: Authenticator
    roles: Mapping[str, Role]
    policies: PolicyTable
    audit: AuditLog
    body_limit: int = DEFAULT_LIMIT
    secret_patterns: Sequence[str] = DEFAULT_SECRET_PATTERNS


@dataclass
class Gateway:
    book: HostBook
    listen: ListenSpec
    access: AccessSetup
    shutdown_grace: float = 10.0
    revocation_interval: float = 2.0
    wires: dict[str, EngineWire] = field(init=False)
    gatekeeper: Gatekeeper = field(init=False)
    default_host: str = field(init=False)
    # Where browser requests go (the dashboard's private socket), when a dashboard runs.
    dashboard_wire: EngineWire | None = field(init=False, default=None)
    _servers: list[asyncio.base_events.Server] = field(init=False, default_factory=list)
    _connections: dict[asyncio.Task[None], ClientConnection] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.wires = {}
        for name, endpoint in self.book.endpoints.items():
            try:
                self.wires[name] = EngineWire(endpoint)
            except EndpointError as exc:
                raise ListenerError(f"host {name}: {exc}") from exc
        self.default_host = self.book.default
        self.audit = self.access.audit
        self.gatekeeper = Gatekeeper(self.access.authenticator, self.access.roles, self.access.policies,
                                     WireLookup(self.wires), body_limit=self.access.body_limit,
                                     secret_patterns=self.access.secret_patterns)
        self._revocation: asyncio.Task[None] | None = None
        self.access_log = AccessLog()
        self._finished: list[tuple[Caller, Exchange, str, float]] = []
        self._finish_timer: asyncio.TimerHandle | None = None
        self._private: list[Path] = []

    async def start(self) -> list[str]:
        """Start every listener; returns the addresses, as URLs a docker client takes."""
        self._revocation = asyncio.get_running_loop().create_task(self._end_revoked_streams())
        warnings = self.listen.check()
        for warning in warnings:
            log.warning(warning)
        tls = self.listen.tls.context() if self.listen.tls else None
        urls = []
        if self.listen.unix:
            path = self.listen.unix
            if path.exists() and stat.S_ISSOCK(path.stat().st_mode):
                path.unlink()
            path.parent.mkdir(parents=True, exist_ok=True)
            loop = asyncio.get_running_loop()
            server = await loop.create_unix_server(lambda: PlainStream(self._serve), path=str(path))
            os.chmod(path, 0o660)
            self._servers.append(server)
            urls.append(f"unix://{path}")
        address = self.listen.tcp_address()
        if address:
            handler = self._serve if tls is None else self._tls_acceptor(tls)
            try:
                server = await asyncio.get_running_loop().create_server(
                    lambda: PlainStream(handler), address[0], address[1], reuse_address=True)
            except OSError as exc:
                raise ListenerError(f"cannot listen on {address[0]}:{address[1]}: {exc.strerror}") from exc
            self._servers.append(server)
            port = server.sockets[0].getsockname()[1]
            urls.append(f"tcp://{address[0]}:{port}" + (" (TLS)" if tls else ""))
        return urls

    async def start_private(self, path: Path) -> None:
        """The socket the dashboard reaches the engines through, as its users, in a folder only
        this process may enter. Its connections are never taken for root (see ClientConnection)."""
        server = await asyncio.get_running_loop().create_unix_server(
            lambda: PlainStream(self._serve_dashboard), path=str(path))
        os.chmod(path, 0o600)
        self._private.append(path)
        self._servers.append(server)

    def serve_dashboard(self, socket_path: Path) -> None:
        """Relay browser requests (``/``, ``/ui/...``) to the dashboard listening on ``socket_path``."""
        self.dashboard_wire = EngineWire(Endpoint("dashboard", f"unix://{socket_path}"))

    @property
    def tcp_port(self) -> int | None:
        for server in self._servers:
            for sock in server.sockets:
                if sock.family.name in ("AF_INET", "AF_INET6"):
                    return sock.getsockname()[1]
        return None

    def _tls_acceptor(self, context: ssl.SSLContext) -> Callable[[PlainStream], Coroutine[Any, Any, None]]:
        async def accept(raw: PlainStream) -> None:
            stream = TLSStream(raw, context, server_side=True)
            try:
                await asyncio.wait_for(stream.handshake(), timeout=30)
            except (ssl.SSLError, ConnectionError, OSError, TimeoutError) as exc:
                log.info("TLS handshake from %s failed: %s", raw.extra("peername"), exc)
                raw.close()
                return
            await self._serve(stream)
        return accept

    async def _serve_dashboard(self, stream: PlainStream | TLSStream) -> None:
        await self._serve(stream, dashboard=True)

    async def _serve(self, stream: PlainStream | TLSStream, *, dashboard: bool = False) -> None:
        task = asyncio.current_task()
        assert task is not None
        conn = ClientConnection(stream, self, dashboard=dashboard)
        self._connections[task] = conn
        try:
            await conn.run()
        finally:
            self._connections.pop(task, None)

    async def host_listing(self) -> list[dict[str, Any]]:
        """``GET /hosts``: every engine, its state and versions (unreachable ones within 2 s)."""
        endpoints: Sequence[Endpoint] = list(self.book.endpoints.values())

        async def probe(engine: EngineClient) -> dict[str, Any]:
            version = await engine.version()
            return {"Version": version.get("Version"), "ApiVersion": version.get("ApiVersion")}

        results = await on_each(endpoints, probe, connect_timeout=2.0)
        return [{"Name": r.endpoint.name, "URL": r.endpoint.url,
                 "Default": r.endpoint.name == self.default_host, "State": "up" if r.ok else "down",
                 **(r.value or {}),
                 **({"Error": r.error.message} if r.error else {})} for r in results]

    async def resolve_list_references(self, host: str, query: ContainerListQuery) -> ContainerListQuery:
        async with EngineClient(self.book.endpoints[host]) as engine:
            return await engine.resolve_list_references(query)

    # -- access -------------------------------------------------------------------------------
    def _record(self, caller: Caller, exchange: Exchange, seconds: float | None = None) -> AuditRecord:
        """The record of ``exchange``; with its outcome once answered (in ``seconds``)."""
        answered = seconds is not None
        return self.gatekeeper.record(
            caller, time=exchange.time, user=exchange.user, host=exchange.host, method=exchange.method,
            path=exchange.path, operation=exchange.operation, decision=exchange.decision, rule=exchange.rule,
            body=exchange.audit_body, status=exchange.status or None,
            duration_ms=round(seconds * 1000, 3) if seconds is not None else None,
            bytes_in=exchange.received if answered else 0, bytes_out=exchange.sent if answered else 0,
            kind=exchange.kind, started=exchange.started, ended=exchange.ended)

    async def audit_before(self, caller: Caller, exchange: Exchange) -> int:
        """The durable record of a mutating call, written before it is forwarded."""
        return await self.audit.record(self._record(caller, exchange))

    def finish(self, caller: Caller, exchange: Exchange, peer: str, seconds: float) -> None:
        """Queue the access-log line and the audit record (or outcome) of an answered request.

        They are written by :meth:`write_finished` when a next request has gone to its engine, or
        within ``FINISH_DELAY``: a client that sends its next request as soon as it has an answer
        would otherwise wait for this bookkeeping, which the engine's time hides.
        """
        self._finished.append((caller, exchange, peer, seconds))
        if self._finish_timer is None:
            self._finish_timer = asyncio.get_running_loop().call_later(FINISH_DELAY, self.write_finished)

    def write_finished(self) -> None:
        if self._finish_timer is not None:
            self._finish_timer.cancel()
            self._finish_timer = None
        finished, self._finished = self._finished, []
        for caller, exchange, peer, seconds in finished:
            self.access_log.write(exchange, peer, seconds)
            if not exchange.audited:
                continue
            answered = self._record(caller, exchange, seconds)
            if exchange.audit_id is None:
                self.audit.later(answered)
            else:
                self.audit.complete_later(exchange.audit_id, answered)

    async def _end_revoked_streams(self) -> None:
        """Every few seconds, end the requests in progress (streams, sessions) of callers whose
        token was revoked or expired or whose user was disabled since they started."""
        while True:
            await asyncio.sleep(self.revocation_interval)
            for conn in list(self._connections.values()):
                identity = conn.identity
                if conn.busy and identity is not None and not await self.gatekeeper.still_valid(identity):
                    log.info("ending a request of %s: credentials no longer valid", identity.user)
                    conn.abort()

    async def close(self) -> None:
        """Stop accepting, give open requests and streams a bounded time, then end them."""
        if self._revocation is not None:
            self._revocation.cancel()
        for server in self._servers:
            server.close()
        for task, conn in list(self._connections.items()):
            if not conn.busy:  # idle keep-alive connections have nothing to finish
                task.cancel()
        if self._connections:
            log.info("waiting up to %.0f s for %d open requests", self.shutdown_grace, len(self._connections))
            _, pending = await asyncio.wait(set(self._connections), timeout=self.shutdown_grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for wire in self.wires.values():
            wire.close()
        if self.dashboard_wire is not None:
            self.dashboard_wire.close()
        for path in self._private:
            path.unlink(missing_ok=True)
        self.write_finished()
        await self.audit.flush()
        self.access_log.flush()
        if self.listen.unix and self.listen.unix.exists():
            self.listen.unix.unlink()
