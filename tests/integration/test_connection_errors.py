"""Errors a person can act on, host management, discovery without configuration, and ssh:// hosts.

Each test writes its own configuration file (or none) in tmp_path, so that nothing here changes the
shared one; engines are only read, except for the containers a test creates under its own name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _config(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return {"DOCKGATE_CONFIG": str(path)}


def _one_line_error(result) -> str:
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def other_ca(tmp_path: Path) -> Path:
    """A CA that did not sign the rig's server certificate."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=not the rig CA", "-keyout",
                    str(tmp_path / "other-key.pem"), "-out", str(tmp_path / "other-ca.pem")],
                   check=True, capture_output=True)
    return tmp_path / "other-ca.pem"


# -- unreachable engines ------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "reason"), [
    ("tcp://127.0.0.1:1", "connection refused (is dockerd running?)"),
    ("unix:///nonexistent/dockgate/docker.sock", "no such socket"),
])
def test_unreachable_host_is_named_with_the_reason(dockgate, tmp_path, url, reason):
    env = _config(tmp_path, f'[hosts.gone]\nurl = "{url}"\n')
    result = dockgate("ps", "--host", "gone", env=env)
    assert result.returncode == 1
    assert _one_line_error(result) == f"error: host gone is down: cannot reach the engine at {url}: {reason}"
    tested = dockgate("hosts", "test", "gone", env=env)
    assert tested.returncode == 1
    assert f"gone: cannot reach the engine at {url}: {reason}" in tested.stderr


def test_tls_with_a_ca_that_did_not_sign_the_engine(dockgate, tmp_path, engine2, other_ca):
    tls = engine2.tls_dir
    env = _config(tmp_path, f'[hosts.test2]\nurl = "{engine2.url}"\ntls_ca = "{other_ca}"\n'
                            f'tls_cert = "{tls}/cert.pem"\ntls_key = "{tls}/key.pem"\n')
    result = dockgate("ps", "--host", "test2", env=env)
    assert result.returncode == 1
    assert (f"host test2 is down: TLS verification of {engine2.url} failed "
            "(unable to get local issuer certificate); check the CA file") in _one_line_error(result)


def test_tls_without_a_client_certificate(dockgate, tmp_path, engine2):
    env = _config(tmp_path, f'[hosts.test2]\nurl = "{engine2.url}"\ntls_ca = "{engine2.tls_dir}/ca.pem"\n')
    result = dockgate("ps", "--host", "test2", env=env)
    assert result.returncode == 1
    assert f"TLS handshake with {engine2.url} failed" in _one_line_error(result)


def test_plain_tcp_to_the_tls_port_says_the_engine_speaks_tls(dockgate, tmp_path, engine2):
    env = _config(tmp_path, f'[hosts.test2]\nurl = "{engine2.url}"\n')
    result = dockgate("ps", "--host", "test2", env=env)
    assert result.returncode == 1
    assert f"the engine at {engine2.url} only speaks TLS: give this host its CA and client certificate" \
        in _one_line_error(result)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the CLI as another user")
def test_permission_denied_on_the_socket(cli_env, engine1):
    sock = Path(engine1.url.removeprefix("unix://"))
    mode = sock.stat().st_mode
    assert not mode & 0o006, "the rig socket is expected not to be open to everyone"
    env = {**cli_env, "DOCKER_HOST": engine1.url, "DOCKGATE_CONFIG": "/nonexistent/dockgate.toml"}
    proc = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           sys.executable, "-m", "dockgate", "ps"],
                          capture_output=True, text=True, env=env, timeout=60, cwd="/")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert (f"host default is down: permission denied on {engine1.url}: run as root or as a member "
            "of the socket's group") in proc.stderr


# -- engine refusals --------------------------------------------------------------------------

def test_create_from_a_missing_image_suggests_pull(dockgate, docker1, test_id):
    image = f"dgt-{test_id}-absent:1"
    result = dockgate("create", image)
    assert result.returncode == 1
    assert f"error: test1: No such image: {image}" in result.stderr
    assert f"pull it first: dockgate pull {image} --host test1" in result.stderr
    assert not docker1.containers.list(all=True, filters={"ancestor": image})


