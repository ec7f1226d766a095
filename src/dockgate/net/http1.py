"""HTTP/1.1 message heads and body framing for a relay, with no I/O in it (fed bytes, like h11).

The gateway forwards bodies as the bytes they arrived in and rewrites only heads, so what it needs is
a strict head parser and the exact end of each body, not a full HTTP state machine. Heads are parsed
by httptools (llhttp, the parser of Node.js, in C): it rejects what request smuggling relies on
(Content-Length beside Transfer-Encoding, duplicate lengths, bad tokens) at a twentieth of h11's
cost, which was half the gateway's CPU per request. Bodies are delimited here (length, chunks, or the
connection's end) so that bytes after a body stay with the next message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TypeVar

import httptools

from dockgate.net.chunked import ChunkedError, ChunkedScanner

MAX_HEAD = 64 * 1024
# Headers about one connection, not the message: never forwarded (RFC 9110 7.6.1). Body framing
# (Content-Length, Transfer-Encoding) is kept, since bodies are forwarded as they are.
HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"upgrade",
                        b"expect", b"proxy-authenticate", b"proxy-authorization"})
_BARE_LF = re.compile(rb"(?<!\r)\n")
_Parser = TypeVar("_Parser", httptools.HttpRequestParser, httptools.HttpResponseParser)


class HTTPError(ValueError):
    """Not acceptable HTTP/1.x; ``status`` is the answer a client gets."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def head_end(buf: bytes | bytearray) -> int:
    """Offset just past the blank line that ends a head, or -1 if it has not all arrived. A bare
    ``\\n\\n`` counts too: Go's server (the engine) accepts heads typed with plain newlines."""
    crlf = buf.find(b"\r\n\r\n")
    lf = buf.find(b"\n\n", 0, crlf if crlf >= 0 else len(buf))
    if lf >= 0:
        return lf + 2
    return crlf + 4 if crlf >= 0 else -1


def header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The first value of header ``name`` (lower case), as sent."""
    for key, value in headers:
        if len(key) == len(name) and key.lower() == name:
            return value
    return None


def _tokens(value: bytes | None) -> set[bytes]:
    return {t.strip().lower() for t in value.split(b",")} if value else set()


class _Head:
    """Header lookups of a head: names in lower case to their first value, indexed once, since a
    request's head is asked a dozen times on its way through the gateway."""

    __slots__ = ()
    headers: list[tuple[bytes, bytes]]
    _index: dict[bytes, bytes]

    def __post_init__(self) -> None:
        # The dataclass subclasses declare the _index slot; this base has none of its own.
        self._index = {k.lower(): v for k, v in reversed(self.headers)}  # type: ignore[misc]

    def get(self, name: bytes) -> bytes | None:
        """The first value of header ``name`` (lower case)."""
        return self._index.get(name)


@dataclass(slots=True)
class RequestHead(_Head):
    method: bytes
    target: bytes
    version: bytes  # b"1.1" or b"1.0"
    headers: list[tuple[bytes, bytes]]
    _index: dict[bytes, bytes] = field(init=False, repr=False, compare=False)

    @property
    def keep_alive(self) -> bool:
        """Whether the client will send another request on this connection."""
        connection = _tokens(self.get(b"connection"))
        if self.version == b"1.0":
            return b"keep-alive" in connection
        return b"close" not in connection

    @property
    def upgrade(self) -> bytes | None:
        """The protocol asked for with ``Connection: Upgrade`` (attach/exec ``tcp``, BuildKit ``h2c``)."""
        value = self.get(b"upgrade")
        return value if value and b"upgrade" in _tokens(self.get(b"connection")) else None

    @property
    def expects_continue(self) -> bool:
        return self.version == b"1.1" and (self.get(b"expect") or b"").lower() == b"100-continue"


@dataclass(slots=True)
class ResponseHead(_Head):
    version: bytes
    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    _index: dict[bytes, bytes] = field(init=False, repr=False, compare=False)

    @property
    def keep_alive(self) -> bool:
        connection = _tokens(self.get(b"connection"))
        return b"close" not in connection and (self.version != b"1.0" or b"keep-alive" in connection)


class _Collector:
    """httptools callbacks: the parts of a head."""

    __slots__ = ("headers", "reason", "url")

    def __init__(self) -> None:
        self.url = b""
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))


def _parse(parser_type: type[_Parser], head: bytes, what: str) -> tuple[_Collector, _Parser]:
    if head.count(b"\n") != head.count(b"\r\n"):  # some line ends with a bare newline
        head = _BARE_LF.sub(b"\r\n", head)
    collector = _Collector()
    parser = parser_type(collector)
    try:
        parser.feed_data(head)
    except httptools.HttpParserUpgrade:
        pass  # the head is complete; what follows is the caller's business
    except httptools.HttpParserError as exc:
        raise HTTPError(f"invalid {what}: {exc}") from None
    return collector, parser


