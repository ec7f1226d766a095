"""The gateway over TLS with client certificates, its listener safety rules, docker-py, WebSocket
attach, and graceful shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import ssl
import subprocess
import sys
import time

import aiohttp
import docker
import pytest
from tests.conftest import free_port, start_gateway, stop_gateway

from dockgate.pki.issue import make_ca, make_client, make_server


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    root = tmp_path_factory.mktemp("pki")
    ca = make_ca(root / "ca")
    server = make_server(ca, root / "server", ["127.0.0.1", "localhost"])
    make_client(ca, root / "alice", "alice")
    make_client(make_ca(root / "rogue-ca"), root / "mallory", "mallory")
    return root, ca, server


@pytest.fixture(scope="module")
def tls_gateway(cli_env, pki, tmp_path_factory):
    _root, ca, server = pki
    gw = start_gateway(cli_env, tmp_path_factory.mktemp("tlsgw"), "--tls-cert", str(server.cert),
                       "--tls-key", str(server.key), "--tls-client-ca", str(ca.cert), "--no-unix")
    yield gw
    stop_gateway(gw)


def tls_docker(gw, cert_dir, *args, host: str | None = None, input: str | None = None):
    env = {**os.environ, "DOCKER_HOST": gw.tcp + (f"/hosts/{host}" if host else ""), "DOCKER_TLS_VERIFY": "1",
           "DOCKER_CERT_PATH": str(cert_dir)}
    return subprocess.run(["docker", *args], capture_output=True, text=True, env=env, input=input, timeout=60)


def test_tls_with_client_certificate(tls_gateway, pki, docker2, name):
    root, _, _ = pki
    result = tls_docker(tls_gateway, root / "alice", "version", "--format", "{{.Server.APIVersion}}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1.41"
    # TLS on both legs (client -> gateway, gateway -> test2) with exec's half-close right after the 101.
    docker2.containers.run("busybox", ["sleep", "300"], name=name, detach=True)
    result = tls_docker(tls_gateway, root / "alice", "exec", name, "sh", "-c", "seq 1 5000", host="test2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(i) for i in range(1, 5001)]
    result = tls_docker(tls_gateway, root / "alice", "exec", "-i", name, "wc", "-c", host="test2",
                        input="x" * 100_000)
    assert result.stdout.strip() == "100000"


def test_a_tls_follower_that_hangs_up_ends_its_engine_stream(tls_gateway, pki, docker2, name):
    """docker logs -f over TLS, killed: the gateway ends the engine stream without waiting for output."""
    root, _, _ = pki
    container = docker2.containers.run("busybox", ["sh", "-c", "echo first; sleep 300"], name=name,
                                       detach=True)
    env = {**os.environ, "DOCKER_HOST": tls_gateway.tcp + "/hosts/test2", "DOCKER_TLS_VERIFY": "1",
           "DOCKER_CERT_PATH": str(root / "alice")}
    follower = subprocess.Popen(["docker", "logs", "-f", name], stdout=subprocess.PIPE, env=env)
    try:
        assert follower.stdout is not None and follower.stdout.readline() == b"first\n"
    finally:
        follower.kill()
        follower.wait()
    path = f"/containers/{container.id}/logs"  # the CLI asks by id, once it has inspected the name
    deadline = time.time() + 5
    while not any(path in line and "status=200" in line for line in tls_gateway.log.read_text().splitlines()):
        assert time.time() < deadline, "the gateway still relays the stream of a client that hung up"
        time.sleep(0.1)


def test_client_certificate_from_another_ca_is_refused(tls_gateway, pki):
    root, _, _ = pki
    # The client trusts the gateway's CA but presents a certificate the gateway did not issue.
    (root / "mallory" / "ca.pem").write_bytes((root / "ca" / "ca.pem").read_bytes())
    result = tls_docker(tls_gateway, root / "mallory", "version")
    assert result.returncode != 0
    assert "certificate" in result.stderr.lower() or "tls" in result.stderr.lower()


def test_no_client_certificate_is_refused(tls_gateway, pki):
    _root, ca, _ = pki
    ctx = ssl.create_default_context(cafile=str(ca.cert))
    with (socket.create_connection(("127.0.0.1", tls_gateway.port), timeout=10) as raw,
          pytest.raises((ssl.SSLError, ConnectionError)),
          ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls):
        tls.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
        if not tls.recv(100):
            raise ConnectionError("closed")


def test_plain_http_to_the_tls_port_gets_nothing_useful(tls_gateway):
    with socket.create_connection(("127.0.0.1", tls_gateway.port), timeout=10) as sock:
        sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(10)
        try:
            answer = sock.recv(100)
        except ConnectionResetError:
            answer = b""
    assert not answer.startswith(b"HTTP/1.1 200")


def _serve(cli_env, *args):
    return subprocess.run([sys.executable, "-m", "dockgate", "serve", "--no-unix", *args],
                          capture_output=True, text=True, env=cli_env, timeout=15)


def test_plaintext_on_a_public_address_is_refused(cli_env):
    result = _serve(cli_env, "--listen", f"0.0.0.0:{free_port()}")
    assert result.returncode == 2
    assert "refusing to serve the Docker API in plaintext" in result.stderr
    assert "--insecure-plaintext" in result.stderr


def test_plaintext_on_a_public_address_with_the_flag_warns(cli_env, tmp_path):
    gw = start_gateway(cli_env, tmp_path, "--insecure-plaintext", "--no-unix", host="0.0.0.0")
    try:
        assert "WITHOUT TLS" in gw.log.read_text()
    finally:
        stop_gateway(gw)


def test_docker_py_through_the_gateway(gateway, name):
    client = docker.DockerClient(base_url=gateway.tcp.replace("tcp://", "http://"))
    try:
        container = client.containers.run("busybox", ["sleep", "300"], name=name, detach=True)
        # Ordinary requests and then hijacks on pooled keep-alive connections, as docker-py does.
        for _ in range(3):
            code, (out, err) = container.exec_run(["sh", "-c", "echo out; echo err >&2"], demux=True)
            assert (code, out, err) == (0, b"out\n", b"err\n")
        assert client.containers.get(name).status == "running"
        # docker-py sends HttpHeaders with its own calls but not with attach_socket's raw POST
        # (docs/api-compatibility.md): a session header carries the token there.
        client.api.headers["Authorization"] = f"Bearer {gateway.token}"
        sock = client.api.attach_socket(container.id, params={"stdin": 1, "stdout": 1, "stream": 1})
        sock.close()
        output = client.containers.run("busybox", ["sh", "-c", "echo via-docker-py"], remove=True)
        assert output == b"via-docker-py\n"
    finally:
        client.close()


def test_websocket_attach(gateway, docker1, name):
    container = docker1.containers.create("busybox", ["sh", "-c", "read line; echo ws-$line"], name=name,
                                          stdin_open=True, tty=False)

    async def session() -> bytes:
        url = gateway.tcp.replace("tcp://", "ws://") + \
            f"/containers/{container.id}/attach/ws?stream=1&stdin=1&stdout=1"
        auth = {"Authorization": f"Bearer {gateway.token}"}
        async with aiohttp.ClientSession() as http, http.ws_connect(url, headers=auth) as ws:
            container.start()
            await ws.send_bytes(b"hello\n")
            received = b""
            async with asyncio.timeout(20):
                while b"ws-hello" not in received:
                    message = await ws.receive()
                    if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                        break
                    received += message.data if isinstance(message.data, bytes) else message.data.encode()
            return received

    assert b"ws-hello" in asyncio.run(session())


def test_graceful_shutdown_lets_a_stream_finish(cli_env, tmp_path, docker1, name):
    docker1.containers.run("busybox", ["sleep", "300"], name=name, detach=True)
    gw = start_gateway(cli_env, tmp_path, "--no-unix")
    try:
        proc = subprocess.Popen(["docker", "exec", name, "sh", "-c", "sleep 2; echo finished"],
                                stdout=subprocess.PIPE, text=True, env={**os.environ, "DOCKER_HOST": gw.tcp})
        time.sleep(1)
        gw.process.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert out == "finished\n"
        assert gw.process.wait(timeout=20) == 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", gw.port), timeout=2).close()
    finally:
        stop_gateway(gw)
