"""One client connection: request heads parsed, forwarded to engines with their bodies as they came,
keep-alive reused, and hijacked sessions handed to the relay.

The loop is deliberately thin: HTTP framing lives in net/http1.py, where a request goes in
target.py, what the seed's parameters mean in legacy.py and how raw sessions flow in relay.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from dockgate.access import operations
from dockgate.access.audit import AuditUnavailable
from dockgate.access.gatekeeper import Call, Caller, Refusal
from dockgate.access.identity import Identity
from dockgate.engines.container_query import BadParameter
from dockgate.engines.errors import EngineError
from dockgate.engines.wire import EngineWire, WireConnection
from dockgate.gateway.legacy import is_container_list, parse_container_list_query, passes_through
from dockgate.gateway.relay import relay
from dockgate.gateway.target import TargetError, is_dashboard_target, parse_target
from dockgate.net.http1 import (
    MAX_HEAD,
    REASONS,
    Body,
    HTTPError,
    RequestHead,
    ResponseHead,
    forwardable,
    head_end,
    is_relayable_as_sent,
    parse_request_head,
    request_body,
    request_bytes,
    response_body,
    response_bytes,
)
from dockgate.net.streams import ByteStream, PlainStream, TLSStream

if TYPE_CHECKING:
    from dockgate.gateway.server import Gateway
    from dockgate.store.audit_records import Decision

RAW_STREAM_TYPES = (b"application/vnd.docker.raw-stream", b"application/vnd.docker.multiplexed-stream")
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
RESHAPE_LIMIT = 16 << 20  # an answer the gatekeeper rewrites is read whole: inspect-sized, not a stream


class ClientGone(Exception):
    """The client closed the connection in the middle of a request."""


@dataclass
class Exchange:
    """What the access log and the audit trail record about one request."""

    method: str
    path: str
    host: str = "-"
    status: int = 0
    sent: int = 0
    received: int = 0
    user: str | None = None
    operation: str = "unknown"
    decision: Decision = "allow"
    rule: str = ""
    audit_body: bytes | None = None  # a mutating call's body, for the (redacted) record
    audit_id: int | None = None  # the record written before forwarding
    kind: str | None = None  # "exec" or "attach" for a hijacked session
    time: datetime = field(default_factory=lambda: datetime.now(UTC))  # when the request came
    reshape: Callable[[int, bytes], Awaitable[bytes]] | None = None  # the gatekeeper's answer rewrite
    audited: bool = True  # dashboard pages are logged, not audited: their API calls are
    started: datetime | None = None
    ended: datetime | None = None


class ClientConnection:
    def __init__(self, stream: PlainStream | TLSStream, gateway: Gateway, *, dashboard: bool = False) -> None:
        """``dashboard``: a connection of the dashboard's own, on the gateway's private socket; its
        requests name the browser they act for (``X-Dockgate-Source``) and it is never root."""
        self.stream = stream
        self.gateway = gateway
        self.buf = bytearray()  # bytes from the client not yet handled (a pipelined request, a body)
        self.peer = _peer_name(stream)
        self.from_dashboard = dashboard
        self.caller = Caller(self.peer, cert_cn=_cert_cn(stream),
                             peer_uid=None if dashboard else _peer_uid(stream))
        self.identity: Identity | None = None  # of the request in progress, for revocation checks
        self.upstream: WireConnection | None = None
        self.busy = False  # inside a request: graceful shutdown lets it finish
        self._request_done = self._first_read_done = False
        self._watching = self._client_gone = False

    # -- reading from the client ----------------------------------------------------------------
    async def _fill(self) -> bool:
        data = await self.stream.read()
        self.buf += data
        return bool(data)

    async def _read_head(self) -> bytes | None:
        """The next request head, or None when the client ends the connection between requests."""
        while True:
            while self.buf[:1] in (b"\r", b"\n"):  # stray line ends between requests are allowed
                del self.buf[:1]
            end = head_end(self.buf)
            if end > MAX_HEAD or (end < 0 and len(self.buf) > MAX_HEAD):
                raise HTTPError(f"request head larger than {MAX_HEAD // 1024} KiB", 431)
            if end >= 0:
                head = bytes(self.buf[:end])
                del self.buf[:end]
                return head
            if not await self._fill():
                if self.buf:
                    raise ClientGone()
                return None

    async def _body_bytes(self, body: Body) -> bytes:
        """The next bytes of the request body (``b""`` once it is complete), as the client framed them."""
        if body.done:
            return b""
        if not self.buf and not await self._fill():
            raise ClientGone()
        used = body.feed(self.buf)
        data = bytes(self.buf[:used])
        del self.buf[:used]
        return data

    async def skip_body(self, body: Body) -> None:
        """Read and drop the body of a request answered without forwarding it."""
        while await self._body_bytes(body):
            pass

    # -- writing to the client ------------------------------------------------------------------
    async def write(self, data: bytes) -> int:
        self.stream.write(data)
        await self.stream.drain()
        return len(data)

    async def send_json(self, exchange: Exchange, status: int, body: object,
                        extra: list[tuple[bytes, bytes]] | None = None, *, close: bool = False) -> None:
        payload = json.dumps(body).encode() + b"\n"
        headers = [(b"Content-Type", b"application/json"), (b"Content-Length", str(len(payload)).encode()),
                   *(extra or []), *([(b"Connection", b"close")] if close else [])]
        exchange.status = status
        head = response_bytes(status, REASONS.get(status, b""), headers)
        exchange.sent += await self.write(head if exchange.method == "HEAD" else head + payload)

    def abort(self) -> None:
        """End the request in progress now (its caller's credentials were revoked)."""
        if self.upstream is not None:
            self.upstream.stream.close()
        self.stream.close()

    # -- the loop -------------------------------------------------------------------------------
    async def run(self) -> None:
        try:
            while True:
                raw = None
                try:
                    raw = await self._read_head()
                    if raw is None:
                        return
                    request = parse_request_head(raw)
                    body = request_body(request)
                except HTTPError as exc:
                    await self._refuse(exc, raw or bytes(self.buf[:200]))
                    return
                self.busy = True
                keep = await self.handle(request, body)
                self.busy = False
                if not keep or not request.keep_alive:
                    return
        except (ClientGone, ConnectionError, OSError):
            return
        except Exception:
            logging.getLogger("dockgate.gateway").exception("connection from %s failed", self.peer)
        finally:
            self.stream.close()

    async def _refuse(self, exc: HTTPError, raw: bytes) -> None:
        """A request we cannot frame: answer and close, since where the next one starts is unknown.
        Its record names what its first line seemed to ask, for whoever looks into it."""
        words = raw.split(b"\n", 1)[0].split()
        method = words[0][:16].decode("latin-1") if words else "-"
        path = words[1].split(b"?", 1)[0][:256].decode("latin-1") if len(words) > 1 else "-"
        exchange = Exchange(method, path, decision="deny", rule="bad-request")
        await self.send_json(exchange, exc.status, {"message": f"bad request: {exc}"}, close=True)
        self.gateway.finish(self.caller, exchange, self.peer, 0.0)

    async def handle(self, request: RequestHead, body: Body) -> bool:
        """Answer one request; False when the connection cannot carry another."""
        started = time.perf_counter()
        method = request.method.decode("ascii", "replace")
        raw_target = request.target.decode("latin-1")
        exchange = Exchange(method, raw_target.partition("?")[0])
        try:
            if request.expects_continue and not body.done:
                await self.write(CONTINUE)
            return await self._route(request, body, raw_target, exchange)
        except HTTPError as exc:  # a body whose framing broke midway: nothing more can be read
            if exchange.status == 0:
                exchange.decision, exchange.rule = "deny", "bad-request"
                await self.send_json(exchange, exc.status, {"message": f"bad request: {exc}"}, close=True)
            return False
        finally:
            self.gateway.finish(self.caller, exchange, self.peer, time.perf_counter() - started)
            self.identity = None

    async def _answer(self, exchange: Exchange, request: RequestHead, body: Body, status: int,
                      message: object, extra: list[tuple[bytes, bytes]] | None = None) -> bool:
        """Answer without forwarding; the request's body is read and dropped to keep the connection."""
        await self.send_json(exchange, status, message, extra, close=not request.keep_alive)
        await self.skip_body(body)
        return True

    async def _route(self, request: RequestHead, body: Body, raw_target: str, exchange: Exchange) -> bool:
        dashboard = self.gateway.dashboard_wire
        if dashboard is not None and not self.from_dashboard and \
                is_dashboard_target(request.method, request.target, request.get(b"accept")):
            exchange.operation, exchange.audited = "Dashboard", False
            return await self._forward(request, body, request.target, self._dashboard_headers(request),
                                       dashboard, exchange, None)
        try:
            target = parse_target(raw_target)
        except TargetError as exc:
            location = [(b"Location", exc.location.encode())] if exc.location else []
            exchange.decision, exchange.rule = ("allow", "") if exc.status == 301 else ("deny", "bad-request")
            return await self._answer(exchange, request, body, exc.status, {"message": exc.message}, location)
        exchange.path = target.path
        host = exchange.host = target.host or self.gateway.default_host
        gate = self.gateway.gatekeeper
        call = Call(exchange.method, target.path, target.query, host, has_body=not body.done)
        try:
            if self.from_dashboard:  # the browser it acts for, in this request's record too
                source = (request.get(b"x-dockgate-source") or b"dashboard").decode("latin-1")[:200]
                self.caller = Caller(source)
            known = self.caller  # what the transport knows, with this request's credentials
            caller = Caller(known.source, request.get(b"authorization"), known.cert_cn, known.peer_uid)
            identity = await gate.identify(caller)
        except Refusal as refusal:
            return await self._refused(exchange, request, body, refusal)
        self.identity, exchange.user = identity, identity.user
        if target.listing:
            exchange.operation = "HostList"
            if exchange.method not in ("GET", "HEAD"):
                return await self._refused(exchange, request, body,
                                           Refusal(405, "only GET is allowed on /hosts", "bad-request"))
            listing = [h for h in await self.gateway.host_listing() if gate.may_see_host(identity, h["Name"])]
            return await self._answer(exchange, request, body, 200, listing)
        wire = self.gateway.wires.get(host)
        if wire is None:  # a host the user holds no grant on is the gatekeeper's 403, naming the user
            names = ", ".join(h for h in self.gateway.wires if gate.may_see_host(identity, h)) or "none"
            return await self._refused(exchange, request, body,
                                       Refusal(404, f"no such host: {host} (known: {names})", "no-host"))
        try:
            admission = await gate.admit(identity, call)
        except Refusal as refusal:
            return await self._refused(exchange, request, body, refusal)
        except EngineError as exc:
            return await self._answer(exchange, request, body, 502, {"message": str(exc)})
        exchange.operation = admission.operation_name
        exchange.reshape = admission.reshape
        query = admission.query
        if is_container_list(exchange.method, target.path):
            try:
                if not passes_through(query):
                    parsed = parse_container_list_query(query)
                    if parsed.references():
                        await gate.check_list_references(admission, host, parsed.reference_params())
                        parsed = await self.gateway.resolve_list_references(host, parsed)
                    query = urlencode(parsed.engine_params())
            except BadParameter as exc:
                return await self._refused(exchange, request, body, Refusal(400, str(exc), "bad-parameter"))
            except Refusal as refusal:
                return await self._refused(exchange, request, body, refusal)
            except EngineError as exc:
                return await self._answer(exchange, request, body, 502, {"message": str(exc)})
        checked = None
        if admission.read_body is not None:
            try:
                data = exchange.audit_body = await self._read_whole_body(request, body)
                checked = await gate.police(admission, call, data)  # a refused body is recorded too
            except Refusal as refusal:
                return await self._refused(exchange, request, body, refusal)
            except EngineError as exc:
                return await self._answer(exchange, request, body, 502, {"message": str(exc)})
        if exchange.method not in ("GET", "HEAD"):  # durable before anything changes, or refused
            try:
                exchange.audit_id = await self.gateway.audit_before(self.caller, exchange)
            except AuditUnavailable as exc:
                exchange.decision, exchange.rule = "deny", "audit-unavailable"
                return await self._answer(exchange, request, body, 503, {"message": str(exc)})
        upstream_target = (wire.endpoint.path_prefix + target.engine_target(query)).encode()
        return await self._forward(request, body, upstream_target, self._engine_headers(request, checked),
                                   wire, exchange, checked)

    async def _refused(self, exchange: Exchange, request: RequestHead, body: Body, refusal: Refusal) -> bool:
        exchange.decision, exchange.rule = "deny", refusal.rule
        if exchange.operation == "unknown":  # refused before admission: the record still names it
            exchange.operation = _operation_name(exchange.method, exchange.path)
        extra = [(b"WWW-Authenticate", b'Bearer realm="dockgate"')] if refusal.status == 401 else []
        if refusal.status == 413:  # the rest of an oversized body is not read: close instead
            await self.send_json(exchange, 413, {"message": refusal.message}, close=True)
            return False
        message = {"message": refusal.message}
        return await self._answer(exchange, request, body, refusal.status, message, extra)

    async def _read_whole_body(self, request: RequestHead, body: Body) -> bytes:
        """The request body, decoded from its framing, for the gatekeeper (which refuses it above
        its size limit before it is all read)."""
        gate = self.gateway.gatekeeper
        length = request.get(b"content-length")
        if length is not None and length.strip().isdigit():
            gate.check_size(int(length))
        payload: list[bytes | bytearray] = []
        size = 0
        while not body.done:
            if not self.buf and not await self._fill():
                raise ClientGone()
            before = len(payload)
            used = body.feed(self.buf, payload)
            del self.buf[:used]
            size += sum(len(part) for part in payload[before:])
            gate.check_size(size)
        return b"".join(payload)

    # -- forwarding -----------------------------------------------------------------------------
    @staticmethod
    def _engine_headers(request: RequestHead, checked: bytes | None) -> list[tuple[bytes, bytes]]:
        """The headers an engine gets: no credentials of ours, and the checked body's length."""
        headers = [(k, v) for k, v in forwardable(request.headers) if k.lower() != b"authorization"]
        if checked is not None:
            framing = (b"content-length", b"transfer-encoding")
            headers = [(k, v) for k, v in headers if k.lower() not in framing]
            headers.append((b"Content-Length", str(len(checked)).encode()))
        if request.get(b"host") is None:  # telnet and HTTP/1.0 clients may omit it; the engine needs one
            headers.append((b"Host", b"localhost"))
        return headers

    def _dashboard_headers(self, request: RequestHead) -> list[tuple[bytes, bytes]]:
        """The browser's headers, with who it is and whether it came over TLS said by us alone."""
        headers = [(k, v) for k, v in forwardable(request.headers)
                   if not k.lower().startswith((b"x-forwarded-", b"x-dockgate-"))]
        headers += [(b"X-Forwarded-For", self.peer.rpartition(":")[0].strip("[]").encode() or b"unix"),
                    (b"X-Forwarded-Proto", b"https" if isinstance(self.stream, TLSStream) else b"http")]
        return headers

    async def _forward(self, request: RequestHead, body: Body, upstream_target: bytes,
                       headers: list[tuple[bytes, bytes]], wire: EngineWire, exchange: Exchange,
                       checked: bytes | None) -> bool:
        """Send the request on (``checked``: the body the gatekeeper read and decided on, sent in
        place of the client's) and relay the answer."""
        upgrade = request.upgrade
        if upgrade:
            headers += [(b"Connection", b"Upgrade"), (b"Upgrade", upgrade)]
        head = request_bytes(request.method, upstream_target, headers)
        # Most requests have no body: the whole request goes in one write, no body pump needed.
        if checked is not None:
            first = checked
        else:
            first = await self._body_bytes(body) if self.buf and not body.done else b""
        exchange.received += len(first)
        try:
            conn = await self._open(wire, head + first)
        except EngineError as exc:
            await self.send_json(exchange, 502, {"message": str(exc)}, close=not request.keep_alive)
            await self.skip_body(body)
            return True

        self.upstream = conn
        self.gateway.write_finished()  # earlier requests' records, while the engine works on this one
        self._request_done, self._first_read_done = body.done, False
        pump = None if body.done else asyncio.create_task(self._pump_request_body(conn, body, exchange))
        try:
            response, raw_head = await conn.read_head(lambda: self._read_upstream(conn))
            exchange.status = response.status
            if response.status == 101 or _is_raw_stream(response):
                if pump:
                    await pump
                await self._hijack(conn, raw_head, exchange)
                return False
            if pump:
                await pump
            self._request_done = True
            if exchange.reshape is not None:
                keep = await self._relay_reshaped(conn, request, response, exchange, exchange.reshape)
            else:
                keep = await self._relay_response(conn, request, response, raw_head, exchange)
        except (EngineError, HTTPError, ConnectionResetError) as exc:
            if pump:
                pump.cancel()
            conn.stream.close()
            if exchange.sent == 0:
                message = exc.message if isinstance(exc, EngineError) else f"bad engine answer: {exc}"
                await self.send_json(exchange, 502, {"message": message}, close=True)
            return False
        except BaseException:
            if pump:
                pump.cancel()
            conn.stream.close()
            raise
        finally:
            self.upstream = None
            self._stop_watching()
        wire.release(conn)
        return keep

    async def _open(self, wire: EngineWire, data: bytes) -> WireConnection:
        """Send the start of the request; a pooled connection the engine closed meanwhile is
        replaced once."""
        conn, reused = await wire.acquire()
        try:
            conn.stream.write(data)
            await conn.stream.drain()
            return conn
        except (ConnectionError, OSError):
            conn.stream.close()
            if not reused:
                raise EngineError("the engine closed the connection", host=wire.endpoint.name) from None
        conn = await wire.connect()
        conn.stream.write(data)
        await conn.stream.drain()
        return conn

    async def _pump_request_body(self, conn: WireConnection, body: Body, exchange: Exchange) -> None:
        """The rest of the request body, as the client framed it; a body that breaks its own framing
        ends the connection (where the next request would start is unknown)."""
        while True:
            try:
                data = await self._body_bytes(body)
            except HTTPError:
                raise ClientGone() from None
            if not data:
                return
            exchange.received += len(data)
            conn.stream.write(data)
            await conn.stream.drain()

    async def _relay_response(self, conn: WireConnection, request: RequestHead, response: ResponseHead,
                              raw_head: bytes, exchange: Exchange) -> bool:
        """Pass the engine's answer on, its body as the engine framed it (one write per read).

        An HTTP/1.0 client cannot take chunks: it gets the payload and the end of the connection.
        Returns whether the client connection can carry another request.
        """
        framing = response_body(response, request.method)
        decode = framing.chunked and request.version == b"1.0"
        keep = request.keep_alive and not framing.until_eof and not decode
        if keep and is_relayable_as_sent(response, raw_head):
            pending = raw_head  # the usual answer: nothing to take out or add
        else:
            headers = forwardable(response.headers)
            if decode:
                headers = [(k, v) for k, v in headers if k.lower() != b"transfer-encoding"]
            if not keep:
                headers.append((b"Connection", b"close"))
            pending = response_bytes(response.status, response.reason, headers)
        data = bytes(conn.buf)
        conn.buf.clear()
        while True:
            if data:
                payload: list[bytes | bytearray] | None = [] if decode else None
                used = framing.feed(data, payload)
                if used < len(data):  # bytes after the body: the engine's connection is not trustworthy
                    conn.reusable = False
                out = b"".join(payload) if payload is not None else data[:used] if used < len(data) else data
                exchange.sent += await self.write(pending + out)
                pending = b""
            elif pending:  # the head must not wait for a body that may be long in coming (/wait)
                exchange.sent += await self.write(pending)
                pending = b""
            if framing.done:
                return keep
            data = await self._read_upstream(conn)
            if not data:
                if framing.until_eof:
                    conn.reusable = False
                    return False
                raise EngineError("the engine closed the connection mid-response", host=exchange.host)

    async def _relay_reshaped(self, conn: WireConnection, request: RequestHead, response: ResponseHead,
                              exchange: Exchange, reshape: Callable[[int, bytes], Awaitable[bytes]]) -> bool:
        """A short answer read whole, rewritten by the gatekeeper, sent with its new length."""
        payload = await conn.read_body(response, request.method, limit=RESHAPE_LIMIT,
                                       read=lambda: self._read_upstream(conn))
        body = await reshape(response.status, payload)
        keep = request.keep_alive and conn.reusable
        headers = [(k, v) for k, v in forwardable(response.headers)
                   if k.lower() not in (b"content-length", b"transfer-encoding")]
        headers.append((b"Content-Length", str(len(body)).encode()))
        if not keep:
            headers.append((b"Connection", b"close"))
        head = response_bytes(response.status, response.reason, headers)
        exchange.sent += await self.write(head if request.method == b"HEAD" else head + body)
        return keep

    async def _read_upstream(self, conn: WireConnection) -> bytes:
        """The engine's next bytes, while noticing a client that hangs up.

        Like Go's net/http, a read-EOF from the client after its request means it is gone: a
        ``logs -f`` follower that disconnects must not keep an engine stream open until the next
        line. Watching starts once the request is complete and the response has needed more than
        one read (a stream, not a short answer): a short answer read at once still reaches a client
        that half-closed after its request (``printf ... | nc -N``). Bytes the client sends
        meanwhile (a pipelined request) stay in its stream for the next request.
        """
        if not self._watching:
            if not self._request_done or not self._first_read_done:
                self._first_read_done = self._request_done
                return await _read(conn)
            self._watching = True
            self.stream.on_hangup(lambda: self._hung_up(conn))
        data = await _read(conn)
        if self._client_gone:
            raise ClientGone()
        return data

    def _hung_up(self, conn: WireConnection) -> None:
        """The client left while its answer streamed: end the engine's stream (its read ends)."""
        self._client_gone = True
        conn.stream.close()

    def _stop_watching(self) -> None:
        if self._watching:
            self.stream.on_hangup(None)
            self._watching = self._client_gone = False

    async def _hijack(self, conn: WireConnection, raw_head: bytes, exchange: Exchange) -> None:
        """Write the engine's head as it was sent, flushed on its own, then relay raw bytes."""
        conn.reusable = False
        # The engine writes a 101 head in two parts, so reading it may have started watching the
        # client: that must stop, or the client's half-close (docker exec without -i) ends the session.
        self._stop_watching()
        await self.write(raw_head)
        engine_rest, client_rest = bytes(conn.buf), bytes(self.buf)
        conn.buf.clear()
        self.buf.clear()
        if engine_rest:
            await self.write(engine_rest)
        if client_rest:
            conn.stream.write(client_rest)
            await conn.stream.drain()
        exchange.kind = "exec" if exchange.operation == "ExecStart" else "attach" if \
            exchange.operation.startswith("ContainerAttach") else "session"
        exchange.started = datetime.now(UTC)
        try:
            up, down = await relay(self.stream, conn.stream)
        finally:
            exchange.ended = datetime.now(UTC)
        exchange.received += up + len(client_rest)
        exchange.sent += down + len(engine_rest)
        conn.stream.close()


async def _read(conn: WireConnection) -> bytes:
    try:
        return await conn.stream.read()
    except (ConnectionError, OSError) as exc:
        raise EngineError(f"lost the connection to the engine: {exc}") from exc


def _is_raw_stream(response: ResponseHead) -> bool:
    """A hijacked attach/exec answered 200 without Upgrade: raw stream follows, no HTTP framing."""
    if response.status != 200:
        return False
    content_type = response.get(b"content-type") or b""
    framed = response.get(b"content-length") is not None or response.get(b"transfer-encoding") is not None
    return content_type.startswith(RAW_STREAM_TYPES) and not framed


def _operation_name(method: str, path: str) -> str:
    operation = operations.match(method, path)
    return operation.name if operation else "unknown"


def _cert_cn(stream: ByteStream) -> str | None:
    """The subject CN of the client certificate the TLS handshake verified, if any."""
    cert = stream.extra("peercert")
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def _peer_uid(stream: ByteStream) -> int | None:
    """The uid of a unix socket's peer (SO_PEERCRED); None over TCP."""
    sock = stream.extra("socket")
    if sock is None or sock.family != socket.AF_UNIX:
        return None
    try:
        _, uid, _ = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    except OSError:
        return None
    return int(uid)


def _peer_name(stream: ByteStream) -> str:
    peer = stream.extra("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return "unix"
