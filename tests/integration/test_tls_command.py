"""``dockgate tls`` as a person uses it: issue a CA, the gateway's certificate and a client folder,
serve with the exact line it prints, and connect with Python's ssl and the stock docker CLI."""

from __future__ import annotations

import json
import os
import shlex
import socket
import ssl
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.conftest import start_gateway, stop_gateway

from dockgate.config.file import GatewaySettings


@dataclass(frozen=True)
class Issued:
    tls: Path  # the --dir folder
    serve_args: list[str]  # what `tls server` said to give `dockgate serve`
    export: dict[str, str]  # what `tls client alice` said to export
    alice: Path  # alice's DOCKER_CERT_PATH
    mallory: Path  # a client folder from another CA


def _ok(dockgate, *args: str, env: dict[str, str] | None = None):
    result = dockgate("tls", *args, input="", env=env)
    assert result.returncode == 0, result.stderr
    return result


def _refused(dockgate, *args: str, env: dict[str, str] | None = None) -> str:
    """The one-line error of a refused command (exit 2, no traceback)."""
    result = dockgate("tls", *args, input="", env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr.strip()


def _serve_args(stdout: str) -> list[str]:
    line = next(line for line in stdout.splitlines() if line.strip().startswith("dockgate serve "))
    return shlex.split(line.strip())[2:]


def _exports(stdout: str) -> dict[str, str]:
    line = next(line for line in stdout.splitlines() if line.startswith("export "))
    return dict(word.split("=", 1) for word in shlex.split(line)[1:])


@pytest.fixture(scope="module")
def issued(dockgate, tmp_path_factory) -> Issued:
    root = tmp_path_factory.mktemp("tls-command")
    tls = root / "tls"
    _ok(dockgate, "init", "--dir", str(tls))
    server = _ok(dockgate, "server", "--dir", str(tls))
    client = _ok(dockgate, "client", "alice", "--dir", str(tls))
    _ok(dockgate, "init", "--dir", str(root / "rogue"), "--name", "rogue CA")
    _ok(dockgate, "client", "mallory", "--dir", str(root / "rogue"))
    export = _exports(client.stdout)
    return Issued(tls, _serve_args(server.stdout), export, Path(export["DOCKER_CERT_PATH"]),
                  root / "rogue" / "clients" / "mallory")


@pytest.fixture(scope="module")
def tls_gateway(cli_env, dockgate, issued, tmp_path_factory):
    """The gateway started with exactly the flags `dockgate tls server` printed. alice is a user of
    its own store, so her certificate names a user once the gateway checks who is calling."""
    folder = tmp_path_factory.mktemp("tls-command-gateway")
    env = {**cli_env, "DOCKGATE_STORE_URL": f"sqlite:///{folder / 'store.db'}"}
    added = dockgate("users", "add", "alice", "--admin", env=env)
    assert added.returncode == 0, added.stderr
    gw = start_gateway(env, folder, *issued.serve_args, "--no-unix")
    yield gw
    stop_gateway(gw)


def _client_context(ca: Path, cert_dir: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.load_cert_chain(cert_dir / "cert.pem", cert_dir / "key.pem")
    return ctx


def _ping(port: int, ctx: ssl.SSLContext, hostname: str) -> tuple[dict, bytes]:
    """The server certificate as the client verified it, and the whole HTTP answer to /_ping."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            ctx.wrap_socket(raw, server_hostname=hostname) as tls:
        peer = tls.getpeercert()
        tls.sendall(b"GET /_ping HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := tls.recv(65536):
            answer += chunk
    return peer, answer


def test_the_issued_client_certificate_passes_the_handshake_and_reaches_the_api(tls_gateway, issued):
    ctx = _client_context(issued.alice / "ca.pem", issued.alice)
    for hostname in ("127.0.0.1", "localhost"):  # the default SANs: an IP SAN and a DNS SAN
        peer, answer = _ping(tls_gateway.port, ctx, hostname)
        assert ("commonName", "localhost") in peer["subject"][0]
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b"\r\n\r\nOK"), answer[:300]


def test_a_certificate_whose_cn_names_no_user_gets_through_the_handshake_only(dockgate, tls_gateway, issued,
                                                                              tmp_path):
    nobody = tmp_path / "nobody"
    _ok(dockgate, "client", "nobody", "--dir", str(issued.tls), "--out", str(nobody))
    _, answer = _ping(tls_gateway.port, _client_context(nobody / "ca.pem", nobody), "localhost")
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:300]


@pytest.mark.parametrize("who", ["mallory from another CA", "the gateway's own server certificate"])
def test_other_certificates_are_refused_during_the_handshake(tls_gateway, issued, who):
    # The client trusts the gateway, so only the gateway's verdict on the client certificate counts.
    cert_dir = issued.mallory if who.startswith("mallory") else _server_as_client(issued)
    ctx = _client_context(issued.tls / "ca.pem", cert_dir)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        _, answer = _ping(tls_gateway.port, ctx, "127.0.0.1")
        if not answer:  # TLS 1.3: the server's alert may arrive as the connection closing
            raise ConnectionError("closed without an answer")


def _server_as_client(issued: Issued) -> Path:
    folder = issued.tls.parent / "server-as-client"
    folder.mkdir(exist_ok=True)
    (folder / "cert.pem").write_bytes((issued.tls / "server-cert.pem").read_bytes())
    (folder / "key.pem").write_bytes((issued.tls / "server-key.pem").read_bytes())
    return folder


def test_the_docker_cli_uses_the_client_folder_as_printed(tls_gateway, issued, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    assert issued.export["DOCKER_TLS_VERIFY"] == "1"
    printed = issued.export["DOCKER_HOST"]
    assert printed == "tcp://127.0.0.1:6732"  # loopback SANs only; the default port
    for host in (f"tcp://127.0.0.1:{tls_gateway.port}", f"tcp://localhost:{tls_gateway.port}"):
        result = subprocess.run(
            ["/usr/local/bin/docker", "version", "--format", "{{.Server.APIVersion}}"],
            capture_output=True, text=True, timeout=60,
            env={**env, **issued.export, "DOCKER_HOST": host, "DOCKER_CONFIG": str(tmp_path)})
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "1.41"


def test_ls_lists_what_was_issued(dockgate, issued):
    rows = json.loads(_ok(dockgate, "ls", "--dir", str(issued.tls), "--format", "json").stdout)
    summary = [(r["kind"], r["subject"], r["usages"], r["status"]) for r in rows]
    assert summary == [("ca", "dockgate CA", ["certSign", "crlSign"], "valid"),
                       ("server", "localhost", ["serverAuth"], "valid"),
                       ("client", "alice", ["clientAuth"], "valid")]
    assert rows[1]["sans"] == ["localhost", "127.0.0.1", "::1"]
    table = _ok(dockgate, "ls", "--dir", str(issued.tls)).stdout
    assert table.split()[:7] == ["KIND", "SUBJECT", "SANS", "USAGE", "EXPIRES", "STATUS", "PATH"]
    assert "clients/alice/cert.pem" in table


def test_every_command_but_init_needs_a_ca_first(dockgate, tmp_path):
    empty = str(tmp_path / "none")
    for args in (("server",), ("client", "alice"), ("ls",)):
        message = _refused(dockgate, *args, "--dir", empty)
        assert message == f"error: no CA in {empty} yet: run dockgate tls init --dir {empty} first"
    assert not (tmp_path / "none").exists()


def test_default_folder_is_under_xdg_config_home_with_owner_only_keys(dockgate, tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    _ok(dockgate, "init", env=env)
    _ok(dockgate, "server", env=env)
    _ok(dockgate, "client", "bob", env=env)
    folder = tmp_path / "dockgate" / "tls"
    modes = {p.relative_to(folder).as_posix(): p.stat().st_mode & 0o777 for p in folder.rglob("*.pem")}
    assert modes == {"ca.pem": 0o644, "ca-key.pem": 0o600, "server-cert.pem": 0o644,
                     "server-key.pem": 0o600, "clients/bob/ca.pem": 0o644, "clients/bob/cert.pem": 0o644,
                     "clients/bob/key.pem": 0o600}


def test_existing_files_are_kept_without_force(dockgate, tmp_path):
    tls = str(tmp_path / "tls")
    _ok(dockgate, "init", "--dir", tls)
    _ok(dockgate, "client", "alice", "--dir", tls)
    ca_before = (tmp_path / "tls" / "ca.pem").read_bytes()
    message = _refused(dockgate, "init", "--dir", tls)
    assert "ca.pem" in message and "ca-key.pem" in message and "use --force" in message
    assert "every certificate the CA issued then stops working" in message
    assert "use --force" in _refused(dockgate, "client", "alice", "--dir", tls)
    assert (tmp_path / "tls" / "ca.pem").read_bytes() == ca_before
    # With --force the CA is new, and ls shows that alice's certificate no longer verifies.
    _ok(dockgate, "init", "--dir", tls, "--force")
    rows = json.loads(_ok(dockgate, "ls", "--dir", tls, "--format", "json").stdout)
    assert [(r["subject"], r["status"]) for r in rows] == [("dockgate CA", "valid"),
                                                          ("alice", "not issued by this CA")]
    _ok(dockgate, "client", "alice", "--dir", tls, "--force")
    rows = json.loads(_ok(dockgate, "ls", "--dir", tls, "--format", "json").stdout)
    assert rows[1]["status"] == "valid"


@pytest.mark.parametrize(("san", "reason"), [
    ("tcp://gw.example.com:6732", "is a URL"),
    ("gw.example.com:6732", "without :PORT"),
    ("10.0.0.0/8", "one host name or IP address per --san"),
    ("bad name", "not a valid host name"),
])
def test_a_bad_san_is_refused_and_nothing_is_written(dockgate, tmp_path, san, reason):
    tls = tmp_path / "tls"
    _ok(dockgate, "init", "--dir", str(tls))
    message = _refused(dockgate, "server", "--dir", str(tls), "--san", san)
    assert message.startswith(f"error: invalid --san: {san!r}") and reason in message
    assert not (tls / "server-cert.pem").exists() and not (tls / "server-key.pem").exists()


def test_an_unusable_folder_is_named(dockgate, tmp_path):
    (tmp_path / "file").write_text("in the way")
    message = _refused(dockgate, "init", "--dir", str(tmp_path / "file" / "tls"))
    assert message == f"error: cannot create {tmp_path / 'file' / 'tls'}: Not a directory"
    message = _refused(dockgate, "init", "--dir", str(tmp_path / "file"))
    assert message == f"error: cannot use {tmp_path / 'file'} as a folder: a file of that name is in the way"


def test_server_prints_a_listen_address_remote_clients_reach_and_valid_settings(dockgate, tmp_path):
    tls = tmp_path / "tls"
    _ok(dockgate, "init", "--dir", str(tls))
    out = _ok(dockgate, "server", "--dir", str(tls), "--san", "gw.example.com", "--san", "10.0.0.5").stdout
    args = _serve_args(out)
    assert args == ["--listen", "0.0.0.0:6732", "--tls-cert", str(tls / "server-cert.pem"),
                    "--tls-key", str(tls / "server-key.pem"), "--tls-client-ca", str(tls / "ca.pem")]
    snippet = out[out.index("\n[gateway]\n") + 1:]
    settings = GatewaySettings.model_validate(tomllib.loads(snippet)["gateway"])
    assert (settings.listen, settings.tls_cert, settings.tls_client_ca) == (
        "0.0.0.0:6732", tls / "server-cert.pem", tls / "ca.pem")
    # A client certificate issued next says where to reach that server.
    client = _ok(dockgate, "client", "carol", "--dir", str(tls))
    assert _exports(client.stdout)["DOCKER_HOST"] == "tcp://gw.example.com:6732"
    assert "dockgate users add carol" in client.stderr and "[access] cert_users" in client.stderr


def test_client_names_the_user_a_mapped_cn_stands_for(dockgate, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[access]\ncert_users = { "alice-laptop" = "alice" }\n')
    tls = str(tmp_path / "tls")
    env = {"DOCKGATE_CONFIG": str(config)}
    _ok(dockgate, "init", "--dir", tls, env=env)
    client = _ok(dockgate, "client", "alice-laptop", "--dir", tls, env=env)
    assert "the gateway takes CN alice-laptop as user alice ([access] cert_users)" in client.stderr


def test_a_ca_made_by_dockers_tls_guide_issues_with_its_passphrase(dockgate, tmp_path):
    """openssl genrsa -aes256 / openssl req -x509, as in docker's 'Protect the Docker daemon socket'."""
    tls = tmp_path / "tls"
    tls.mkdir()
    subprocess.run(["openssl", "genrsa", "-aes256", "-passout", "pass:secret", "-out", "ca-key.pem", "2048"],
                   cwd=tls, check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-new", "-x509", "-days", "365", "-key", "ca-key.pem", "-passin",
                    "pass:secret", "-sha256", "-out", "ca.pem", "-subj", "/CN=docker-ca"],
                   cwd=tls, check=True, capture_output=True)
    message = _refused(dockgate, "client", "dave", "--dir", str(tls))
    assert message == (f"error: {tls / 'ca-key.pem'} is encrypted: set DOCKGATE_CA_PASSPHRASE to its "
                       "passphrase, or run in a terminal to type it")
    assert _refused(dockgate, "client", "dave", "--dir", str(tls),
                    env={"DOCKGATE_CA_PASSPHRASE": "wrong"}).endswith("wrong passphrase")
    _ok(dockgate, "client", "dave", "--dir", str(tls), env={"DOCKGATE_CA_PASSPHRASE": "secret"})
    verified = subprocess.run(["openssl", "verify", "-purpose", "sslclient", "-CAfile", str(tls / "ca.pem"),
                               str(tls / "clients" / "dave" / "cert.pem")], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
