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
    async def send(self, *events: h11.Event) -> int:
        total = 0
        for event in events:
            data = self.http.send(event)
            if data:
                total += len(data)
                self.stream.write(data)
        await self.stream.drain()
        return total

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
                                       headers=headers)
        try:
            conn = await self._open(wire, upstream_request)
        except EngineError as exc:
            await self.send_json(exchange, 502, {"message": str(exc)})
            return await self.skip_body()

        body = asyncio.create_task(self._pump_request_body(conn, exchange))
        try:
            response = await _upstream_event(conn)
            if isinstance(response, h11.InformationalResponse) and response.status_code != 101:
                response = await _upstream_event(conn)  # 100 Continue: already answered ourselves
            if not isinstance(response, h11.InformationalResponse | h11.Response):
                raise EngineError("the engine closed the connection without answering", host=exchange.host)
            exchange.status = response.status_code
            if response.status_code == 101 or _is_raw_stream(response):
                await body
                await self._hijack(conn, response, exchange)
                return False
            await self._relay_while_client_listens(conn, response, exchange, body)
        except EngineError as exc:
            body.cancel()
            conn.stream.close()
            if self.http.our_state is h11.SEND_RESPONSE:
                await self.send_json(exchange, 502, {"message": str(exc)})
            return False
        except BaseException:
            body.cancel()
            conn.stream.close()
            raise
        wire.release(conn)
        return True

    async def _open(self, wire: EngineWire, request: h11.Request) -> WireConnection:
        """Send the request head; a pooled connection the engine closed meanwhile is replaced once."""
        conn, reused = await wire.acquire()
        try:
            conn.stream.write(conn.http.send(request))
            await conn.stream.drain()
            return conn
        except (ConnectionError, OSError):
            conn.stream.close()
            if not reused:
                raise EngineError("the engine closed the connection", host=wire.endpoint.name) from None
        conn = await wire.connect()
        conn.stream.write(conn.http.send(request))
        await conn.stream.drain()
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

    async def _relay_while_client_listens(self, conn: WireConnection, response: h11.Response,
                                          exchange: Exchange, body: asyncio.Task[None]) -> None:
        """Relay the response; once the request is fully read, a client that hangs up ends it.

        Like Go's net/http, a read-EOF from the client after its request means it is gone: a
        ``logs -f`` follower that disconnects must not keep an engine stream open until the next line.
        """
        relaying = asyncio.create_task(self._relay_response(conn, response, exchange))
        try:
            await body
            watching = asyncio.create_task(self._watch_client())
            done, _ = await asyncio.wait({relaying, watching}, return_when=asyncio.FIRST_COMPLETED)
            watching.cancel()
            await asyncio.gather(watching, return_exceptions=True)  # its read must end before the next
            if relaying not in done:
                raise ClientGone()
            await relaying
        finally:
            relaying.cancel()

    async def _watch_client(self) -> None:
        """Returns when the client closes; bytes it sends meanwhile (a pipelined request) are kept."""
        while data := await self.stream.read():
            self.http.receive_data(data)

    async def _relay_response(self, conn: WireConnection, response: h11.Response,
                              exchange: Exchange) -> None:
        headers = [(k, v) for k, v in response.headers.raw_items() if k.lower() not in HOP_BY_HOP]
        exchange.sent += await self.send(h11.Response(status_code=response.status_code, headers=headers,
                                                      reason=response.reason))
        while True:
            event = await _upstream_event(conn)
            if isinstance(event, h11.Data):
                exchange.sent += await self.send(event)
            elif isinstance(event, h11.EndOfMessage):
                exchange.sent += await self.send(h11.EndOfMessage())
                return
            else:
                raise EngineError("the engine closed the connection mid-response", host=exchange.host)

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


async def _upstream_event(conn: WireConnection) -> h11.Event:
    while True:
        try:
            event = conn.http.next_event()
        except h11.RemoteProtocolError as exc:
            raise EngineError(f"the engine sent an invalid response: {exc}") from exc
        if event is h11.NEED_DATA:
            try:
                data = await conn.stream.read()
            except (ConnectionError, OSError) as exc:
                raise EngineError(f"lost the connection to the engine: {exc}") from exc
            conn.http.receive_data(data)
            continue
        if event is h11.PAUSED:
            raise EngineError("the engine switched protocols unexpectedly")
        return event  # type: ignore[return-value]


def _is_raw_stream(response: h11.Response | h11.InformationalResponse) -> bool:
    """A hijacked attach/exec answered 200 without Upgrade: raw stream follows, no HTTP framing."""
    if response.status_code != 200:
        return False
    content_type = next((v for k, v in response.headers if k == b"content-type"), b"")
    framed = any(k in (b"content-length", b"transfer-encoding") for k, _ in response.headers)
    return content_type.startswith(RAW_STREAM_TYPES) and not framed


def _header(request: h11.Request, name: bytes) -> bytes | None:
    for key, value in request.headers:
        if key == name:
            return value
    return None


def _peer_name(stream: ByteStream) -> str:
    peer = stream.extra("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return "unix"
