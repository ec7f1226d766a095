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
from typing import Any, Protocol

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


class PlainStream:
    """An asyncio socket stream."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, n: int = READ_SIZE) -> bytes:
        try:
            return await self._reader.read(n)
        except (ConnectionResetError, BrokenPipeError):
            return b""

    def write(self, data: bytes) -> None:
        if not self._writer.is_closing():
            self._writer.write(data)

    async def drain(self) -> None:
        await self._writer.drain()

    def write_eof(self) -> None:
        if not self._writer.is_closing() and self._writer.can_write_eof():
            with contextlib.suppress(OSError):
                self._writer.write_eof()

    def close(self) -> None:
        self._writer.close()

    async def wait_closed(self) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()

    def extra(self, name: str) -> Any:
        return self._writer.get_extra_info(name)


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
    reader, writer = await asyncio.open_unix_connection(path, limit=READ_SIZE)
    return PlainStream(reader, writer)


async def open_tcp(host: str, port: int, *, tls: ssl.SSLContext | None = None,
                   server_hostname: str | None = None) -> ByteStream:
    reader, writer = await asyncio.open_connection(host, port, limit=READ_SIZE)
    plain = PlainStream(reader, writer)
    if tls is None:
        return plain
    stream = TLSStream(plain, tls, server_side=False, server_hostname=server_hostname or host)
    try:
        await stream.handshake()
    except BaseException:
        plain.close()
        raise
    return stream