def test_create_with_a_name_in_use_is_a_conflict(dockgate, docker1, name):
    first = dockgate("create", "--name", name, "busybox", "true")
    assert first.returncode == 0, first.stderr
    second = dockgate("create", "--name", name, "busybox", "true")
    assert second.returncode == 1
    assert f'test1: Conflict. The container name "/{name}" is already in use' in _one_line_error(second)
    assert [c.id for c in docker1.containers.list(all=True, filters={"name": name})] == \
        [first.stdout.strip()]


# -- configuration --------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "problem"), [
    ('default_host = "unterminated\n', "is not valid TOML"),
    ('[hosts.a]\nurl = "unix:///x.sock"\ncolour = "red"\n', "hosts.a.colour: unknown setting"),
    ('[hosts.a]\nurl = "ftp://x"\n', "hosts.a.url: unsupported engine address 'ftp://x'"),
    ('default_host = "b"\n[hosts.a]\nurl = "unix:///x.sock"\n', "default_host 'b' is not one of the [hosts]"),
    ('[hosts."bad name"]\nurl = "unix:///x.sock"\n', "invalid host name 'bad name'"),
])
def test_a_broken_config_file_exits_2_naming_file_and_setting(dockgate, tmp_path, text, problem):
    env = _config(tmp_path, text)
    for args in (("ps",), ("hosts", "ls")):
        result = dockgate(*args, env=env)
        assert result.returncode == 2
        line = _one_line_error(result)
        assert line.startswith(f"error: {env['DOCKGATE_CONFIG']}")
        assert problem in line


@pytest.mark.parametrize(("url", "problem"), [
    ("ftp://x", "unsupported engine address 'ftp://x'"),
    ("unix://relative.sock", "a unix address needs an absolute path"),
    ("tcp://h:99999", "engine address 'tcp://h:99999' has an invalid port"),
    ("tcp://127.0.0.1:2375/?x=1", "must not have a query"),
])
def test_hosts_add_with_a_bad_url_exits_2_and_writes_nothing(dockgate, tmp_path, url, problem):
    env = _config(tmp_path, "")
    result = dockgate("hosts", "add", "x", url, env=env)
    assert result.returncode == 2
    assert problem in _one_line_error(result)
    assert Path(env["DOCKGATE_CONFIG"]).read_text() == ""


def test_hosts_add_ls_use_test_rm(dockgate, tmp_path, engine1, engine2):
    env = _config(tmp_path, "")
    added = dockgate("hosts", "add", "one", engine1.url, env=env)
    assert added.returncode == 0, added.stderr
    assert "one: engine 20.10" in added.stdout
    added = dockgate("hosts", "add", "two", engine2.url, "--cert-path", str(engine2.tls_dir), env=env)
    assert added.returncode == 0, added.stderr
    gone = dockgate("hosts", "add", "gone", "tcp://127.0.0.1:1", env=env)
    assert gone.returncode == 0  # saved, with a warning that it does not answer yet
    assert "warning: gone does not answer yet: cannot reach the engine" in gone.stderr
    again = dockgate("hosts", "add", "one", engine2.url, env=env)
    assert again.returncode == 2 and "host 'one' already exists" in again.stderr

    def listed() -> dict[str, dict]:
        result = dockgate("hosts", "ls", "--format", "json", env=env)
        assert result.returncode == 0, result.stderr
        return {h["name"]: h for h in json.loads(result.stdout)}

    hosts = listed()
    assert set(hosts) == {"one", "two", "gone"}
    assert hosts["one"]["default"] and hosts["one"]["state"] == "up"
    assert hosts["two"]["url"] == f"{engine2.url} (tls)" and hosts["two"]["state"] == "up"
    assert hosts["gone"]["state"] == "down"

    assert dockgate("hosts", "use", "two", env=env).returncode == 0
    hosts = listed()
    assert hosts["two"]["default"] and not hosts["one"]["default"]
    ps = dockgate("ps", "--format", "json", env=env)
    assert [h["host"] for h in json.loads(ps.stdout)] == ["two"]
    unknown = dockgate("hosts", "use", "nope", env=env)
    assert unknown.returncode == 2 and "unknown host 'nope'" in unknown.stderr

    ok = dockgate("hosts", "test", "one", "two", env=env)
    assert ok.returncode == 0, ok.stderr
    assert [line.split(":")[0] for line in ok.out_lines] == ["one", "two"]
    assert dockgate("hosts", "test", env=env).returncode == 1  # 'gone' is among all hosts

    removed = dockgate("hosts", "rm", "gone", "two", env=env)
    assert removed.returncode == 0, removed.stderr
    hosts = listed()
    assert set(hosts) == {"one"}
    assert hosts["one"]["default"]  # the removed default falls back to the first host
    missing = dockgate("hosts", "rm", "gone", env=env)
    assert missing.returncode == 2 and "no configured host named 'gone'" in missing.stderr


