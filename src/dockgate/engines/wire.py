"""Raw HTTP/1.1 connections to one engine, for the gateway's relay.

The gateway forwards bytes it has not parsed into objects (streams, hijacked sessions), which no
client library does, so this module opens the sockets itself and keeps idle keep-alive connections
for reuse. Errors are the same :class:`EngineError` types as :mod:`dockgate.engines.client` raises.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import h11

from dockgate.engines.endpoint import Endpoint
from dockgate.engines.errors import (
    Conflict,
    EngineAPIError,
    EngineUnreachable,
    NotFound,
    from_connection_error,
)
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
        """Finished cleanly: both sides DONE, or a fresh parser after :meth:`restart`."""
        states = (self.http.our_state, self.http.their_state)
        return states in ((h11.DONE, h11.DONE), (h11.IDLE, h11.IDLE))

    def restart(self, *, clean: bool) -> None:
        """After a response body relayed past h11 (see gateway/chunked.py): a fresh parser for the
        next request, or, when bytes followed the body, a connection nobody reuses."""
        if clean:
            self.http = h11.Connection(h11.CLIENT)
        else:
            self.http.send_failed()  # not reusable any more
            self.stream.close()


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
        if self._idle:
            return self._idle.pop(), True
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
        return WireConnection(stream)

    def release(self, conn: WireConnection) -> None:
        """Return a finished connection for reuse, or close it."""
        if conn.reusable() and len(self._idle) < MAX_IDLE:
            if conn.http.our_state is h11.DONE:
                conn.http.start_next_cycle()
            self._idle.append(conn)
        else:
            conn.stream.close()

    async def hijack(self, target: str, body: bytes) -> tuple[ByteStream, bytes]:
        """POST ``target`` asking for a raw stream (attach, exec start), as the docker CLI does.

        Returns the connection's stream and any stream bytes that arrived with the engine's head;
        an error status becomes the engine's own message.
        """
        conn = await self.connect()
        headers = [(b"Host", b"docker"), (b"Content-Type", b"application/json"),
                   (b"Content-Length", str(len(body)).encode()),
                   (b"Connection", b"Upgrade"), (b"Upgrade", b"tcp")]
        request = h11.Request(method=b"POST", target=(self.endpoint.path_prefix + target).encode(),
                              headers=headers)
        try:
            conn.stream.write(conn.http.send(request) + conn.http.send(h11.Data(data=body))
                              + conn.http.send(h11.EndOfMessage()))
            await conn.stream.drain()
            while (event := conn.http.next_event()) is h11.NEED_DATA:
                conn.http.receive_data(await conn.stream.read())
        except (OSError, h11.ProtocolError) as exc:
            conn.stream.close()
            raise EngineUnreachable(f"lost the connection to the engine: {exc}",
                                    host=self.endpoint.name) from exc
        if isinstance(event, h11.InformationalResponse | h11.Response) and (
                event.status_code == 101 or event.status_code == 200):
            return conn.stream, conn.http.trailing_data[0]
        message = await _error_message(conn)
        conn.stream.close()
        status = getattr(event, "status_code", 502)
        raise (NotFound if status == 404 else Conflict if status == 409 else EngineAPIError)(
            status, message, host=self.endpoint.name)

    def close(self) -> None:
        for conn in self._idle:
            conn.stream.close()
        self._idle.clear()
        if self._ssh is not None:
            self._ssh.close()


async def _error_message(conn: WireConnection) -> str:
    """The ``message`` of an engine's JSON error body (or the body itself)."""
    body = b""
    try:
        while True:
            event = conn.http.next_event()
            if event is h11.NEED_DATA:
                conn.http.receive_data(await conn.stream.read())
            elif isinstance(event, h11.Data):
                body += event.data
            else:
                break
    except (OSError, h11.ProtocolError):
        pass
    try:
        return str(json.loads(body)["message"])
    except (ValueError, KeyError, TypeError):
        return body.decode("utf-8", "replace").strip() or "no answer"
