"""Addresses, TLS material, discovery of the docker CLI's engine, and the TOML configuration."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from dockgate.config.file import ConfigError, ConfigFile, HostEntry, config_path, load, save
from dockgate.config.hosts import HostBook
from dockgate.engines.discovery import context_endpoint, default_endpoint
from dockgate.engines.endpoint import Endpoint, EndpointError, TLSMaterial


@pytest.mark.parametrize(("url", "tls", "expected"), [
    ("tcp://example.com:2375", None, "http://example.com:2375"),
    ("tcp://example.com", None, "http://example.com:2375"),
    ("tcp://example.com", TLSMaterial(), "https://example.com:2376"),
    ("tcp://[::1]:2376", TLSMaterial(), "https://[::1]:2376"),
    ("unix:///var/run/docker.sock", None, "unix:///var/run/docker.sock"),
    ("tcp://gw:6732/hosts/prod/", None, "http://gw:6732/hosts/prod"),
])
def test_client_url(url, tls, expected):
    assert Endpoint("h", url, tls).client_url() == expected


@pytest.mark.parametrize(("url", "fragment"), [
    ("http//nope", "unsupported engine address"),
    ("ftp://host", "unsupported engine address"),
    ("unix://relative.sock", "absolute path"),
    ("tcp://:2375", "no host name"),
    ("tcp://host:99999", "invalid port"),
    ("tcp://host:2375/?x=1", "must not have a query"),
    ("ssh://me@host/path", "an ssh address has no path"),
])
def test_bad_urls(url, fragment):
    with pytest.raises(EndpointError, match=fragment):
        Endpoint("h", url)


@pytest.mark.parametrize("name", ["", "-x", "a b", "x" * 64, "é"])
def test_bad_names(name):
    with pytest.raises(EndpointError, match="invalid host name"):
        Endpoint(name, "unix:///x.sock")


def test_tls_on_unix_is_refused():
    with pytest.raises(EndpointError, match="do not apply"):
        Endpoint("h", "unix:///x.sock", TLSMaterial())


def test_tls_missing_file_is_named(tmp_path):
    with pytest.raises(EndpointError, match="TLS CA file not found"):
        TLSMaterial(ca=tmp_path / "nope.pem").ssl_context()


def test_docker_host_with_tls_env(tmp_path):
    env = {"DOCKER_HOST": "tcp://10.1.2.3:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(tmp_path)}
    endpoint = default_endpoint(env)
    assert endpoint.name == "default" and endpoint.uses_tls
    assert endpoint.tls == TLSMaterial(tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem")


def test_no_env_means_local_socket(tmp_path):
    assert default_endpoint({"DOCKER_CONFIG": str(tmp_path)}).url == "unix:///var/run/docker.sock"


def _write_context(config_dir: Path, name: str, host: str) -> None:
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = config_dir / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    meta.joinpath("meta.json").write_text(json.dumps(
        {"Name": name, "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}}}))


def test_current_docker_context_is_used(tmp_path):
    _write_context(tmp_path, "staging", "tcp://staging:2375")
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "staging"}))
    endpoint = default_endpoint({"DOCKER_CONFIG": str(tmp_path)})
    assert (endpoint.name, endpoint.url) == ("staging", "tcp://staging:2375")


def test_docker_context_env_wins_over_config(tmp_path):
    _write_context(tmp_path, "a", "tcp://a:2375")
    _write_context(tmp_path, "b", "tcp://b:2375")
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "a"}))
    assert default_endpoint({"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "b"}).url == "tcp://b:2375"


def test_missing_context_is_a_clear_error(tmp_path):
    with pytest.raises(EndpointError, match="docker context 'ghost' not found"):
        context_endpoint("ghost", {"DOCKER_CONFIG": str(tmp_path)})


def test_config_round_trip(tmp_path):
    path = tmp_path / "c.toml"
    entry = HostEntry(url="tcp://p:2376", tls_ca=Path("/ca"))
    config = ConfigFile(default_host="prod", hosts={"prod": entry})
    save(path, config)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load(path) == config


def test_missing_config_is_empty(tmp_path):
    assert load(tmp_path / "none.toml") == ConfigFile()


@pytest.mark.parametrize(("text", "fragment"), [
    ("hosts = [", "is not valid TOML"),
    ("colour = 'red'", "colour: unknown setting"),
    ("[hosts.a]\nurl = 'unix:///x'\ntls = 1", "hosts.a.tls: unknown setting"),
    ("[hosts.a]\nurl = 'gopher://x'", "hosts.a.url: unsupported engine address"),
    ("[hosts.'bad name']\nurl = 'unix:///x'", "invalid host name"),
    ("default_host = 'nope'", "default_host 'nope' is not one of the [hosts]"),
    ("[hosts.a]\nurl = 'unix:///x'\ntls_verify = 'maybe'", "hosts.a.tls_verify"),
])
def test_bad_config_names_file_and_setting(tmp_path, text, fragment):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load(path)
    assert str(path) in str(info.value) and fragment in str(info.value)


def test_config_path_precedence(tmp_path):
    assert config_path(tmp_path / "flag.toml", {"DOCKGATE_CONFIG": "/env.toml"}) == tmp_path / "flag.toml"
    assert config_path(None, {"DOCKGATE_CONFIG": "/env.toml"}) == Path("/env.toml")
    assert config_path(None, {"XDG_CONFIG_HOME": "/xdg"}) == Path("/xdg/dockgate/config.toml")


def test_host_book_lists_discovered_host_and_selects(tmp_path):
    config = ConfigFile(hosts={"a": HostEntry(url="unix:///a.sock")})
    book = HostBook.build(config, {"DOCKER_HOST": "unix:///d.sock"})
    assert list(book.endpoints) == ["default", "a"]
    assert book.default == "default" and book.implicit == "default"
    assert [e.name for e in book.select(["a"])] == ["a"]
    assert [e.name for e in book.select(all_hosts=True)] == ["default", "a"]
    with pytest.raises(ConfigError, match="unknown host 'zz'"):
        book.select(["zz"])


def test_configured_default_wins(tmp_path):
    config = ConfigFile(default_host="a", hosts={"a": HostEntry(url="unix:///a.sock")})
    assert HostBook.build(config, {"DOCKER_CONFIG": str(tmp_path)}).default == "a"


def test_missing_local_socket_is_not_listed_beside_configured_hosts(tmp_path, monkeypatch):
    monkeypatch.setattr("dockgate.engines.discovery.DEFAULT_SOCKET", f"unix://{tmp_path}/docker.sock")
    config = ConfigFile(hosts={"a": HostEntry(url="unix:///a.sock")})
    env = {"DOCKER_CONFIG": str(tmp_path)}
    assert list(HostBook.build(config, env).endpoints) == ["a"]
    assert list(HostBook.build(ConfigFile(), env).endpoints) == ["default"]
    (tmp_path / "docker.sock").touch()
    assert list(HostBook.build(config, env).endpoints) == ["default", "a"]


def test_gateway_listeners_can_be_turned_off_in_the_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[gateway]\nlisten = ""\nunix_socket = ""\n')
    settings = load(path).gateway
    assert settings.listen is None and settings.unix_socket is None


def test_gateway_tls_files_go_together(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[gateway]\ntls_cert = "/c.pem"\n')
    with pytest.raises(ConfigError, match="tls_cert and tls_key go together"):
        load(path)


@pytest.mark.parametrize("runtime", ["", "relative/run", "/nonexistent/run"])
def test_the_gateways_private_folder_is_absolute_and_owner_only_whatever_xdg_runtime_dir_says(
        runtime, monkeypatch, tmp_path):
    from dockgate.gateway.process import _private_folder

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    folder = _private_folder()
    try:
        assert folder.is_absolute() and folder.is_dir()
        assert folder.stat().st_mode & 0o777 == 0o700
    finally:
        folder.rmdir()
