"""One client connection: HTTP/1.1 requests parsed with h11, forwarded to engines, keep-alive reused,
and hijacked sessions handed to the relay.

The loop is deliberately thin: deciding where a request goes (target.py), what the seed's parameters
mean (legacy.py) and how raw sessions flow (relay.py) live elsewhere.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import h11

from dockgate.engines.container_query import BadParameter
from dockgate.engines.errors import EngineError
from dockgate.engines.wire import EngineWire, WireConnection
from dockgate.gateway.chunked import ChunkedError, ChunkedScanner
from dockgate.gateway.legacy import is_container_list, parse_container_list_query
from dockgate.gateway.relay import relay
from dockgate.gateway.request_head import MAX_HEAD, ensure_host, head_end
from dockgate.gateway.target import Target, TargetError, parse_target
from dockgate.net.streams import ByteStream

if TYPE_CHECKING:
    from dockgate.gateway.server import Gateway

access_log = logging.getLogger("dockgate.access")

HOP_BY_HOP = {b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer",
              b"transfer-encoding", b"upgrade", b"expect"}
RAW_STREAM_TYPES = (b"application/vnd.docker.raw-stream", b"application/vnd.docker.multiplexed-stream")


class ClientGone(Exception):
    """The client closed the connection in the middle of a request."""


@dataclass
class Exchange:
    """What the access log records about one request."""

    method: str
    path: str
    host: str = "-"
    status: int = 0
    sent: int = 0
    received: int = 0


class ClientConnection:
    def __init__(self, stream: ByteStream, gateway: Gateway) -> None:
        self.stream = stream
        self.gateway = gateway
        self.http = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        self.peer = _peer_name(stream)
        self.busy = False  # inside a request: graceful shutdown lets it finish
        self._watcher: asyncio.Task[None] | None = None
        self._request_done = self._first_read_done = False

    # -- reading from the client ----------------------------------------------------------------
    async def next_event(self) -> h11.Event | type[h11.PAUSED]:
        while True:
            event = self.http.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = await self.stream.read()
            if self.http.their_state is h11.IDLE and data:
                data = await self._complete_head(bytearray(data))
            self.http.receive_data(data)

    async def _complete_head(self, buf: bytearray) -> bytes:
        """Read up to the end of a request head and fix it up (request_head.py) before h11 sees it."""
        while (end := head_end(buf)) < 0 and len(buf) < MAX_HEAD:
            more = await self.stream.read()
            if not more:
                return bytes(buf)
            buf += more
        if end < 0:
            return bytes(buf)
        return ensure_host(bytes(buf[:end])) + bytes(buf[end:])

    # -- writing to the client ------------------------------------------------------------------
    async def send(self, *events: h11.Event, before: bytes = b"") -> int:
        """Frame ``events`` and write them, after ``before``, in one write: each write is a
        system call that also wakes the reader, the largest cost of a short relayed answer."""
        data = before + b"".join(self.http.send(event) or b"" for event in events)
        if data:
            self.stream.write(data)
        await self.stream.drain()
        return len(data)

    async def send_json(self, exchange: Exchange, status: int, body: object,
                        extra: list[tuple[bytes, bytes]] | None = None) -> None:
        payload = json.dumps(body).encode() + b"\n"
        headers = [(b"Content-Type", b"application/json"), (b"Content-Length", str(len(payload)).encode()),
                   *(extra or [])]
        exchange.status = status
        exchange.sent += await self.send(h11.Response(status_code=status, headers=headers),
                                         h11.Data(data=payload), h11.EndOfMessage())

    async def skip_body(self) -> bool:
        """Read and drop the rest of a request body we answered without forwarding."""
        while True:
            event = await self.next_event()
            if isinstance(event, h11.EndOfMessage):
                return True
            if not isinstance(event, h11.Data):
                return False

    # -- the loop -------------------------------------------------------------------------------
    async def run(self) -> None:
        try:
            while True:
                try:
                    event = await self.next_event()
                except h11.RemoteProtocolError as exc:
                    await self._protocol_error(exc)
                    return
                if not isinstance(event, h11.Request):
                    return
                self.busy = True
                keep = await self.handle(event)
                self.busy = False
                if not keep or self.http.our_state is not h11.DONE or self.http.their_state is not h11.DONE:
                    return
                self.http.start_next_cycle()
        except (ClientGone, ConnectionError, OSError, h11.RemoteProtocolError):
            return
        except Exception:
            logging.getLogger("dockgate.gateway").exception("connection from %s failed", self.peer)
        finally:
            self.stream.close()

    async def _protocol_error(self, exc: h11.RemoteProtocolError) -> None:
        if self.http.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        payload = json.dumps({"message": f"bad request: {exc}"}).encode() + b"\n"
        self.stream.write(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                          b"Content-Length: " + str(len(payload)).encode() + b"\r\nConnection: close\r\n\r\n"
                          + payload)
        await self.stream.drain()

    async def handle(self, request: h11.Request) -> bool:
        started = time.perf_counter()
        method = request.method.decode("ascii", "replace")
        raw_target = request.target.decode("latin-1")
        exchange = Exchange(method, raw_target.partition("?")[0])
        if self.http.client_is_waiting_for_100_continue:
            await self.send(h11.InformationalResponse(status_code=100, headers=[]))
        try:
            return await self._route(request, method, raw_target, exchange)
        finally:
            self.gateway.log_exchange(exchange, self.peer, time.perf_counter() - started)

    async def _route(self, request: h11.Request, method: str, raw_target: str, exchange: Exchange) -> bool:
        try:
            target = parse_target(raw_target)
        except TargetError as exc:
            location = [(b"Location", exc.location.encode())] if exc.location else []
            await self.send_json(exchange, exc.status, {"message": exc.message}, location)
            return await self.skip_body()
        exchange.path = target.path
        if target.listing:
            if method not in ("GET", "HEAD"):
                await self.send_json(exchange, 405, {"message": "only GET is allowed on /hosts"})
            else:
                await self.send_json(exchange, 200, await self.gateway.host_listing())
            return await self.skip_body()
        host = target.host or self.gateway.default_host
        exchange.host = host
        wire = self.gateway.wires.get(host)
        if wire is None:
            known = ", ".join(self.gateway.wires) or "none"
            await self.send_json(exchange, 404, {"message": f"no such host: {host} (known: {known})"})
            return await self.skip_body()
        query = target.query
        if is_container_list(method, target.path):
            try:
                parsed = parse_container_list_query(query)
                if parsed.references():
                    parsed = await self.gateway.resolve_list_references(host, parsed)
                query = urlencode(parsed.engine_params())
            except BadParameter as exc:
                await self.send_json(exchange, 400, {"message": str(exc)})
                return await self.skip_body()
            except EngineError as exc:
                await self.send_json(exchange, 502, {"message": str(exc)})
                return await self.skip_body()
        return await self._forward(request, target, query, wire, exchange)

    # -- forwarding -----------------------------------------------------------------------------
    async def _forward(self, request: h11.Request, target: Target, query: str, wire: EngineWire,
                       exchange: Exchange) -> bool:
        headers = [(k, v) for k, v in request.headers.raw_items() if k.lower() not in HOP_BY_HOP]
        if _header(request, b"transfer-encoding"):  # h11 needs the framing to re-encode the body
            headers.append((b"Transfer-Encoding", b"chunked"))
        if _header(request, b"host") is None:  # HTTP/1.0 clients may omit it; the engine needs one
            headers.append((b"Host", b"localhost"))
        upgrade = _header(request, b"upgrade")
        if upgrade:
            headers += [(b"Connection", b"Upgrade"), (b"Upgrade", upgrade)]
        upstream_target = wire.endpoint.path_prefix + target.engine_target(query)
        upstream_request = h11.Request(method=request.method, target=upstream_target.encode(),
                                       headers=headers, _parsed=True)  # see _relay_response
        bodyless = not _header(request, b"transfer-encoding") and \
            _header(request, b"content-length") in (None, b"0")
        # Most requests have no body: end the client's message here, no body pump needed.
        if bodyless and not isinstance(self.http.next_event(), h11.EndOfMessage):
            raise ClientGone()
        try:
            conn = await self._open(wire, upstream_request, complete=bodyless)
        except EngineError as exc:
            await self.send_json(exchange, 502, {"message": str(exc)})
            return True if bodyless else await self.skip_body()

        self._request_done, self._first_read_done = bodyless, False
        body = None if bodyless else asyncio.create_task(self._pump_request_body(conn, exchange))
        try:
            response = await self._upstream_event(conn)
            if isinstance(response, h11.InformationalResponse) and response.status_code != 101:
                response = await self._upstream_event(conn)  # 100 Continue: already answered ourselves
            if not isinstance(response, h11.InformationalResponse | h11.Response):
                raise EngineError("the engine closed the connection without answering", host=exchange.host)
            exchange.status = response.status_code
            if response.status_code == 101 or _is_raw_stream(response):
                if body:
                    await body
                await self._hijack(conn, response, exchange)
                return False
            if body:
                await body
            self._request_done = True
            await self._relay_response(conn, response, exchange)
        except EngineError as exc:
            if body:
                body.cancel()
            conn.stream.close()
            if self.http.our_state is h11.SEND_RESPONSE:
                await self.send_json(exchange, 502, {"message": str(exc)})
            return False
        except BaseException:
            if body:
                body.cancel()
            conn.stream.close()
            raise
        finally:
            await self._stop_watching()
        wire.release(conn)
        return True

    async def _open(self, wire: EngineWire, request: h11.Request, *, complete: bool) -> WireConnection:
        """Send the request head (and its end, when ``complete``); a pooled connection the engine
        closed meanwhile is replaced once."""
        conn, reused = await wire.acquire()
        try:
            await _send_head(conn, request, complete)
            return conn
        except (ConnectionError, OSError):
            conn.stream.close()
            if not reused:
                raise EngineError("the engine closed the connection", host=wire.endpoint.name) from None
        conn = await wire.connect()
        await _send_head(conn, request, complete)
        return conn

    async def _pump_request_body(self, conn: WireConnection, exchange: Exchange) -> None:
        while True:
            event = await self.next_event()
            if isinstance(event, h11.Data):
                exchange.received += len(event.data)
                conn.stream.write(conn.http.send(event))
                await conn.stream.drain()
            elif isinstance(event, h11.EndOfMessage):
                conn.stream.write(conn.http.send(h11.EndOfMessage()))
                await conn.stream.drain()
                return
            else:
                raise ClientGone()

    async def _watch_client(self) -> None:
        """Returns when the client closes; bytes it sends meanwhile (a pipelined request) are kept."""
        while data := await self.stream.read():
            self.http.receive_data(data)

    async def _relay_response(self, conn: WireConnection, response: h11.Response,
                              exchange: Exchange) -> None:
        headers = [(k, v) for k, v in response.headers.raw_items() if k.lower() not in HOP_BY_HOP]
        # _parsed: these headers came out of h11's parser, so h11 need not run its validating
        # regular expressions over them again (a measurable share of a short answer's cost).
        head = h11.Response(status_code=response.status_code, headers=headers, reason=response.reason,
                            _parsed=True)
        if (_header(response, b"transfer-encoding") == b"chunked" and exchange.method != "HEAD"
                and response.status_code not in (204, 304) and self.http.their_http_version == b"1.1"):
            await self._pass_chunked_through(conn, head, exchange)
            return
        pending = self.http.send(head) or b""
        if not conn.http.trailing_data[0]:  # no body at hand yet (e.g. /wait): the head goes now
            exchange.sent += await self.send(before=pending)
            pending = b""
        while True:
            event = await self._upstream_event(conn)
            if isinstance(event, h11.Data):
                exchange.sent += await self.send(event, before=pending)
                pending = b""
            elif isinstance(event, h11.EndOfMessage):
                exchange.sent += await self.send(h11.EndOfMessage(), before=pending)
                return
            else:
                raise EngineError("the engine closed the connection mid-response", host=exchange.host)

    async def _pass_chunked_through(self, conn: WireConnection, head: h11.Response,
                                    exchange: Exchange) -> None:
        """Relay the engine's chunked bytes as they are, one write per read (see chunked.py).

        h11 still frames the head and knows the message ended; the engine's connection gets a fresh
        h11 state for its next request, since its parser did not see the body.
        """
        pending = self.http.send(head) or b""  # h11 announces chunked framing itself
        scanner = ChunkedScanner()
        data = conn.http.trailing_data[0]
        while True:
            if data:
                try:
                    used = scanner.feed(data)
                except ChunkedError as exc:
                    raise EngineError(f"the engine sent an invalid chunked body: {exc}") from exc
                self.stream.write(pending + (data[:used] if used < len(data) else data))
                exchange.sent += len(pending) + used
                pending = b""
                await self.stream.drain()
                if scanner.done:
                    break
            if pending:  # the head must not wait for a body that may be long in coming
                exchange.sent += await self.send(before=pending)
                pending = b""
            data = await self._read_upstream(conn)
            if not data:
                raise EngineError("the engine closed the connection mid-response", host=exchange.host)
        self.http.send(h11.EndOfMessage())  # for h11's state only: the engine's last chunk went out
        conn.restart(clean=used == len(data))

    async def _upstream_event(self, conn: WireConnection) -> h11.Event:
        while True:
            try:
                event = conn.http.next_event()
            except h11.RemoteProtocolError as exc:
                raise EngineError(f"the engine sent an invalid response: {exc}") from exc
            if event is h11.NEED_DATA:
                conn.http.receive_data(await self._read_upstream(conn))
                continue
            if event is h11.PAUSED:
                raise EngineError("the engine switched protocols unexpectedly")
            return event  # type: ignore[return-value]

    async def _read_upstream(self, conn: WireConnection) -> bytes:
        """The engine's next bytes, while noticing a client that hangs up.

        Like Go's net/http, a read-EOF from the client after its request means it is gone: a
        ``logs -f`` follower that disconnects must not keep an engine stream open until the next
        line. Watching costs a task per read, so it starts only once the request is complete and
        the response has needed more than one read (a stream, not a short answer).
        """
        if self._watcher is None:
            if not self._request_done or not self._first_read_done:
                self._first_read_done = self._request_done
                return await _read(conn)
            self._watcher = asyncio.create_task(self._watch_client())
        reading = asyncio.ensure_future(_read(conn))
        done, _ = await asyncio.wait({reading, self._watcher}, return_when=asyncio.FIRST_COMPLETED)
        if reading in done:
            return reading.result()
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
        raise ClientGone()

    async def _stop_watching(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)  # its read must end first
            self._watcher = None

    async def _hijack(self, conn: WireConnection, response: h11.InformationalResponse | h11.Response,
                      exchange: Exchange) -> None:
        """Write the engine's head as it was sent, flushed on its own, then relay raw bytes."""
        head = [b"HTTP/1.1 %d %s\r\n" % (response.status_code, response.reason)]
        head += [k + b": " + v + b"\r\n" for k, v in response.headers.raw_items()]
        self.stream.write(b"".join(head) + b"\r\n")
        await self.stream.drain()
        engine_rest, _ = conn.http.trailing_data
        client_rest, client_closed = self.http.trailing_data
        if engine_rest:
            self.stream.write(engine_rest)
            await self.stream.drain()
        if client_rest:
            conn.stream.write(client_rest)
            await conn.stream.drain()
        if client_closed:
            conn.stream.write_eof()
        up, down = await relay(self.stream, conn.stream)
        exchange.received += up + len(client_rest)
        exchange.sent += down + len(engine_rest)
        conn.stream.close()


async def _read(conn: WireConnection) -> bytes:
    try:
        return await conn.stream.read()
    except (ConnectionError, OSError) as exc:
        raise EngineError(f"lost the connection to the engine: {exc}") from exc


async def _send_head(conn: WireConnection, request: h11.Request, complete: bool) -> None:
    data = conn.http.send(request)
    if complete:
        data += conn.http.send(h11.EndOfMessage())
    conn.stream.write(data)
    await conn.stream.drain()


def _is_raw_stream(response: h11.Response | h11.InformationalResponse) -> bool:
    """A hijacked attach/exec answered 200 without Upgrade: raw stream follows, no HTTP framing."""
    if response.status_code != 200:
        return False
    content_type = next((v for k, v in response.headers if k == b"content-type"), b"")
    framed = any(k in (b"content-length", b"transfer-encoding") for k, _ in response.headers)
    return content_type.startswith(RAW_STREAM_TYPES) and not framed


def _header(message: h11.Request | h11.Response, name: bytes) -> bytes | None:
    for key, value in message.headers:
        if key == name:
            return value
    return None


def _peer_name(stream: ByteStream) -> str:
    peer = stream.extra("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return "unix"
