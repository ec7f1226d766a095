"""Raw HTTP/1.1 connections to one engine, for the gateway's relay.

The gateway forwards bytes it has not parsed into objects (streams, hijacked sessions), which no
client library does, so this module opens the sockets itself and keeps idle keep-alive connections
for reuse. Errors are the same :class:`EngineError` types as :mod:`dockgate.engines.client` raises.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from dockgate.engines.endpoint import Endpoint
from dockgate.engines.errors import (
    Conflict,
    EngineAPIError,
    EngineUnreachable,
    NotFound,
    from_connection_error,
)
from dockgate.net.http1 import (
    MAX_HEAD,
    HTTPError,
    ResponseHead,
    head_end,
    parse_response_head,
    request_bytes,
    response_body,
)
from dockgate.net.ssh import SSHDialer
from dockgate.net.streams import ByteStream, open_tcp, open_unix

MAX_IDLE = 64
CONNECT_TIMEOUT = 10.0


@dataclass(eq=False)
class WireConnection:
    """A socket to the engine, the bytes read past the last response head, and whether the socket
    may carry another request (the response ended exactly where its framing said)."""

    stream: ByteStream
    buf: bytearray = field(default_factory=bytearray)
    reusable: bool = True

    async def read_head(self, read: Callable[[], Awaitable[bytes]] | None = None,
                        ) -> tuple[ResponseHead, bytes]:
        """The next response head, skipping interim ``100 Continue`` ones; returns it with its bytes
        as sent. ``read`` replaces the stream's own read (the gateway's watches its client too)."""
        while True:
            while (end := head_end(self.buf)) < 0:
                if len(self.buf) > MAX_HEAD:
                    raise HTTPError("response head too large")
                data = await (read() if read else self.stream.read())
                if not data:
                    raise ConnectionResetError("the engine closed the connection without answering")
                self.buf += data
            raw = bytes(self.buf[:end])
            del self.buf[:end]
            head = parse_response_head(raw)
            if not (100 <= head.status < 200) or head.status == 101:
                self.reusable = self.reusable and head.keep_alive
                return head, raw

    async def read_body(self, head: ResponseHead, method: bytes = b"GET", *, limit: int = 16 << 20,
                        read: Callable[[], Awaitable[bytes]] | None = None) -> bytes:
        """A whole (short) response body, decoded from its framing; the connection stays reusable
        when the body ended where its framing said. Raises HTTPError past ``limit`` bytes or when
        the engine hangs up early."""
        framing = response_body(head, method)
        payload: list[bytes | bytearray] = []
        data, size = bytes(self.buf), 0
        self.buf.clear()
        while True:
            used = framing.feed(data, payload)
            size += used
            if used < len(data):
                self.reusable = False
            if framing.done:
                return b"".join(payload)
            if size > limit:
                raise HTTPError(f"the engine's answer is larger than {limit} bytes")
            data = await (read() if read else self.stream.read())
            if not data:
                self.reusable = False
                if framing.until_eof:
                    return b"".join(payload)
                raise HTTPError("the engine closed the connection mid-answer")


class EngineWire:
    """Connections to one endpoint. Not thread-safe; one per event loop."""

    def __init__(self, endpoint: Endpoint, *, headers: Mapping[str, str] | None = None) -> None:
        self.endpoint = endpoint
        self._headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
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
        if conn.reusable and not conn.buf and len(self._idle) < MAX_IDLE:
            self._idle.append(conn)
        else:
            conn.stream.close()

    async def get_json(self, target: str) -> tuple[int, Any]:
        """``GET target`` on a pooled connection: the status and the decoded JSON body (None when the
        body is not JSON). For the gateway's own questions to an engine (whose is this container?)."""
        conn, reused = await self.acquire()
        request = request_bytes(b"GET", (self.endpoint.path_prefix + target).encode(),
                                [(b"Host", b"docker"), *self._headers])
        try:
            try:
                conn.stream.write(request)
                await conn.stream.drain()
                head, _ = await conn.read_head()
            except OSError:  # a pooled connection the engine closed meanwhile: once more, fresh
                conn.stream.close()
                if not reused:
                    raise
                conn = await self.connect()
                conn.stream.write(request)
                await conn.stream.drain()
                head, _ = await conn.read_head()
            body = await conn.read_body(head)
        except (OSError, HTTPError) as exc:
            conn.stream.close()
            raise EngineUnreachable(f"lost the connection to the engine: {exc}",
                                    host=self.endpoint.name) from exc
        self.release(conn)
        try:
            return head.status, json.loads(body)
        except ValueError:
            return head.status, None

    async def hijack(self, target: str, body: bytes) -> tuple[ByteStream, bytes]:
        """POST ``target`` asking for a raw stream (attach, exec start), as the docker CLI does.

        Returns the connection's stream and any stream bytes that arrived with the engine's head;
        an error status becomes the engine's own message.
        """
        conn = await self.connect()
        headers = [(b"Host", b"docker"), (b"Content-Type", b"application/json"),
                   (b"Content-Length", str(len(body)).encode()),
                   (b"Connection", b"Upgrade"), (b"Upgrade", b"tcp"), *self._headers]
        try:
            conn.stream.write(request_bytes(b"POST", (self.endpoint.path_prefix + target).encode(), headers)
                              + body)
            await conn.stream.drain()
            head, _ = await conn.read_head()
            if head.status in (101, 200):
                return conn.stream, bytes(conn.buf)
            message = await _error_message(conn, head)
        except (OSError, HTTPError) as exc:
            conn.stream.close()
            raise EngineUnreachable(f"lost the connection to the engine: {exc}",
                                    host=self.endpoint.name) from exc
        conn.stream.close()
        raise (NotFound if head.status == 404 else Conflict if head.status == 409 else EngineAPIError)(
            head.status, message, host=self.endpoint.name)

    def close(self) -> None:
        for conn in self._idle:
            conn.stream.close()
        self._idle.clear()
        if self._ssh is not None:
            self._ssh.close()


async def _error_message(conn: WireConnection, head: ResponseHead) -> str:
    """The ``message`` of an engine's JSON error body (or the body itself)."""
    try:
        body = await conn.read_body(head, b"POST", limit=65536)
    except HTTPError as exc:
        return str(exc)
    try:
        return str(json.loads(body)["message"])
    except (ValueError, KeyError, TypeError):
        return body.decode("utf-8", "replace").strip() or "no answer"
