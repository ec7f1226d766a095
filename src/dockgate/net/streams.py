"""One byte-stream interface over plain sockets and over TLS, with half-close carried both ways.

The Docker API's hijacked connections need half-close: ``docker exec c ls`` shuts its write side
right after the 101 and still expects every byte of output. asyncio's own TLS transport closes the
whole connection when the peer sends close_notify, so TLS runs here on an ``ssl.SSLObject`` with
memory BIOs, and close_notify is mapped to read-EOF (and ``write_eof`` to sending close_notify).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, cast

READ_SIZE = 256 * 1024


class ByteStream(Protocol):
    async def read(self, n: int = READ_SIZE) -> bytes:
        """Up to ``n`` bytes; ``b""`` once the peer has finished sending."""
        ...

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None:
        """Wait while the peer is slower than us (backpressure)."""
        ...

    def write_eof(self) -> None:
        """Half-close: we send no more, the peer may."""
        ...

    def close(self) -> None: ...

    async def wait_closed(self) -> None: ...

    def extra(self, name: str) -> Any: ...


class PlainStream(asyncio.Protocol):
    """A socket as a :class:`ByteStream`, on asyncio's protocol API.

    asyncio's StreamReader copies every read through a buffer and costs several calls and a new
    future per read; on the gateway's path (four reads and writes per relayed request) that was a
    third of its CPU. Here a waiting read is handed the received bytes directly, and a read that
    finds bytes waiting returns them without a future. Reading pauses above ``READ_SIZE`` buffered.
    """

    def __init__(self, on_connect: Callable[[PlainStream], Coroutine[Any, Any, None]] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._on_connect = on_connect
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._eof = False
        self._lost = False
        self._reading_paused = False
        self._writing_paused = False
        self._read_waiter: asyncio.Future[bytes] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._hangup: Callable[[], None] | None = None
        self._closed: asyncio.Future[None] = self._loop.create_future()

    # -- protocol callbacks ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        if self._on_connect is not None:  # a server's connection: serve it in its own task
            self._loop.create_task(self._on_connect(self))

    def data_received(self, data: bytes) -> None:
        waiter = self._read_waiter
        if waiter is not None and not waiter.done():
            self._read_waiter = None
            waiter.set_result(data)
            return
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > READ_SIZE and not self._reading_paused and self._transport is not None:
            self._reading_paused = True
            self._transport.pause_reading()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake_reader()
        self._hung_up()
        return True  # half-close: keep the transport open for writing

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = self._lost = True
        self._wake_reader()
        self._hung_up()
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if not self._closed.done():
            self._closed.set_result(None)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _hung_up(self) -> None:
        callback, self._hangup = self._hangup, None
        if callback is not None:
            callback()

    def _wake_reader(self) -> None:
        waiter = self._read_waiter
        if waiter is not None and not waiter.done():
            self._read_waiter = None
            waiter.set_result(b"")

    # -- ByteStream -----------------------------------------------------------------------------
    async def read(self, n: int = READ_SIZE) -> bytes:
        if self._chunks:
            data = self._chunks.popleft()
            if len(data) > n:
                self._chunks.appendleft(data[n:])
                data = data[:n]
            self._buffered -= len(data)
            if self._reading_paused and self._buffered <= READ_SIZE // 2 and self._transport is not None:
                self._reading_paused = False
                self._transport.resume_reading()
            return data
        if self._eof:
            return b""
        waiter = self._read_waiter = self._loop.create_future()
        try:
            data = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.result():
                self._chunks.appendleft(waiter.result())  # handed over as we were cancelled: keep it
                self._buffered += len(waiter.result())
            raise
        if len(data) > n:
            self._chunks.appendleft(data[n:])
            self._buffered += len(data) - n
            data = data[:n]
        return data

    def on_hangup(self, callback: Callable[[], None] | None) -> None:
        """Have ``callback`` called once when the peer ends its side or the connection is lost, at
        once if that has happened; None cancels it. Noticing a client that leaves while its answer
        streams this way costs nothing per read; a task reading the client cost a sixth of the
        gateway's CPU per container listing, whose answer often arrives in two reads."""
        self._hangup = callback
        if self._eof:
            self._hung_up()

    def write(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    async def drain(self) -> None:
        if self._lost:
            raise ConnectionResetError("connection lost")
        if self._writing_paused:
            self._drain_waiter = self._loop.create_future()
            await self._drain_waiter
            if self._lost:
                raise ConnectionResetError("connection lost")

    def write_eof(self) -> None:
        transport = self._transport
        if transport is not None and not transport.is_closing() and transport.can_write_eof():
            with contextlib.suppress(OSError):
                transport.write_eof()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    async def wait_closed(self) -> None:
        await self._closed

    def extra(self, name: str) -> Any:
        return self._transport.get_extra_info(name) if self._transport is not None else None


class TLSStream:
    """TLS over a :class:`PlainStream`, with close_notify as half-close instead of full close."""

    def __init__(self, raw: PlainStream, context: ssl.SSLContext, *, server_side: bool,
                 server_hostname: str | None = None) -> None:
        self._raw = raw
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._ssl = context.wrap_bio(self._in, self._out, server_side=server_side,
                                     server_hostname=server_hostname)
        self._eof = False

    async def handshake(self) -> None:
        while True:
            try:
                self._ssl.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                await self._raw.drain()
                data = await self._raw.read()
                if not data:
                    raise ConnectionResetError("connection closed during the TLS handshake") from None
                self._in.write(data)
            except ssl.SSLError:
                # Send the alert (e.g. "unknown CA") so the peer learns why, instead of a bare EOF.
                self._flush()
                await self._raw.drain()
                raise
        self._flush()
        await self._raw.drain()

    def _flush(self) -> None:
        pending = self._out.read()
        if pending:
            self._raw.write(pending)

    async def read(self, n: int = READ_SIZE) -> bytes:
        while not self._eof:
            try:
                data = self._ssl.read(n)
                if data:
                    return data
                self._eof = True  # a zero-length read is EOF
            except ssl.SSLWantReadError:
                self._flush()  # TLS 1.3 may have something to send back (e.g. key updates)
                incoming = await self._raw.read()
                if incoming:
                    self._in.write(incoming)
                else:
                    self._in.write_eof()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                self._eof = True  # close_notify, or the socket ended without one
            except ssl.SSLError:
                self._eof = True
        return b""

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = self._ssl.write(view)
            view = view[written:]
            self._flush()

    async def drain(self) -> None:
        await self._raw.drain()

    def on_hangup(self, callback: Callable[[], None] | None) -> None:
        """As :meth:`PlainStream.on_hangup`, for the connection under TLS."""
        self._raw.on_hangup(callback)

    def write_eof(self) -> None:
        """Send close_notify and keep reading: OpenSSL allows reads after its own shutdown alert."""
        with contextlib.suppress(ssl.SSLWantReadError, ssl.SSLError):
            self._ssl.unwrap()
        self._flush()

    def close(self) -> None:
        self._raw.close()

    async def wait_closed(self) -> None:
        await self._raw.wait_closed()

    def extra(self, name: str) -> Any:
        if name == "peercert":
            return self._ssl.getpeercert()
        if name == "ssl_object":
            return self._ssl
        return self._raw.extra(name)


async def open_unix(path: str) -> PlainStream:
    _, stream = await asyncio.get_running_loop().create_unix_connection(PlainStream, path)
    return stream


async def open_tcp(host: str, port: int, *, tls: ssl.SSLContext | None = None,
                   server_hostname: str | None = None) -> ByteStream:
    _, plain = await asyncio.get_running_loop().create_connection(PlainStream, host, port)
    if tls is None:
        return plain
    stream = TLSStream(plain, tls, server_side=False, server_hostname=server_hostname or host)
    try:
        await stream.handshake()
    except BaseException:
        plain.close()
        raise
    return stream
