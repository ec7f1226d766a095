"""Raw HTTP/1.1 connections to one engine, for the gateway's relay.

The gateway forwards bytes it has not parsed into objects (streams, hijacked sessions), which no
client library does, so this module opens the sockets itself and keeps idle keep-alive connections
for reuse. Errors are the same :class:`EngineError` types as :mod:`dockgate.engines.client` raises.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import asyncssh
import h11

from dockgate.engines.endpoint import Endpoint
from dockgate.engines.errors import EngineUnreachable, from_connection_error
from dockgate.net.ssh import SSHDialer
from dockgate.net.streams import ByteStream, open_tcp, open_unix

MAX_IDLE = 64
CONNECT_TIMEOUT = 10.0


@dataclass(eq=False)
class WireConnection:
    """A socket to the engine and the h11 client state machine that frames it."""

    stream: ByteStream
    http: h11.Connection = field(default_factory=lambda: h11.Connection(h11.CLIENT))

    def reusable(self) -> bool:
        return self.http.our_state is h11.DONE and self.http.their_state is h11.DONE


class EngineWire:
    """Connections to one endpoint. Not thread-safe; one per event loop."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._ssh = SSHDialer(endpoint.url) if endpoint.scheme == "ssh" else None
        self._ssl = endpoint.tls.ssl_context() if endpoint.uses_tls and endpoint.tls else (
            ssl.create_default_context() if endpoint.uses_tls else None)
        self._idle: list[WireConnection] = []

    async def acquire(self) -> tuple[WireConnection, bool]:
        """A connection and whether it was reused (a reused one may have been closed by the engine)."""
        while self._idle:
            conn = self._idle.pop()
            return conn, True
        return await self.connect(), False

    async def connect(self) -> WireConnection:
        url = self.endpoint.url
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                if self._ssh is not None:
                    stream: ByteStream = await self._ssh.open()
                elif self.endpoint.scheme == "unix":
                    stream = await open_unix(url[len("unix://"):])
                else:
                    parts = urlsplit(self.endpoint.client_url())
                    stream = await open_tcp(parts.hostname or "", parts.port or 2375, tls=self._ssl)
        except TimeoutError as exc:
            raise EngineUnreachable(f"cannot reach the engine at {url}: timed out",
                                    host=self.endpoint.name) from exc
        except (OSError, ssl.SSLError) as exc:
            raise from_connection_error(exc, host=self.endpoint.name, url=url) from exc
        except asyncssh.Error as exc:
            raise EngineUnreachable(f"cannot reach the engine at {url}: ssh: {exc.reason}",
                                    host=self.endpoint.name) from exc
        return WireConnection(stream)

    def release(self, conn: WireConnection) -> None:
        """Return a finished connection for reuse, or close it."""
        if conn.reusable() and len(self._idle) < MAX_IDLE:
            conn.http.start_next_cycle()
            self._idle.append(conn)
        else:
            conn.stream.close()

    def close(self) -> None:
        for conn in self._idle:
            conn.stream.close()
        self._idle.clear()
        if self._ssh is not None:
            self._ssh.close()
