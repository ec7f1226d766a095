"""TLS streams keep half-close: after one side sends close_notify, the other can still answer."""

from __future__ import annotations

import asyncio
import socket
import ssl

from dockgate.gateway.relay import relay
from dockgate.net.streams import PlainStream, TLSStream
from dockgate.pki.issue import make_ca, make_client, make_server


async def _pair() -> tuple[PlainStream, PlainStream]:
    a, b = socket.socketpair()
    loop = asyncio.get_running_loop()
    _, first = await loop.create_connection(PlainStream, sock=a)
    _, second = await loop.create_connection(PlainStream, sock=b)
    return first, second


async def _read_all(stream) -> bytes:
    out = b""
    while data := await stream.read():
        out += data
    return out


def _contexts(tmp_path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    ca = make_ca(tmp_path / "ca")
    server = make_server(ca, tmp_path / "server", ["localhost"])
    client = make_client(ca, tmp_path / "client", "alice")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(server.cert, server.key)
    server_ctx.load_verify_locations(ca.cert)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    client_ctx = ssl.create_default_context(cafile=str(ca.cert))
    client_ctx.load_cert_chain(client.cert, client.key)
    return server_ctx, client_ctx


def test_tls_half_close_lets_the_peer_answer(tmp_path):
    server_ctx, client_ctx = _contexts(tmp_path)

    async def scenario() -> tuple[bytes, bytes, dict]:
        raw_server, raw_client = await _pair()
        server = TLSStream(raw_server, server_ctx, server_side=True)
        client = TLSStream(raw_client, client_ctx, server_side=False, server_hostname="localhost")
        await asyncio.gather(server.handshake(), client.handshake())
        client.write(b"request")
        client.write_eof()  # close_notify: "I am done sending"
        await client.drain()
        got = await _read_all(server)  # ends at close_notify, not at connection close
        server.write(b"answer " * 50_000)
        server.write_eof()
        await server.drain()
        answer = await _read_all(client)
        return got, answer, server.extra("peercert")

    got, answer, peer = asyncio.run(scenario())
    assert got == b"request"
    assert answer == b"answer " * 50_000
    assert dict(x[0] for x in peer["subject"])["commonName"] == "alice"


def test_relay_carries_half_close_and_counts_bytes():
    async def scenario() -> tuple[bytes, tuple[int, int]]:
        client_side, gateway_client = await _pair()
        gateway_engine, engine_side = await _pair()
        relaying = asyncio.create_task(relay(gateway_client, gateway_engine))
        client_side.write(b"stdin data")
        client_side.write_eof()  # docker exec without -i does this at once
        assert await _read_all(engine_side) == b"stdin data"
        engine_side.write(b"output after stdin closed")
        engine_side.write_eof()
        received = await _read_all(client_side)
        return received, await relaying

    received, counts = asyncio.run(scenario())
    assert received == b"output after stdin closed"
    assert counts == (len(b"stdin data"), len(b"output after stdin closed"))
