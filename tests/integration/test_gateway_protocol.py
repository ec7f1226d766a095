"""The gateway at the HTTP level: raw sockets (the seed's telnet session), routing, the seed's
list parameters, status codes passed through, keep-alive."""

from __future__ import annotations

import json
import re
import socket
import time
from urllib.parse import quote

import pytest


def with_token(text: bytes, token: str) -> bytes:
    """``text`` with the test admin's Authorization header after each request line."""
    return re.sub(rb"( HTTP/1\.[01])(\r?\n)", lambda m: m.group(1) + m.group(2) + b"Authorization: Bearer "
                  + token.encode() + m.group(2), text)


def raw_request(gateway, text: bytes, *, read_until_close: bool = True, timeout: float = 10,
                token: bool = True) -> bytes:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=timeout) as sock:
        sock.sendall(with_token(text, gateway.token) if token else text)
        if not read_until_close:
            return sock.recv(65536)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)


def http_get(gateway, path: str) -> tuple[int, dict[str, str], bytes]:
    """One request with Connection: close; a minimal parser that undoes chunked encoding."""
    answer = raw_request(gateway, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":
        body = dechunk(body)
    return status, headers, body


def dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, body = out + body[:size], body[size + 2:]
    return out


def test_telnet_style_request_without_host_header(gateway, docker1, name):
    docker1.containers.create("busybox", ["true"], name=name)
    # Exactly what the seed types into telnet: no Host header, then an empty line.
    answer = raw_request(gateway, b"GET /containers/json?all=1&size=1 HTTP/1.1\r\n\r\n",
                         read_until_close=False)
    head = answer.split(b"\r\n\r\n")[0].decode()
    assert head.startswith("HTTP/1.1 200 OK")
    # The rest may come in several reads: read it all with Connection: close.
    status, headers, body = http_get(gateway, "/containers/json?all=1&size=1")
    assert status == 200 and headers["content-type"] == "application/json"
    containers = json.loads(body)
    mine = [c for c in containers if c["Names"] == [f"/{name}"]]
    assert mine and "SizeRootFs" in mine[0]


def test_http10_request_is_answered_and_closed(gateway):
    answer = raw_request(gateway, b"GET /_ping HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"OK")


def test_versioned_and_unversioned_routes(gateway):
    for path in ("/version", "/v1.41/version", "/v1.41.0/version", "/v1.24/version"):
        status, _, body = http_get(gateway, path)
        assert status == 200, path
        assert json.loads(body)["ApiVersion"] == "1.41"


def test_legacy_since_and_before_are_honoured(gateway, docker1, name, test_label):
    key, value = test_label.split("=")
    a, b, c = (docker1.containers.create("busybox", ["true"], name=f"{name}-{x}", labels={key: value})
               for x in "abc")
    label = quote(json.dumps({"label": [test_label]}))

    def listed(params: str) -> list[str]:
        status, _, body = http_get(gateway, f"/v1.18/containers/json?all=1&filters={label}&{params}")
        assert status == 200, body
        return [x["Names"][0][1:] for x in json.loads(body)]

    assert listed(f"since={a.id[:12]}") == [c.name, b.name]
    assert listed(f"before={c.id[:12]}") == [b.name, a.name]
    assert listed(f"since={a.name}&before={c.name}") == [b.name]
    assert listed("limit=1") == [c.name]


@pytest.mark.parametrize("flag", ["1", "True", "true"])
def test_seed_booleans_true(gateway, docker1, name, flag):
    docker1.containers.create("busybox", ["true"], name=name)
    status, _, body = http_get(gateway, f"/containers/json?all={flag}&filters=" +
                               quote(json.dumps({"name": [name]})))
    assert status == 200 and len(json.loads(body)) == 1


@pytest.mark.parametrize("flag", ["0", "False", "false"])
def test_seed_booleans_false(gateway, docker1, name, flag):
    docker1.containers.create("busybox", ["true"], name=name)
    status, _, body = http_get(gateway, f"/containers/json?all={flag}&filters=" +
                               quote(json.dumps({"name": [name]})))
    assert status == 200 and json.loads(body) == []


@pytest.mark.parametrize(("query", "param"), [
    ("limit=abc", "limit"),
    ("all=maybe", "all"),
    ("size=2", "size"),
    ("filters={bad", "filters"),
    ('filters={"status":["sleeping"]}', "filters"),
    ('filters={"colour":["red"]}', "filters"),
    ('filters={"exited":["x"]}', "filters"),
])
def test_bad_list_parameters_get_400_naming_the_parameter(gateway, query, param):
    status, headers, body = http_get(gateway, f"/containers/json?{query}")
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["message"].startswith(f"invalid {param}")


def test_engine_status_codes_pass_through(gateway):
    status, _, body = http_get(gateway, "/containers/no-such-container-xyz/json")
    assert status == 404
    assert "No such container" in json.loads(body)["message"]


def test_non_canonical_paths_redirect_like_the_engine(gateway):
    status, headers, _ = http_get(gateway, "/v1.41//containers/./json?all=1")
    assert status == 301
    assert headers["location"] == "/v1.41/containers/json?all=1"


def test_percent_encoded_path_reaches_the_same_route(gateway):
    status, _, body = http_get(gateway, "/v1.41/%76ersion")
    assert status == 200 and "ApiVersion" in json.loads(body)


def test_hosts_listing_and_routing(gateway, docker2, name):
    status, _, body = http_get(gateway, "/hosts")
    hosts = {h["Name"]: h for h in json.loads(body)}
    assert status == 200
    assert hosts["test1"]["State"] == "up" and hosts["test1"]["Default"] is True
    assert hosts["test2"]["State"] == "up" and hosts["down"]["State"] == "down"
    docker2.containers.create("busybox", ["true"], name=name)
    status, _, body = http_get(gateway, "/hosts/test2/v1.41/containers/json?all=1")
    assert name in {n[1:] for c in json.loads(body) for n in c["Names"]}
    status, _, body = http_get(gateway, "/v1.41/containers/json?all=1")
    assert name not in {n[1:] for c in json.loads(body) for n in c["Names"]}


def test_down_host_gives_502_json_for_that_host_only(gateway):
    status, headers, body = http_get(gateway, "/hosts/down/v1.41/containers/json")
    assert status == 502 and headers["content-type"] == "application/json"
    assert "connection refused" in json.loads(body)["message"]
    assert http_get(gateway, "/hosts/test1/_ping")[0] == 200


def test_unknown_host_is_404(gateway):
    status, _, body = http_get(gateway, "/hosts/nowhere/_ping")
    assert status == 404 and "no such host: nowhere" in json.loads(body)["message"]


def test_keep_alive_serves_several_requests_on_one_connection(gateway):
    request = b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        for _ in range(5):
            sock.sendall(with_token(request, gateway.token))
            answer = b""
            while not answer.endswith(b"OK"):
                answer += sock.recv(4096)
            assert answer.startswith(b"HTTP/1.1 200")


def test_garbage_gets_400_not_a_hang(gateway):
    answer = raw_request(gateway, b"NOT HTTP AT ALL\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400")


def test_legacy_since_unknown_container_is_400(gateway):
    status, _, body = http_get(gateway, "/containers/json?all=1&since=nosuchcontainer0")
    assert status == 400
    assert json.loads(body)["message"] == "invalid since: no such container: nosuchcontainer0"


def test_buildkit_session_h2c_upgrade_is_relayed(gateway):
    """BuildKit's /session upgrades to h2c; after the 101 the engine speaks first (HTTP/2 client preface)."""
    request = (b"POST /session HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"
               b"X-Docker-Expose-Session-Uuid: dgt-session-1\r\nX-Docker-Expose-Session-Name: dgt\r\n"
               b"X-Docker-Expose-Session-Sharedkey: dgt\r\nContent-Length: 0\r\n\r\n")
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(with_token(request, gateway.token))
        received = b""
        while b"PRI * HTTP/2.0" not in received:
            data = sock.recv(65536)
            if not data:
                break
            received += data
    head = received.split(b"\r\n\r\n")[0]
    assert head.startswith(b"HTTP/1.1 101")
    assert b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" in received


def test_access_log_has_one_structured_line_per_request(gateway):
    marker = f"/containers/dgt-log-{int(time.time() * 1000)}/json"
    http_get(gateway, marker)
    deadline = time.time() + 5
    while time.time() < deadline:
        lines = [line for line in gateway.log.read_text().splitlines() if marker in line]
        if lines:
            break
        time.sleep(0.1)
    [line] = lines
    fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
    assert fields["host"] == "test1" and fields["method"] == "GET" and fields["path"] == marker
    assert fields["status"] == "404" and int(fields["bytes_out"]) > 0 and float(fields["ms"]) >= 0


def test_a_follower_that_hangs_up_ends_its_engine_stream(gateway, docker1, name):
    """A quiet container's logs -f: the gateway notices the client leaving without waiting for output."""
    container = docker1.containers.run("busybox", ["sh", "-c", "echo first; sleep 300"], name=name,
                                       detach=True)
    path = f"/containers/{container.id}/logs"
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        request = f"GET {path}?follow=1&stdout=1 HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        sock.sendall(with_token(request, gateway.token))
        received = b""
        while b"first" not in received:
            received += sock.recv(4096)
    deadline = time.time() + 5
    while time.time() < deadline:
        if any(path in line for line in gateway.log.read_text().splitlines()):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the gateway still relays the stream of a client that hung up")


def test_a_response_head_is_not_held_back_until_its_body(gateway, docker1, name):
    """docker run waits for the head of POST /wait before it starts the container; the body comes
    only when the container exits."""
    container = docker1.containers.create("busybox", ["sleep", "300"], name=name)
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(with_token(f"POST /containers/{container.id}/wait HTTP/1.1\r\nHost: x\r\n"
                     "Content-Length: 0\r\n\r\n".encode(), gateway.token))
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")


LAST_PING = b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def test_content_length_beside_transfer_encoding_is_refused_and_closed(gateway, docker1, name):
    """The classic smuggling pair: refused before anything reaches the engine."""
    body = json.dumps({"Image": "busybox", "Cmd": ["true"]}).encode()
    smuggled = (f"POST /containers/create?name={name} HTTP/1.1\r\nHost: x\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                "Transfer-Encoding: chunked\r\n\r\n").encode() + body
    answer = raw_request(gateway, smuggled)
    assert answer.startswith(b"HTTP/1.1 400")
    assert b"Connection: close" in answer
    assert not docker1.containers.list(all=True, filters={"name": name})


def test_pipelined_requests_are_answered_in_order(gateway):
    requests = b"".join(f"GET {p} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                        for p in ("/_ping", "/version", "/_ping"))
    answer = raw_request(gateway, requests + LAST_PING)
    assert answer.count(b"HTTP/1.1 200 OK") == 4
    assert answer.index(b"ApiVersion") > answer.index(b"\r\n\r\nOK")


def test_http10_client_gets_a_stream_without_chunked_framing(gateway, docker1, name):
    docker1.containers.create("busybox", ["true"], name=name)
    answer = raw_request(gateway, b"GET /containers/json?all=1 HTTP/1.0\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"transfer-encoding" not in head.lower()
    assert b"Connection: close" in head
    assert any(c["Names"] == [f"/{name}"] for c in json.loads(body))


def test_head_typed_with_bare_newlines_is_understood(gateway):
    answer = raw_request(gateway, b"GET /_ping HTTP/1.1\nConnection: close\n\n")
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"OK")


def test_chunked_request_body_reaches_the_engine_and_the_connection_is_reused(gateway, docker1, name):
    payload = json.dumps({"Image": "busybox", "Cmd": ["true"]}).encode()
    parts = (payload[:10], payload[10:])
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"
    request = (f"POST /containers/create?name={name} HTTP/1.1\r\nHost: x\r\n"
               "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode() + chunked
    answer = raw_request(gateway, request + LAST_PING)
    assert answer.startswith(b"HTTP/1.1 201")
    assert answer.endswith(b"OK")
    assert docker1.containers.get(name).attrs["Config"]["Cmd"] == ["true"]


def test_oversized_request_head_gets_431(gateway):
    answer = raw_request(gateway, b"GET /_ping HTTP/1.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431")