# -- discovery without configuration -------------------------------------------------------------

def _hosts_seen(dockgate, env: dict[str, str]) -> list[str]:
    result = dockgate("ps", "-a", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert all(h["state"] == "up" for h in listing), listing
    return [h["host"] for h in listing]


def _no_config(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "empty.toml").write_text("")
    return {"DOCKGATE_CONFIG": str(tmp_path / "empty.toml"), "DOCKER_CONFIG": str(tmp_path / "docker")}


def test_docker_host_unix_socket_is_the_default_host(dockgate, tmp_path, engine1):
    assert _hosts_seen(dockgate, {**_no_config(tmp_path), "DOCKER_HOST": engine1.url}) == ["default"]


def test_docker_host_tcp_with_tls_variables(dockgate, tmp_path, engine2):
    env = {**_no_config(tmp_path), "DOCKER_HOST": engine2.url, "DOCKER_TLS_VERIFY": "1",
           "DOCKER_CERT_PATH": str(engine2.tls_dir)}
    assert _hosts_seen(dockgate, env) == ["default"]


def test_current_docker_context_is_used(dockgate, tmp_path, engine1, docker1, name):
    env = _no_config(tmp_path)
    docker_cli = ["docker", "--config", env["DOCKER_CONFIG"], "context"]
    subprocess.run([*docker_cli, "create", "ctx1", "--docker", f"host={engine1.url}"], check=True,
                   capture_output=True)
    subprocess.run([*docker_cli, "use", "ctx1"], check=True, capture_output=True)
    docker1.containers.create("busybox", ["true"], name=name)
    result = dockgate("ps", "-a", "--filter", f"name={name}", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    [host] = json.loads(result.stdout)
    assert host["host"] == "ctx1"
    assert [c["Names"] for c in host["containers"]] == [[f"/{name}"]]


# -- ssh:// hosts: the ssh_engine fixture (conftest) is a private sshd whose dial-stdio reaches test1

def test_ssh_host_lists_containers_and_shows_in_hosts_ls(dockgate, tmp_path, ssh_engine, docker1, name):
    url, home = ssh_engine
    env = {**_config(tmp_path, f'[hosts.viassh]\nurl = "{url}"\n'), "HOME": str(home)}
    docker1.containers.create("busybox", ["true"], name=name)
    result = dockgate("ps", "-a", "--host", "viassh", "--filter", f"name={name}", "--format", "json",
                      env=env)
    assert result.returncode == 0, result.stderr
    [host] = json.loads(result.stdout)
    assert host["host"] == "viassh"
    assert [c["Names"] for c in host["containers"]] == [[f"/{name}"]]
    listed = dockgate("hosts", "ls", "--format", "json", env=env)
    assert listed.returncode == 0, listed.stderr
    [entry] = json.loads(listed.stdout)
    assert (entry["name"], entry["state"], entry["api"]) == ("viassh", "up", "1.41")


def test_ssh_host_with_an_unknown_host_key_is_refused(dockgate, tmp_path, ssh_engine):
    url, _ = ssh_engine
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "known_hosts").write_text("")
    env = {**_config(tmp_path, f'[hosts.viassh]\nurl = "{url}"\n'), "HOME": str(home)}
    result = dockgate("ps", "--host", "viassh", env=env)
    assert result.returncode == 1
    assert f"host viassh is down: cannot reach the engine at {url}: Host key is not trusted" \
        in _one_line_error(result)
