"""dockgate api: raw Engine API requests against the real engines."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time

import pexpect
import pytest


def test_get_version(dockgate):
    result = dockgate("api", "GET", "/version")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "HTTP 200 OK"
    assert json.loads(result.stdout)["ApiVersion"] == "1.41"


def test_get_container_list_with_query(dockgate, docker1, name):
    docker1.containers.create("busybox", ["true"], name=name)
    listed = dockgate("api", "get", "/containers/json?all=1")
    running = dockgate("api", "GET", "/v1.41/containers/json")
    assert listed.returncode == 0 and running.returncode == 0
    assert f"/{name}" in {n for c in json.loads(listed.stdout) for n in c["Names"]}
    assert f"/{name}" not in {n for c in json.loads(running.stdout) for n in c["Names"]}


def test_post_with_data_creates_a_container(dockgate, docker1, name):
    body = json.dumps({"Image": "busybox", "Cmd": ["echo", "made by api"]})
    result = dockgate("api", "POST", f"/containers/create?name={name}", "--data", body)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "HTTP 201 Created"
    created = json.loads(result.stdout)
    assert docker1.api.inspect_container(name)["Id"] == created["Id"]
    assert docker1.api.inspect_container(name)["Config"]["Cmd"] == ["echo", "made by api"]


def test_data_file_from_stdin(dockgate, docker1, name):
    body = json.dumps({"Image": "busybox", "Cmd": ["true"]})
    result = dockgate("api", "POST", f"/containers/create?name={name}", "--data-file", "-", input=body)
    assert result.returncode == 0, result.stderr
    assert docker1.api.inspect_container(name)["Id"] == json.loads(result.stdout)["Id"]


@pytest.mark.parametrize(("path", "message"), [
    ("/containers/dgt-no-such-container/json", "No such container: dgt-no-such-container"),
    ("/no/such/route", "page not found"),
])
def test_error_status_exits_1_with_engine_message(dockgate, path, message):
    result = dockgate("api", "GET", path)
    assert result.returncode == 1
    assert result.stderr.strip() == "HTTP 404 Not Found"
    assert json.loads(result.stdout) == {"message": message}


def test_include_prints_head_on_stdout(dockgate):
    result = dockgate("api", "-i", "GET", "/_ping")
    assert result.returncode == 0
    head, _, body = result.stdout.partition("\n\n")  # the fixture reads CRLF as newlines
    lines = head.split("\n")
    assert lines[0] == "HTTP/1.1 200 OK"
    assert "Api-Version: 1.41" in lines
    assert body == "OK"
    assert result.stderr == ""


def test_head_request(dockgate):
    result = dockgate("api", "HEAD", "/_ping")
    assert result.returncode == 0
    assert result.stderr.strip() == "HTTP 200 OK"
    assert result.stdout == ""


def test_on_tls_host(dockgate, docker2):
    result = dockgate("api", "GET", "/info", "--host", "test2")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ID"] == docker2.info()["ID"]


def test_logs_follow_streams_as_output_arrives(cli_env, docker1, name):
    container = docker1.containers.run("busybox", ["sh", "-c", "echo first; sleep 30; echo never"],
                                       name=name, detach=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dockgate", "api", "GET",
         f"/containers/{container.id}/logs?stdout=1&follow=1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env)
    try:
        received = b""
        deadline = time.monotonic() + 20
        while b"first" not in received and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 1)
            if ready:
                received += os.read(proc.stdout.fileno(), 4096)
        assert b"first\n" in received
        assert received.startswith(b"\x01\x00\x00\x00")  # the engine's framing, passed on raw
        assert proc.poll() is None  # still following
    finally:
        proc.kill()
        proc.communicate()


def test_json_is_indented_on_a_terminal(cli_env):
    child = pexpect.spawn(sys.executable, ["-m", "dockgate", "api", "GET", "/version"],
                          env=cli_env, timeout=20)
    child.expect(pexpect.EOF)
    text = child.before.decode().replace("\r\n", "\n")
    assert '\n  "ApiVersion": "1.41",\n' in text


@pytest.mark.parametrize(("args", "message"), [
    (("FETCH", "/version"), "invalid METHOD: 'FETCH' is not one of GET, POST, PUT, DELETE, HEAD"),
    (("POST", "/containers/create", "--data", "{nope"), "invalid --data: not valid JSON"),
    (("GET", "/version", "-H", "NoColon"), "invalid --header: 'NoColon' is not 'Name: value'"),
    (("GET", "/containers/json all=1"), "invalid PATH"),
    (("POST", "/containers/create", "--data", "{}", "--data-file", "x"), "give --data or --data-file"),
    (("POST", "/containers/create", "--data-file", "/nonexistent/body.json"),
     "invalid --data-file: cannot read /nonexistent/body.json"),
])
def test_bad_usage_exits_2_before_sending(dockgate, args, message):
    result = dockgate("api", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_invalid_json_data_creates_nothing(dockgate, docker1, name):
    result = dockgate("api", "POST", f"/containers/create?name={name}", "--data", '{"Image": busybox}')
    assert result.returncode == 2
    assert not docker1.containers.list(all=True, filters={"name": name})


def test_non_json_data_file_is_sent_with_its_content_type(dockgate, tmp_path):
    path = tmp_path / "body.txt"
    path.write_text("not json")
    result = dockgate("api", "POST", "/containers/dgt-no-such-container/start", "--data-file", str(path),
                      "-H", "Content-Type: text/plain")
    assert result.returncode == 1
    assert result.stderr.strip() == "HTTP 400 Bad Request"
    assert "starting container with non-empty request body" in result.stdout  # the body did arrive