def parse_request_head(head: bytes) -> RequestHead:
    """``head`` ends with its blank line (see :func:`head_end`); raises :class:`HTTPError`."""
    collector, parser = _parse(httptools.HttpRequestParser, head, "request")
    version = parser.get_http_version().encode()
    if version not in (b"1.1", b"1.0"):
        raise HTTPError(f"unsupported HTTP version {version.decode()}", 505)
    return RequestHead(parser.get_method(), collector.url, version, collector.headers)


def parse_response_head(head: bytes) -> ResponseHead:
    collector, parser = _parse(httptools.HttpResponseParser, head, "response")
    return ResponseHead(parser.get_http_version().encode(), parser.get_status_code(), collector.reason,
                        collector.headers)


class Body:
    """Where one message body ends in a byte stream: no body, a length, chunks, or the connection's
    end (``until_eof``: only a response without framing, the HTTP/1.0 way)."""

    __slots__ = ("_chunks", "_left", "done", "until_eof")

    def __init__(self, *, length: int = 0, chunked: bool = False, until_eof: bool = False) -> None:
        self._left = length
        self._chunks = ChunkedScanner() if chunked else None
        self.until_eof = until_eof
        self.done = not (length or chunked or until_eof)

    @property
    def chunked(self) -> bool:
        return self._chunks is not None

    def feed(self, data: bytes | bytearray, payload: list[bytes | bytearray] | None = None) -> int:
        """How many bytes of ``data`` belong to the body; decoded payload goes to ``payload``."""
        if self._chunks is not None:
            try:
                used = self._chunks.feed(data, payload)
            except ChunkedError as exc:
                raise HTTPError(f"invalid chunked body: {exc}") from None
            self.done = self._chunks.done
            return used
        if self.until_eof:
            if payload is not None:
                payload.append(data)
            return len(data)
        used = min(self._left, len(data))
        if payload is not None and used:
            payload.append(data[:used])
        self._left -= used
        self.done = not self._left
        return used


def request_body(head: RequestHead) -> Body:
    """The framing of a request's body; anything ambiguous is refused, since a proxy that reads a
    body differently from the engine behind it can be smuggled past."""
    coding = head.get(b"transfer-encoding")
    if coding is not None:
        if coding.strip().lower() != b"chunked":
            raise HTTPError(f"unsupported transfer coding {coding.decode('latin-1')!r}", 501)
        return Body(chunked=True)
    return Body(length=_content_length(head.get(b"content-length")))


def response_body(head: ResponseHead, request_method: bytes) -> Body:
    if request_method == b"HEAD" or head.status < 200 or head.status in (204, 304):
        return Body()
    coding = head.get(b"transfer-encoding")
    if coding is not None:
        return Body(chunked=True) if coding.strip().lower() == b"chunked" else Body(until_eof=True)
    length = head.get(b"content-length")
    return Body(length=_content_length(length)) if length is not None else Body(until_eof=True)


def _content_length(value: bytes | None) -> int:
    if value is None:
        return 0
    if not value.strip().isdigit():
        raise HTTPError(f"invalid Content-Length {value[:20].decode('latin-1')!r}")
    return int(value)


def forwardable(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` without hop-by-hop ones, including those the Connection header names."""
    named = _tokens(header(headers, b"connection"))
    return [(k, v) for k, v in headers if (low := k.lower()) not in HOP_BY_HOP and low not in named]


def is_relayable_as_sent(head: ResponseHead, raw: bytes) -> bool:
    """Whether a response head's bytes (``raw``) can be forwarded unchanged: HTTP/1.1, every line
    ending in CRLF, no hop-by-hop header and none the Connection header names (so none at all)."""
    return (head.version == b"1.1" and HOP_BY_HOP.isdisjoint(head._index)
            and raw.count(b"\n") == raw.count(b"\r\n"))


def _header_lines(headers: list[tuple[bytes, bytes]]) -> bytes:
    return b"".join(k + b": " + v + b"\r\n" for k, v in headers)


def request_bytes(method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    return b"%s %s HTTP/1.1\r\n%s\r\n" % (method, target, _header_lines(headers))


def response_bytes(status: int, reason: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    return b"HTTP/1.1 %d %s\r\n%s\r\n" % (status, reason, _header_lines(headers))


REASONS = {100: b"Continue", 200: b"OK", 301: b"Moved Permanently", 400: b"Bad Request",
           401: b"Unauthorized", 403: b"Forbidden", 404: b"Not Found", 405: b"Method Not Allowed",
           413: b"Content Too Large", 431: b"Request Header Fields Too Large",
           500: b"Internal Server Error", 501: b"Not Implemented", 502: b"Bad Gateway",
           505: b"HTTP Version Not Supported"}
