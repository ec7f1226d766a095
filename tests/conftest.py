"""Shared fixtures: two real private engines from scripts/engine-rig, a config naming them, and
ways to run the real ``dockgate`` command and to check results with docker-py as an independent judge.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

ROOT = Path(__file__).resolve().parents[1]
RIG = ROOT / "scripts" / "engine-rig"
TLS_PORT = int(os.environ.get("DOCKGATE_TEST_TLS_PORT", "23762"))
TEST_LABEL = "dockgate.test"

# requests (under docker-py) lets these variables override a client's own CA, which would make
# docker-py distrust the rig's test CA; dockgate itself never reads them.
for _var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(_var, None)


@dataclass(frozen=True)
class Engine:
    name: str
    url: str
    tls_dir: Path | None = None


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def out_lines(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.strip()]


def rig(*args: str) -> str:
    proc = subprocess.run([str(RIG), *args], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"engine-rig {' '.join(args)} failed:\n{proc.stderr}")
    return proc.stdout.strip()


@pytest.fixture(scope="session")
def engine1() -> Engine:
    return Engine("test1", rig("up", "test1"))


@pytest.fixture(scope="session")
def engine2() -> Engine:
    rig("up", "test2", "--tcp", str(TLS_PORT), "--tls")
    rig_root = Path(os.environ.get("DOCKGATE_RIG_ROOT", "/var/tmp/dockgate-rig"))
    return Engine("test2", f"tcp://127.0.0.1:{TLS_PORT}", rig_root / "engines" / "test2" / "tls")


@pytest.fixture(scope="session")
def config_file(tmp_path_factory: pytest.TempPathFactory, engine1: Engine, engine2: Engine) -> Path:
    """test1 (unix socket, default), test2 (TCP with TLS client certificates), down (refused)."""
    path = tmp_path_factory.mktemp("config") / "config.toml"
    tls = engine2.tls_dir
    path.write_text(
        'default_host = "test1"\n\n'
        f'[hosts.test1]\nurl = "{engine1.url}"\n\n'
        f'[hosts.test2]\nurl = "{engine2.url}"\ntls_ca = "{tls}/ca.pem"\n'
        f'tls_cert = "{tls}/cert.pem"\ntls_key = "{tls}/key.pem"\n\n'
        '[hosts.down]\nurl = "tcp://127.0.0.1:1"\n'
    )
    return path


@pytest.fixture(scope="session")
def cli_env(config_file: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of every ``dockgate`` and ``docker`` the tests run: the test config, a store
    of users and tokens in a scratch folder, and a docker config that sends the tests' admin token
    (HttpHeaders, as ``dockgate login`` writes it). docker-py in this process reads it too."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "DOCKGATE_"))}
    data = tmp_path_factory.mktemp("dockgate-data")
    env["DOCKGATE_CONFIG"] = str(config_file)
    env["DOCKGATE_STORE_URL"] = f"sqlite:///{data}/dockgate.db"
    env["XDG_DATA_HOME"] = str(data)
    env["DOCKER_CONFIG"] = str(tmp_path_factory.mktemp("docker-config"))
    env["COLUMNS"] = "250"
    token = _admin_token(env)
    (Path(env["DOCKER_CONFIG"]) / "config.json").write_text(
        json.dumps({"HttpHeaders": {"Authorization": f"Bearer {token}"}}))
    os.environ["DOCKER_CONFIG"] = env["DOCKER_CONFIG"]
    env["DOCKGATE_TEST_TOKEN"] = token
    return env


def _admin_token(env: dict[str, str]) -> str:
    """An admin user and a token for it, made with the real commands."""
    for args in (["users", "add", "tester", "--admin"], ["tokens", "create", "--user", "tester"]):
        proc = subprocess.run([sys.executable, "-m", "dockgate", *args], capture_output=True, text=True,
                              env=env, timeout=60)
        if proc.returncode != 0:
            raise RuntimeError(f"dockgate {' '.join(args)} failed:\n{proc.stderr}")
    return proc.stdout.strip()


@pytest.fixture(scope="session")
def admin_token(cli_env: dict[str, str]) -> str:
    return cli_env["DOCKGATE_TEST_TOKEN"]


@pytest.fixture(scope="session")
def dockgate(cli_env: dict[str, str]):
    """Run the real ``dockgate`` command in a subprocess, as a user would."""

    def run(*args: str, input: str | None = None, timeout: float = 60,
            env: dict[str, str] | None = None) -> Result:
        proc = subprocess.run([sys.executable, "-m", "dockgate", *args], capture_output=True,
                              text=True, input=input, timeout=timeout, env={**cli_env, **(env or {})})
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


def _client(engine: Engine) -> docker.DockerClient:
    if engine.tls_dir:
        tls = docker.tls.TLSConfig(client_cert=(str(engine.tls_dir / "cert.pem"),
                                                str(engine.tls_dir / "key.pem")),
                                   ca_cert=str(engine.tls_dir / "ca.pem"), verify=True)
        return docker.DockerClient(base_url=engine.url.replace("tcp://", "https://"), tls=tls)
    return docker.DockerClient(base_url=engine.url)


@pytest.fixture(scope="session")
def docker1(engine1: Engine) -> Iterator[docker.DockerClient]:
    """docker-py on test1: the independent judge of what dockgate did."""
    client = _client(engine1)
    yield client
    client.close()


@pytest.fixture(scope="session")
def docker2(engine2: Engine) -> Iterator[docker.DockerClient]:
    client = _client(engine2)
    yield client
    client.close()


@pytest.fixture
def test_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def name(test_id: str) -> str:
    """A container name unique to this test; names starting with it are cleaned up after it."""
    return f"dgt-{test_id}"


@pytest.fixture
def test_label(test_id: str) -> str:
    """A ``key=value`` label unique to this test; containers carrying it are cleaned up after it."""
    return f"{TEST_LABEL}={test_id}"


@pytest.fixture
def test_labels(test_label: str) -> dict[str, str]:
    """:func:`test_label` as the ``labels`` argument docker-py takes."""
    key, _, value = test_label.partition("=")
    return {key: value}


@pytest.fixture
def tagged(docker1, docker2, test_id) -> Iterator[str]:
    """busybox tagged ``dgt-<id>/img:v1`` and ``:v2`` on test1 and ``:two`` on test2, untagged afterwards."""
    repo = f"dgt-{test_id}/img"
    tags = [(docker1, "v1"), (docker1, "v2"), (docker2, "two")]
    for client, tag in tags:
        assert client.images.get("busybox:latest").tag(repo, tag)
    yield repo
    for client, tag in tags:
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.remove(f"{repo}:{tag}")


@pytest.fixture(autouse=True)
def _cleanup_test_containers(request: pytest.FixtureRequest, test_id: str) -> Iterator[None]:
    """Remove this test's containers (and only this test's: several suites may share the engines)
    on every engine the test used."""
    yield
    for fixture in ("docker1", "docker2"):
        if fixture not in request.fixturenames:
            continue
        client = request.getfixturevalue(fixture)
        # Raw listing: docker-py's containers.list() inspects each container, racing with others.
        for c in client.api.containers(all=True):
            names = [n.lstrip("/") for n in c.get("Names") or []]
            if any(n.startswith(f"dgt-{test_id}") for n in names) or (c.get("Labels") or {}).get(
                    TEST_LABEL) == test_id:
                with contextlib.suppress(docker.errors.NotFound):
                    client.api.remove_container(c["Id"], force=True)


def container_exists(client: docker.DockerClient, ref: str) -> bool:
    """Whether the engine behind docker-py ``client`` has container ``ref``: the judge of a create."""
    try:
        client.containers.get(ref)
    except docker.errors.NotFound:
        return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class GatewayProcess:
    """A running ``dockgate serve``: its addresses and its log."""

    tcp: str  # tcp://127.0.0.1:PORT
    unix: Path
    port: int
    log: Path
    process: subprocess.Popen
    token: str  # an admin's token, for requests written by hand

    @property
    def auth(self) -> bytes:
        return f"Authorization: Bearer {self.token}\r\n".encode()

    def docker(self, *args: str, host: str | None = None, input: str | None = None,
               timeout: float = 120, env: dict[str, str] | None = None) -> Result:
        """The stock docker CLI, through the gateway (``host`` adds the /hosts/NAME prefix)."""
        docker_host = self.tcp + (f"/hosts/{host}" if host else "")
        proc = subprocess.run(["docker", *args], capture_output=True, text=True, input=input,
                              timeout=timeout, env={**os.environ, "DOCKER_HOST": docker_host, **(env or {})})
        return Result(proc.returncode, proc.stdout, proc.stderr)


def start_gateway(cli_env: dict[str, str], folder: Path, *extra: str,
                  host: str = "127.0.0.1") -> GatewayProcess:
    port = free_port()
    sock = folder / "dockgate.sock"
    log = folder / "gateway.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "dockgate", "serve", "--listen", f"{host}:{port}", "--unix-socket",
         str(sock), *extra], env=cli_env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"dockgate serve exited:\n{log.read_text()}") from None
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError(f"dockgate serve did not listen:\n{log.read_text()}")
    return GatewayProcess(f"tcp://127.0.0.1:{port}", sock, port, log, process, cli_env["DOCKGATE_TEST_TOKEN"])


def stop_gateway(gateway: GatewayProcess) -> None:
    gateway.process.terminate()
    try:
        gateway.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        gateway.process.kill()


@pytest.fixture(scope="session")
def gateway(cli_env, tmp_path_factory) -> Iterator[GatewayProcess]:
    """``dockgate serve`` on a free loopback port and a unix socket, in front of test1 (default),
    test2 (TLS) and down."""
    gw = start_gateway(cli_env, tmp_path_factory.mktemp("gateway"))
    yield gw
    stop_gateway(gw)


def _sshd_binary() -> str:
    """Debian's sshd, installed on first use (without starting the system service)."""
    sshd = "/usr/sbin/sshd"
    if os.access(sshd, os.X_OK):
        return sshd
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail("openssh-server is not installed and cannot be installed here")
    policy = Path("/usr/sbin/policy-rc.d")
    made_policy = not policy.exists()
    if made_policy:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        proc = subprocess.run(["apt-get", "install", "-y", "-qq", "-o", "DPkg::Lock::Timeout=300",
                               "openssh-server"], capture_output=True, text=True, timeout=600,
                              env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    finally:
        if made_policy:
            policy.unlink()
    if proc.returncode != 0 or not os.access(sshd, os.X_OK):
        pytest.fail(f"could not install openssh-server: {proc.stderr.strip()[-300:]}")
    return sshd


@pytest.fixture(scope="session")
def ssh_engine(tmp_path_factory, engine1):
    """(url, HOME) of a private sshd on loopback that logs root in by key and points the remote
    docker CLI at test1; HOME holds the client key and known_hosts that aiodocker's connector reads."""
    sshd = _sshd_binary()
    base = tmp_path_factory.mktemp("sshd")
    home = base / "home"
    (home / ".ssh").mkdir(parents=True)
    keygen = ["ssh-keygen", "-q", "-t", "ed25519", "-N", ""]
    subprocess.run([*keygen, "-f", str(base / "host_key")], check=True)
    subprocess.run([*keygen, "-f", str(home / ".ssh" / "id_ed25519")], check=True)
    (base / "authorized_keys").write_text((home / ".ssh" / "id_ed25519.pub").read_text())
    port = free_port()
    (base / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {base}/host_key\nPidFile {base}/sshd.pid\n"
        f"AuthorizedKeysFile {base}/authorized_keys\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nStrictModes no\n"
        f"UsePAM no\nSetEnv DOCKER_HOST={engine1.url}\n")
    host_key = " ".join((base / "host_key.pub").read_text().split()[:2])
    (home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key}\n")
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation folder
    server = subprocess.Popen([sshd, "-D", "-E", str(base / "log"), "-f", str(base / "sshd_config")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    else:
        server.kill()
        pytest.fail(f"sshd did not start: {(base / 'log').read_text()}")
    yield f"ssh://root@127.0.0.1:{port}", home
    server.terminate()
    server.wait(timeout=10)


@dataclass
class Person:
    """A gateway user with a token, and the stock clients set up to act as them."""

    name: str
    token: str
    docker_config: Path  # $DOCKER_CONFIG with HttpHeaders, as `dockgate login` writes it
    gateway: GatewayProcess

    @property
    def header(self) -> bytes:
        return f"Authorization: Bearer {self.token}\r\n".encode()

    def docker(self, *args: str, host: str | None = None, input: str | None = None,
               timeout: float = 120) -> Result:
        """The stock docker CLI as this person, through the gateway."""
        return self.gateway.docker(*args, host=host, input=input, timeout=timeout,
                                   env={"DOCKER_CONFIG": str(self.docker_config)})

    def py(self, host: str | None = None) -> docker.DockerClient:
        """docker-py as this person (the token also on attach_socket's raw requests)."""
        url = self.gateway.tcp.replace("tcp://", "http://") + (f"/hosts/{host}" if host else "")
        client = docker.DockerClient(base_url=url, version="1.41")
        # docker-py adds the HttpHeaders of $DOCKER_CONFIG (the session admin's) to its own calls, over
        # its session headers: this person's token goes in both places.
        client.api._general_configs["HttpHeaders"] = {"Authorization": f"Bearer {self.token}"}
        client.api.headers["Authorization"] = f"Bearer {self.token}"
        return client


# name -> dockgate users add arguments. The session's admin ("tester") is the gateway fixture's.
PEOPLE = {
    "olga": ["--grant", "operator@test1"],  # operator on test1 only
    "vic": ["--grant", "viewer@test1", "--grant", "viewer@test2"],  # read-only on both
    "pat": ["--grant", "operator@test1:team=payments"],  # operator for payments' containers only
    "nora": [],  # a user without any grant
}


@pytest.fixture(scope="session")
def people(cli_env, gateway, tmp_path_factory) -> dict[str, Person]:
    """Users of the session gateway, made with the real commands, each with a token and a docker config."""
    folder = tmp_path_factory.mktemp("people")
    made = {}
    for name, args in PEOPLE.items():
        for argv in (["users", "add", name, *args], ["tokens", "create", "--user", name]):
            proc = subprocess.run([sys.executable, "-m", "dockgate", *argv], capture_output=True, text=True,
                                  env=cli_env, timeout=60)
            assert proc.returncode == 0, proc.stderr
        token = proc.stdout.strip()
        config = folder / name
        config.mkdir()
        (config / "config.json").write_text(json.dumps({"HttpHeaders": {"Authorization": f"Bearer {token}"}}))
        made[name] = Person(name, token, config, gateway)
    return made
