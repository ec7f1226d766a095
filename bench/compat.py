"""Compatibility check: the same scenarios, run with the stock ``docker`` CLI and docker-py straight
against an engine, then through a dockgate gateway in front of that same engine. A client must not be
able to tell the two apart, so every scenario that passes directly must pass through the gateway too.

    .venv/bin/python bench/compat.py                 # every scenario (about 2 minutes)
    .venv/bin/python bench/compat.py --quick         # a representative subset (about 30 s)
    .venv/bin/python bench/compat.py --only exec,logs_tail   # scenarios whose name contains a word
    .venv/bin/python bench/compat.py --host-prefix   # address the gateway as tcp://…/hosts/compat
    .venv/bin/python bench/compat.py --list          # names only

It starts its own engine (``scripts/engine-rig up compat``, left running for the next run) and its own
gateway (``python -m dockgate serve --no-unix`` on a free loopback port, configured by a temporary
DOCKGATE_CONFIG whose default host ``compat`` is that engine). Everything a run creates on the engine
(containers, images, networks, volumes) and in the loopback registry (127.0.0.1:5055) carries the
run id in its name or a label, and is removed at the end, whatever happened.

For each scenario it prints pass/fail for each side (with the reason of a failure), then the counts,
e.g. ``direct: 61/61 passed, gateway: 61/61 passed``. A scenario also returns what it saw, leaving out
what varies from run to run (times, host ports) and with the sides' names and object ids masked; the
gateway side fails when it saw something else than the direct side. Exit status: 0 when the counts are
equal and the gateway passed everything that passed directly, 1 otherwise, 2 when nothing could be
compared (no scenario selected, or the engine or the gateway did not start).

The sides are not the same transport (the engine's unix socket, the gateway's TCP port); where the
docker CLI itself behaves differently over TCP, the scenario says so (attach_tty_detach_keys).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import io
import json
import os
import re
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import docker
import docker.errors
import pexpect
from docker.utils.socket import consume_socket_output, demux_adaptor, frames_iter

ROOT = Path(__file__).resolve().parents[1]
RIG = ROOT / "scripts" / "engine-rig"
REGISTRY = "127.0.0.1:5055"
HOST_NAME = "compat"  # the gateway's name for the engine
RUN_LABEL = "dockgate.compat"  # images a run builds or commits carry RUN_LABEL=<run id>
IMAGE = "busybox:latest"
# PID 1 ignores SIGTERM unless it traps it: this one stops at once instead of after the stop timeout.
STOPPABLE = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]
SEQ = "".join(f"{i}\n" for i in range(1, 20001)).encode()  # what `seq 1 20000` prints


# ---------------------------------------------------------------------------------------------------
# One side: a DOCKER_HOST and the clients bound to it
# ---------------------------------------------------------------------------------------------------
@dataclass
class Run:
    """One finished ``docker`` command."""

    args: tuple[str, ...]
    returncode: int
    raw: bytes
    raw_err: bytes

    @property
    def out(self) -> str:
        return self.raw.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.raw_err.decode("utf-8", "replace")

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


@dataclass
class Answer:
    """One raw HTTP exchange with the Engine API."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


class Side:
    """The clients of one run: the docker CLI, docker-py, raw HTTP and pexpect, all on one DOCKER_HOST.
    Names made with :meth:`name` are unique to the run and the side, so both sides can share an engine."""

    def __init__(self, label: str, docker_host: str, run_id: str, work: Path,
                 token: str | None = None) -> None:
        self.label = label
        self.token = token
        self.via_gateway = label == "gateway"
        self.docker_host = docker_host
        self.run_id = run_id
        self.prefix = f"cpt-{run_id}-{label[0]}"
        self.work = work
        (work / "docker-config").mkdir(parents=True, exist_ok=True)
        # The gateway's token travels as docker clients send it: HttpHeaders in the docker config.
        headers = {"HttpHeaders": {"Authorization": f"Bearer {token}"}} if token else {}
        (work / "docker-config" / "config.json").write_text(json.dumps(headers))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "DOCKGATE_"))}
        self.env.update(DOCKER_HOST=docker_host, DOCKER_CONFIG=str(work / "docker-config"),
                        DOCKER_CLI_HINTS="false")
        self.registry_repos: list[str] = []  # pushed to the loopback registry, for the janitor
        self._py: docker.DockerClient | None = None

    def name(self, what: str) -> str:
        return f"{self.prefix}-{what}"

    @property
    def run_label(self) -> str:
        return f"{RUN_LABEL}={self.run_id}"

    # -- the docker CLI ---------------------------------------------------------------------------
    def docker(self, *args: str | Path, input: bytes | str | None = None, env: dict[str, str] | None = None,
               timeout: float = 60) -> Run:
        """The docker CLI; stdin is empty unless ``input`` is given."""
        argv = tuple(str(a) for a in args)
        data = input.encode() if isinstance(input, str) else input
        proc = subprocess.run(["docker", *argv], input=b"" if data is None else data, capture_output=True,
                              timeout=timeout, env={**self.env, **(env or {})})
        return Run(argv, proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str | Path, input: bytes | str | None = None, env: dict[str, str] | None = None,
           timeout: float = 60) -> Run:
        """``docker`` that must succeed."""
        result = self.docker(*args, input=input, env=env, timeout=timeout)
        assert result.returncode == 0, (f"docker {' '.join(result.args)}: exit {result.returncode}: "
                                        f"{result.err.strip()[-400:]}")
        return result

    def fails(self, *args: str | Path) -> Run:
        """``docker`` that must fail (a non-zero exit and a message)."""
        result = self.docker(*args)
        assert result.returncode != 0, f"docker {' '.join(result.args)} succeeded but should fail"
        assert result.err.strip(), f"docker {' '.join(result.args)} failed without a message"
        return result

    def spawn(self, *args: str, timeout: float = 20) -> pexpect.spawn:
        """The docker CLI in a pseudo-terminal of 33 rows and 101 columns."""
        return pexpect.spawn("docker", list(args), env=self.env, timeout=timeout, dimensions=(33, 101),
                             encoding="utf-8")

    def inspect(self, ref: str) -> dict:
        return json.loads(self.ok("inspect", ref).out)[0]

    def status(self, ref: str) -> str:
        return self.ok("inspect", "--format", "{{.State.Status}}", ref).out.strip()

    def names(self, *ps_args: str) -> list[str]:
        """Names from ``docker ps -a`` with these options, in the engine's order."""
        return self.ok("ps", "-a", *ps_args, "--format", "{{.Names}}").lines

    def background(self, what: str, *flags: str, cmd: list[str] | None = None) -> str:
        """A detached container from busybox; returns its name."""
        name = self.name(what)
        self.ok("run", "-d", "--name", name, *flags, IMAGE, *(cmd or ["sleep", "300"]))
        return name

    def wait_for_log(self, name: str, text: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.ok("logs", name).out:
            assert time.monotonic() < deadline, f"{name} never logged {text!r}"
            time.sleep(0.05)

    # -- docker-py and raw HTTP -------------------------------------------------------------------
    @property
    def py(self) -> docker.DockerClient:
        if self._py is None:
            # docker-py reads HttpHeaders from $DOCKER_CONFIG, as a user's program would.
            saved = os.environ.get("DOCKER_CONFIG")
            os.environ["DOCKER_CONFIG"] = self.env["DOCKER_CONFIG"]
            try:
                self._py = docker.DockerClient(base_url=self.docker_host, timeout=60)
            finally:
                os.environ.pop("DOCKER_CONFIG") if saved is None else os.environ.update(DOCKER_CONFIG=saved)
            if self.token:  # attach_socket's raw POST does not send HttpHeaders: a session header does
                self._py.api.headers["Authorization"] = f"Bearer {self.token}"
        return self._py

    def http(self, method: str, target: str) -> Answer:
        """A raw request, for what the CLI cannot send (legacy versions and parameters, HEAD)."""
        url = urlsplit(self.docker_host)
        if url.scheme == "unix":
            conn: http.client.HTTPConnection = _UnixHTTPConnection(url.path, 30)
            prefix = ""
        else:
            conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
            prefix = url.path.rstrip("/")
        try:
            conn.request(method, prefix + target,
                         headers={"Authorization": f"Bearer {self.token}"} if self.token else {})
            response = conn.getresponse()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            conn.close()

    def close(self) -> None:
        if self._py is not None:
            self._py.close()

    # -- comparing what the two sides saw ----------------------------------------------------------
    def normalise(self, observed: object) -> object:
        """Mask what legitimately differs between the sides: their names, object ids and digests."""
        text = json.dumps(observed, sort_keys=True, default=str)
        text = text.replace(self.prefix, "cpt-X").replace(self.run_id, "RUN")
        text = re.sub(r"\b[0-9a-f]{64}\b", "<id>", text)
        text = re.sub(r"\b[0-9a-f]{12}\b", "<id>", text)
        return json.loads(text)


def expect(actual: object, wanted: object, what: str) -> None:
    assert actual == wanted, f"{what}: expected {wanted!r}, got {actual!r}"


def member_bytes(tar: tarfile.TarFile, member: str | tarfile.TarInfo) -> bytes:
    data = tar.extractfile(member)
    assert data is not None, f"{member} is no regular file in the archive"
    return data.read()


# ---------------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    name: str
    run: Callable[[Side], object]
    quick: bool


SCENARIOS: list[Scenario] = []


def scenario(quick: bool = False) -> Callable[[Callable[[Side], object]], Callable[[Side], object]]:
    """Register a scenario under its function's name; ``quick`` puts it in the --quick subset."""

    def register(fn: Callable[[Side], object]) -> Callable[[Side], object]:
        SCENARIOS.append(Scenario(fn.__name__, fn, quick))
        return fn

    return register


# -- engine -----------------------------------------------------------------------------------------
@scenario(quick=True)
def version(s: Side) -> object:
    v = json.loads(s.ok("version", "--format", "{{json .}}").out)
    expect(v["Server"]["ApiVersion"], "1.41", "server API version")
    expect(v["Client"]["ApiVersion"], "1.41", "client API version after negotiation")
    expect(s.py.version()["ApiVersion"], "1.41", "docker-py version()")
    return {k: v["Server"][k] for k in ("Version", "ApiVersion", "MinAPIVersion", "Os", "Arch", "GitCommit")}


@scenario()
def info(s: Side) -> object:
    i = json.loads(s.ok("info", "--format", "{{json .}}").out)
    assert not i.get("ServerErrors"), i.get("ServerErrors")
    expect(i["OSType"], "linux", "OSType")
    assert i["Images"] >= 3, f"Images: {i['Images']}"
    expect(i["RegistryConfig"]["Mirrors"], [f"http://{REGISTRY}/"], "registry mirrors")
    expect(s.py.info()["ID"], i["ID"], "docker-py info() ID")
    return {k: i[k] for k in ("ID", "Name", "ServerVersion", "Driver", "OSType", "DockerRootDir",
                              "LoggingDriver", "CgroupVersion")}


@scenario(quick=True)
def ping(s: Side) -> object:
    answer = s.http("GET", "/_ping")
    expect((answer.status, answer.body), (200, b"OK"), "GET /_ping")
    expect(answer.headers.get("api-version"), "1.41", "Api-Version header")
    head = s.http("HEAD", "/_ping")
    expect((head.status, head.body), (200, b""), "HEAD /_ping")
    expect(s.http("GET", "/v1.41/_ping").status, 200, "GET /v1.41/_ping")
    assert s.py.ping() is True
    return {k: answer.headers.get(k) for k in ("api-version", "ostype", "docker-experimental",
                                               "cache-control", "pragma", "content-type")}


@scenario()
def api_versions_and_errors_raw(s: Side) -> object:
    """Version prefixes and the engine's own error answers, byte for byte in the message."""
    missing = s.name("missing")
    seen = {}
    for target, status in [("/version", 200), ("/v1.41/version", 200), ("/v1.24/version", 200),
                           ("/v1.12/version", 200), ("/v1.11/version", 400), ("/v9.99/version", 400),
                           (f"/v1.41/containers/{missing}/json", 404), ("/v1.41/nowhere", 404),
                           ("/v1.41/images/json?filters=notjson", 500)]:
        answer = s.http("GET", target)
        expect(answer.status, status, f"GET {target}")
        body = answer.json() if answer.body.startswith(b"{") else answer.body.decode()
        seen[target] = [answer.status, body.get("message") if isinstance(body, dict) else body]
    expect(seen[f"/v1.41/containers/{missing}/json"][1], f"No such container: {missing}", "404 message")
    return seen


@scenario()
def cli_errors(s: Side) -> object:
    """The CLI's messages and exit codes for the engine's 404, 409 and 400 answers."""
    missing = s.name("missing")
    taken = s.name("taken")
    s.ok("create", "--name", taken, IMAGE, "true")
    seen = {}
    for what, args in [("inspect", ["inspect", missing]), ("rm", ["rm", missing]),
                       ("start", ["start", missing]), ("logs", ["logs", missing]),
                       ("exec", ["exec", missing, "true"]), ("stop", ["stop", missing]),
                       ("run-no-image", ["run", "--pull", "never", "--rm", f"{missing}:v1"]),
                       ("name-conflict", ["create", "--name", taken, IMAGE, "true"]),
                       ("bad-memory", ["create", "--memory", "1", IMAGE, "true"]),
                       ("exec-not-running", ["exec", taken, "true"])]:
        result = s.fails(*args)
        seen[what] = [result.returncode, result.err.strip()]
    assert "No such container" in seen["inspect"][1] or "No such object" in seen["inspect"][1], seen
    assert "is already in use" in seen["name-conflict"][1], seen["name-conflict"]
    return seen


# -- listing containers -----------------------------------------------------------------------------
def _group(s: Side, what: str) -> tuple[str, list[str]]:
    group = s.name(what)
    return group, ["--label", f"compat.group={group}"]


@scenario(quick=True)
def ps_filter_status(s: Side) -> object:
    group, label = _group(s, "st")
    s.ok("create", "--name", f"{group}-created", *label, IMAGE, "true")
    s.ok("run", "-d", "--name", f"{group}-running", *label, IMAGE, *STOPPABLE)
    s.ok("run", "--name", f"{group}-exited", *label, IMAGE, "true")
    s.ok("run", "-d", "--name", f"{group}-paused", *label, IMAGE, *STOPPABLE)
    s.ok("pause", f"{group}-paused")
    mine = f"label=compat.group={group}"
    for status in ("created", "running", "exited", "paused"):
        expect(s.names("--filter", mine, "--filter", f"status={status}"), [f"{group}-{status}"],
               f"ps --filter status={status}")
    expect(sorted(s.names("--filter", mine, "--filter", "status=created", "--filter", "status=exited")),
           [f"{group}-created", f"{group}-exited"], "two status filters (or)")
    running = s.ok("ps", "--filter", mine, "--format", "{{.Names}}").lines
    expect(sorted(running), [f"{group}-paused", f"{group}-running"], "ps without -a")
    s.ok("unpause", f"{group}-paused")
    return s.names("--filter", mine)


@scenario()
def ps_filter_label(s: Side) -> object:
    group, label = _group(s, "lb")
    s.ok("create", "--name", f"{group}-a", *label, "-l", "tier=web", "-l", "env=prod", IMAGE, "true")
    s.ok("create", "--name", f"{group}-b", *label, "-l", "tier=db", "-l", "env=prod", IMAGE, "true")
    s.ok("create", "--name", f"{group}-c", *label, "-l", "env=dev", IMAGE, "true")
    mine = f"label=compat.group={group}"
    seen = {}
    for filters, wanted in [(["label=tier"], ["b", "a"]), (["label=tier=web"], ["a"]),
                            (["label=env=prod", "label=tier=db"], ["b"]), (["label=env=dev"], ["c"]),
                            (["label=env=none"], [])]:
        args = [a for f in filters for a in ("--filter", f)]
        names = s.names("--filter", mine, *args)
        expect(names, [f"{group}-{w}" for w in wanted], f"ps --filter {' '.join(filters)}")
        seen[" ".join(filters)] = names
    labels = s.ok("ps", "-a", "--filter", f"name={group}-a", "--format", "{{.Label \"tier\"}}").out
    expect(labels, "web\n", "{{.Label}} template")
    return seen


@scenario()
def ps_filter_name_and_id(s: Side) -> object:
    group, label = _group(s, "nm")
    for suffix in ("alpha", "alphabet", "beta"):
        s.ok("create", "--name", f"{group}-{suffix}", *label, IMAGE, "true")
    beta_id = s.inspect(f"{group}-beta")["Id"]
    seen = {}
    for value, wanted in [(f"name={group}-alpha", ["alphabet", "alpha"]),
                          (f"name=^/{group}-alpha$", ["alpha"]), (f"name={group}-beta", ["beta"]),
                          (f"name={group}-none", []), (f"id={beta_id[:12]}", ["beta"]),
                          (f"id={beta_id}", ["beta"])]:
        names = s.names("--filter", value)
        expect(names, [f"{group}-{w}" for w in wanted], f"ps --filter {value}")
        seen[value] = names
    return seen


@scenario()
def ps_last_latest_quiet_size(s: Side) -> object:
    group, label = _group(s, "ls")
    ids = [s.ok("create", "--name", f"{group}-{i}", *label, IMAGE, "true").out.strip() for i in (1, 2, 3)]
    mine = f"label=compat.group={group}"
    expect(s.names("--filter", mine, "-n", "2"), [f"{group}-3", f"{group}-2"], "ps -n 2")
    expect(s.names("--filter", mine, "-l"), [f"{group}-3"], "ps -l")
    expect(s.ok("ps", "-aq", "--no-trunc", "--filter", mine).lines, ids[::-1], "ps -q --no-trunc")
    expect(s.ok("ps", "-aq", "--filter", mine).lines, [i[:12] for i in ids[::-1]], "ps -q")
    sizes = s.ok("ps", "-as", "--filter", mine, "--format", "{{.Size}}").lines
    assert len(sizes) == 3 and all("virtual" in x for x in sizes), sizes
    listed = s.http("GET", "/containers/json?all=1&limit=2&filters=" + quote(json.dumps({"label": [
        f"compat.group={group}"]}))).json()
    expect([c["Names"] for c in listed], [[f"/{group}-3"], [f"/{group}-2"]], "GET /containers/json?limit=2")
    table = s.ok("ps", "-a", "--filter", mine, "--format", "table {{.Names}}\t{{.Image}}\t{{.Command}}").lines
    return {"sizes": sizes, "table": table}


@scenario()
def ps_since_before(s: Side) -> object:
    """The since/before filters with the references the engine itself accepts: names and full ids."""
    group, label = _group(s, "sb")
    ids = {x: s.ok("create", "--name", f"{group}-{x}", *label, IMAGE, "true").out.strip() for x in "abc"}
    mine = f"label=compat.group={group}"
    seen = {}
    for filters, wanted in [([f"since={group}-b"], ["c"]), ([f"before={group}-b"], ["a"]),
                            ([f"since={ids['b']}"], ["c"]), ([f"before={ids['b']}"], ["a"]),
                            ([f"since={ids['a']}", f"before={group}-c"], ["b"])]:
        args = [a for f in filters for a in ("--filter", f)]
        names = s.names("--filter", mine, *args)
        expect(names, [f"{group}-{w}" for w in wanted], f"ps --filter {' '.join(filters)}")
        seen[" ".join(filters)] = names
    return seen


@scenario(quick=True)
def ps_list_query_translations(s: Side) -> object:
    """GET /containers/json is the one route where dockgate answers differently from the engine, by
    design (gateway/legacy.py keeps API v1.18's meaning): the engine ignores v1.18's ``since``/``before``
    parameters, answers 500 to ``limit=abc`` and to a filters value that is not JSON, and 500 "no such
    container" to since/before filters naming a short id; dockgate turns the parameters into filters,
    resolves short ids and answers 400 to bad values. So each side is held to its own expectation, and
    what is compared between the sides is the answer both agree on (the filters with full ids)."""
    group, label = _group(s, "lg")
    ids = {x: s.ok("create", "--name", f"{group}-{x}", *label, IMAGE, "true").out.strip() for x in "abc"}

    def listed(target: str) -> list[str] | int:
        """This scenario's containers in the answer, oldest last; the status when it is not 200."""
        answer = s.http("GET", target)
        if answer.status != 200:
            return answer.status
        names = [c["Names"][0].lstrip("/") for c in answer.json()]
        return [n.removeprefix(f"{group}-") for n in names if n.startswith(f"{group}-")]

    def filters(**values: str) -> str:
        encoded = quote(json.dumps({k: [v] for k, v in values.items()}))
        return f"/v1.41/containers/json?all=1&filters={encoded}"

    agreed = {"before": listed(filters(before=ids["b"])), "since": listed(filters(since=ids["b"]))}
    expect(agreed, {"before": ["a"], "since": ["c"]}, "before/since filters with a full id")
    short = ids["b"][:12]
    seen = {
        "v1.18 before=short": listed(f"/v1.18/containers/json?all=1&before={short}"),
        "v1.18 since=short": listed(f"/v1.18/containers/json?all=1&since={short}"),
        "v1.18 before=name": listed(f"/v1.18/containers/json?all=1&before={group}-b"),
        "filter before=short": listed(filters(before=short)),
        "filter since=short": listed(filters(since=short)),
        "limit=abc": listed("/v1.18/containers/json?limit=abc"),
        "filters=notjson": listed("/v1.41/containers/json?filters=notjson"),
    }
    if s.via_gateway:
        wanted: dict[str, list[str] | int] = {
            "v1.18 before=short": ["a"], "v1.18 since=short": ["c"], "v1.18 before=name": ["a"],
            "filter before=short": ["a"], "filter since=short": ["c"], "limit=abc": 400,
            "filters=notjson": 400}
    else:
        wanted = {"v1.18 before=short": ["c", "b", "a"], "v1.18 since=short": ["c", "b", "a"],
                  "v1.18 before=name": ["c", "b", "a"], "filter before=short": 500, "filter since=short": 500,
                  "limit=abc": 500, "filters=notjson": 500}
    for key, value in wanted.items():
        expect(seen[key], value, f"{key} ({s.label})")
    return agreed


# -- creating and running containers ----------------------------------------------------------------
@scenario(quick=True)
def create_flags_inspect(s: Side) -> object:
    name, vol = s.name("create"), s.name("create-vol")
    cid = s.ok(
        "create", "--name", name, "--hostname", "compat-host", "--domainname", "example.test",
        "-e", "A=1", "-e", "B=two words", "-l", "app=compat", "-l", "tier=test", "-w", "/tmp",
        "-u", "1000:1000", "--entrypoint", "/bin/sh", "-p", "127.0.0.1::80/tcp", "-p", "127.0.0.1::53/udp",
        "--expose", "9000", "--restart", "on-failure:3", "--memory", "64m", "--memory-swap", "128m",
        "--cpu-shares", "512", "--pids-limit", "50", "--read-only", "--tmpfs", "/run:size=1m",
        "-v", f"{vol}:/data:ro", "--add-host", "db.test:10.1.2.3", "--dns", "10.9.9.9",
        "--dns-search", "example.test", "--ulimit", "nofile=1024:2048", "--stop-signal", "SIGUSR1",
        "--stop-timeout", "7", "--init", "--health-cmd", "true", "--health-interval", "5s",
        "--health-retries", "2", "--log-driver", "json-file", "--log-opt", "max-size=1m",
        "--cap-add", "NET_ADMIN", "--cap-drop", "MKNOD", "--security-opt", "no-new-privileges",
        "--shm-size", "16m", "-t", "-i", IMAGE, "-c", "echo hi").out.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid), cid
    i = s.inspect(name)
    c, h = i["Config"], i["HostConfig"]
    if s.via_gateway:  # the one difference the gateway makes on purpose: who created the container
        expect(c["Labels"].pop("dockgate.owner", None), "admin", "owner label added by the gateway")
    seen = {
        "Id": i["Id"] == cid, "Name": i["Name"], "Path": i["Path"], "Args": i["Args"],
        "Status": i["State"]["Status"], "Hostname": c["Hostname"], "Domainname": c["Domainname"],
        # the CLI itself sometimes sends -e values out of order
        "Env": sorted(e for e in c["Env"] if e.startswith(("A=", "B="))), "Labels": c["Labels"],
        "WorkingDir": c["WorkingDir"], "User": c["User"], "Entrypoint": c["Entrypoint"], "Cmd": c["Cmd"],
        "ExposedPorts": sorted(c["ExposedPorts"]), "Tty": c["Tty"], "OpenStdin": c["OpenStdin"],
        "StopSignal": c["StopSignal"], "StopTimeout": c["StopTimeout"], "Healthcheck": c["Healthcheck"],
        "PortBindings": h["PortBindings"], "RestartPolicy": h["RestartPolicy"], "Memory": h["Memory"],
        "MemorySwap": h["MemorySwap"], "CpuShares": h["CpuShares"], "PidsLimit": h["PidsLimit"],
        "ReadonlyRootfs": h["ReadonlyRootfs"], "Tmpfs": h["Tmpfs"], "Binds": h["Binds"],
        "ExtraHosts": h["ExtraHosts"], "Dns": h["Dns"], "DnsSearch": h["DnsSearch"], "Ulimits": h["Ulimits"],
        "Init": h["Init"], "LogConfig": h["LogConfig"], "CapAdd": h["CapAdd"], "CapDrop": h["CapDrop"],
        "SecurityOpt": h["SecurityOpt"], "ShmSize": h["ShmSize"],
    }
    wanted = {
        "Id": True, "Name": f"/{name}", "Path": "/bin/sh", "Args": ["-c", "echo hi"], "Status": "created",
        "Hostname": "compat-host", "Domainname": "example.test", "Env": ["A=1", "B=two words"],
        "Labels": {"app": "compat", "tier": "test"}, "WorkingDir": "/tmp", "User": "1000:1000",
        "Entrypoint": ["/bin/sh"], "Cmd": ["-c", "echo hi"], "ExposedPorts": ["53/udp", "80/tcp", "9000/tcp"],
        "Tty": True, "OpenStdin": True, "StopSignal": "SIGUSR1", "StopTimeout": 7,
        "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 5_000_000_000, "Retries": 2},
        "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
                         "53/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}]},
        "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}, "Memory": 64 << 20,
        "MemorySwap": 128 << 20, "CpuShares": 512, "PidsLimit": 50, "ReadonlyRootfs": True,
        "Tmpfs": {"/run": "size=1m"}, "Binds": [f"{vol}:/data:ro"], "ExtraHosts": ["db.test:10.1.2.3"],
        "Dns": ["10.9.9.9"], "DnsSearch": ["example.test"],
        "Ulimits": [{"Name": "nofile", "Hard": 2048, "Soft": 1024}], "Init": True,
        "LogConfig": {"Type": "json-file", "Config": {"max-size": "1m"}}, "CapAdd": ["CAP_NET_ADMIN"],
        "CapDrop": ["CAP_MKNOD"], "SecurityOpt": ["no-new-privileges"], "ShmSize": 16 << 20,
    }
    for key, value in wanted.items():
        expect(seen[key], value, key)
    expect(s.ok("inspect", "--format", "{{.Config.Hostname}}/{{.HostConfig.Memory}}", name).out,
           "compat-host/67108864\n", "inspect --format")
    expect(s.py.containers.get(name).id, cid, "docker-py containers.get")
    return seen


@scenario()
def run_flags_take_effect(s: Side) -> object:
    out = s.ok("run", "--rm", "--name", s.name("runflags"), "-e", "GREETING=hi there", "-w", "/tmp",
               "-u", "1000:1000", "--hostname", "compat-run", "--add-host", "db.test:10.1.2.3", "--read-only",
               "--tmpfs", "/scratch", "--entrypoint", "sh", IMAGE, "-c",
               'echo "$GREETING"; pwd; id -u; hostname; grep db.test /etc/hosts; '
               "touch /scratch/ok && echo tmpfs-ok; touch /rootfs 2>/dev/null || echo ro-ok").lines
    expect(out, ["hi there", "/tmp", "1000", "compat-run", "10.1.2.3\tdb.test", "tmpfs-ok", "ro-ok"],
           "output")
    return out


@scenario()
def run_exit_codes_and_wait(s: Side) -> object:
    result = s.docker("run", "--rm", "--name", s.name("rc"), IMAGE, "sh", "-c",
                      "echo bye; echo err >&2; exit 3")
    expect((result.returncode, result.out, result.err), (3, "bye\n", "err\n"), "run --rm exit 3")
    a = s.background("wait-a", cmd=["sh", "-c", "sleep 0.3; exit 7"])
    b = s.background("wait-b", cmd=["sh", "-c", "exit 0"])
    expect(s.ok("wait", a, b).lines, ["7", "0"], "docker wait a b")
    expect(s.py.containers.get(a).wait(timeout=10)["StatusCode"], 7, "docker-py wait()")
    return result.returncode


@scenario()
def start_stop_restart_kill(s: Side) -> object:
    name = s.name("life")
    s.ok("create", "--name", name, IMAGE, *STOPPABLE)
    seen = [s.status(name)]
    expect(s.ok("start", name).out, f"{name}\n", "start prints the name")
    seen.append(s.status(name))
    first_start = s.inspect(name)["State"]["StartedAt"]
    expect(s.ok("stop", "-t", "5", name).out, f"{name}\n", "stop prints the name")
    state = s.inspect(name)["State"]
    seen.append(f"{state['Status']}/{state['ExitCode']}")
    s.ok("restart", "-t", "5", name)
    state = s.inspect(name)["State"]
    seen.append(state["Status"])
    assert state["StartedAt"] != first_start, "restart did not start it again"
    s.ok("kill", name)
    state = s.inspect(name)["State"]
    seen.append(f"{state['Status']}/{state['ExitCode']}")
    expect(seen, ["created", "running", "exited/0", "running", "exited/137"], "states")
    return seen


@scenario()
def kill_with_signal(s: Side) -> object:
    name = s.background("sig", cmd=["sh", "-c", "trap 'echo got-usr1; exit 5' USR1; echo ready; "
                                                "while :; do sleep 0.1; done"])
    s.wait_for_log(name, "ready")
    s.ok("kill", "-s", "USR1", name)
    expect(s.ok("wait", name).out, "5\n", "exit code after USR1")
    expect(s.ok("logs", name).lines, ["ready", "got-usr1"], "logs")
    return "ok"


@scenario()
def pause_unpause(s: Side) -> object:
    name = s.background("pause", cmd=STOPPABLE)
    s.ok("pause", name)
    state = s.inspect(name)["State"]
    expect((state["Status"], state["Paused"]), ("paused", True), "after pause")
    expect(s.names("--filter", f"name={name}", "--filter", "status=paused"), [name], "ps status=paused")
    paused_exec = s.fails("exec", name, "true")
    s.ok("unpause", name)
    state = s.inspect(name)["State"]
    expect((state["Status"], state["Paused"]), ("running", False), "after unpause")
    s.ok("exec", name, "true")
    return paused_exec.err.strip()


@scenario()
def rename(s: Side) -> object:
    old, new, other = s.name("ren-old"), s.name("ren-new"), s.name("ren-other")
    s.ok("create", "--name", old, IMAGE, "true")
    s.ok("create", "--name", other, IMAGE, "true")
    s.ok("rename", old, new)
    expect(s.inspect(new)["Name"], f"/{new}", "renamed")
    gone = s.fails("inspect", old)
    conflict = s.fails("rename", new, other)
    assert "already in use" in conflict.err, conflict.err
    return [gone.err.strip(), conflict.err.strip()]


@scenario()
def rm_variants(s: Side) -> object:
    name = s.background("rm", "-v", "/anon", cmd=STOPPABLE)
    volume = s.inspect(name)["Mounts"][0]["Name"]
    refused = s.fails("rm", name)
    assert "force" in refused.err, refused.err
    expect(s.ok("rm", "-f", "-v", name).out, f"{name}\n", "rm -f -v")
    s.fails("inspect", "--type", "container", name)
    s.fails("volume", "inspect", volume)
    a, b = s.name("rm-a"), s.name("rm-b")
    s.ok("create", "--name", a, IMAGE, "true")
    s.ok("create", "--name", b, IMAGE, "true")
    expect(s.ok("rm", a, b).lines, [a, b], "rm two")
    return refused.err.strip()


@scenario()
def update_resources(s: Side) -> object:
    name = s.background("update", "--memory", "64m", cmd=STOPPABLE)
    expect(s.ok("update", "--memory", "96m", "--memory-swap", "192m", "--cpu-shares", "256",
                "--restart", "on-failure:2", "--pids-limit", "40", name).out, f"{name}\n", "update")
    h = s.inspect(name)["HostConfig"]
    seen = {k: h[k] for k in ("Memory", "MemorySwap", "CpuShares", "RestartPolicy", "PidsLimit")}
    expect(seen, {"Memory": 96 << 20, "MemorySwap": 192 << 20, "CpuShares": 256, "PidsLimit": 40,
                  "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2}}, "HostConfig")
    return seen


# -- logs, top, stats, events -----------------------------------------------------------------------
@scenario(quick=True)
def logs_stdout_stderr_apart(s: Side) -> object:
    """Frames of both streams, a 40000-byte line (the engine splits it into 16 KiB partial messages)
    and bytes that are not text (json-file keeps valid UTF-8 only, so these are)."""
    name = s.name("logs")
    s.ok("run", "--name", name, IMAGE, "sh", "-c", "for i in 1 2 3; do echo out$i; echo err$i >&2; done; "
         "head -c 40000 /dev/zero | tr '\\0' x; echo; printf '\\000\\001 caf\\303\\251 end'")
    result = s.ok("logs", name)
    expect(result.raw, b"out1\nout2\nout3\n" + b"x" * 40000 + b"\n\x00\x01 caf\xc3\xa9 end", "stdout bytes")
    expect(result.raw_err, b"err1\nerr2\nerr3\n", "stderr bytes")
    return "ok"


@scenario()
def logs_tail(s: Side) -> object:
    name = s.name("tail")
    s.ok("run", "--name", name, IMAGE, "sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done")
    seen = {t: s.ok("logs", "--tail", t, name).out for t in ("2", "0", "all")}
    expect(seen, {"2": "line4\nline5\n", "0": "", "all": "".join(f"line{i}\n" for i in range(1, 6))}, "tails")
    expect(s.ok("logs", "-n", "1", name).out, "line5\n", "-n 1")
    return seen


@scenario()
def logs_timestamps(s: Side) -> object:
    name = s.name("ts")
    s.ok("run", "--name", name, IMAGE, "sh", "-c", "echo a; echo b >&2")
    result = s.ok("logs", "-t", name)
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z"
    assert re.fullmatch(rf"{stamp} a\n", result.out), result.out
    assert re.fullmatch(rf"{stamp} b\n", result.err), result.err
    return "ok"


def _epoch(stamp: str) -> float:
    """An RFC 3339 timestamp with nanoseconds from ``logs -t``, in seconds (to the microsecond)."""
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    return time.mktime(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) - time.timezone + float(f"0.{fraction[:6]}")


@scenario()
def logs_since_until(s: Side) -> object:
    name = s.name("since")
    s.ok("run", "--name", name, IMAGE, "sh", "-c", "echo early; sleep 1.2; echo late")
    stamps = [line.split()[0] for line in s.ok("logs", "-t", name).lines]
    middle = f"{(_epoch(stamps[0]) + _epoch(stamps[1])) / 2:.6f}"
    seen = {"since": s.ok("logs", "--since", middle, name).out,
            "until": s.ok("logs", "--until", middle, name).out,
            "since-exact": s.ok("logs", "--since", stamps[1], name).out}
    expect(seen, {"since": "late\n", "until": "early\n", "since-exact": "late\n"}, "logs --since/--until")
    return seen


@scenario()
def logs_follow(s: Side) -> object:
    name = s.background("follow", cmd=["sh", "-c", "echo first; sleep 1.5; echo late"])
    started = time.monotonic()
    result = s.ok("logs", "-f", name, timeout=30)
    expect(result.out, "first\nlate\n", "logs -f until the container exits")
    assert time.monotonic() - started > 0.5, "logs -f returned before the container exited"
    expect(s.ok("logs", "-f", "--tail", "1", name).out, "late\n", "logs -f --tail 1 of an exited container")
    return result.out


@scenario()
def top(s: Side) -> object:
    name = s.background("top")
    result = s.ok("top", name).lines
    assert result[0].split()[:2] == ["UID", "PID"], result[0]
    assert any(line.endswith("sleep 300") for line in result[1:]), result
    custom = s.ok("top", name, "-o", "pid,args").lines
    expect(custom[0].split(), ["PID", "COMMAND"], "top -o pid,args")
    expect(s.py.api.top(name)["Titles"][:2], ["UID", "PID"], "docker-py top()")
    return {"titles": result[0].split(), "custom": custom[0].split(), "rows": len(result)}


@scenario()
def stats_no_stream(s: Side) -> object:
    name = s.background("stats")
    row = json.loads(s.ok("stats", "--no-stream", "--format", "{{json .}}", name).out)
    expect((row["Name"], row["PIDs"]), (name, "1"), "stats --no-stream")
    stats = s.py.api.stats(name, stream=False, one_shot=True)
    expect(stats["pids_stats"].get("current"), 1, "docker-py stats() pids")
    return sorted(row)


@scenario()
def events_since_until(s: Side) -> object:
    name = s.name("events")
    since = f"{time.time() - 1:.3f}"
    s.ok("run", "--name", name, IMAGE, "true")
    until = f"{time.time() + 0.2:.3f}"
    base = ["events", "--since", since, "--until", until, "--filter", f"container={name}"]
    actions = s.ok(*base, "--format", "{{.Type}} {{.Action}}", timeout=20).lines
    expect(actions, ["container create", "container attach", "container start", "container die"], "events")
    expect(s.ok(*base, "--filter", "event=start", "--format", "{{.Actor.Attributes.name}}").lines, [name],
           "events --filter event=start")
    decoded = list(s.py.events(since=float(since), until=float(until), filters={"container": name},
                               decode=True))
    expect([e["Action"] for e in decoded], [a.split()[1] for a in actions], "docker-py events()")
    return actions


# -- exec, run -it, attach --------------------------------------------------------------------------
@scenario(quick=True)
def exec_without_stdin_every_byte(s: Side) -> object:
    """`docker exec` without -i half-closes right after the upgrade: all output must still arrive."""
    name = s.background("exec")
    result = s.docker("exec", name, "sh", "-c", "seq 1 20000; echo err >&2; exit 4")
    expect(result.returncode, 4, "exit code")
    assert result.raw == SEQ, f"stdout: {len(result.raw)} bytes, expected {len(SEQ)}"
    expect(result.raw_err, b"err\n", "stderr")
    return result.returncode


@scenario(quick=True)
def exec_with_stdin(s: Side) -> object:
    name = s.background("exec-i")
    data = os.urandom(1 << 20)
    result = s.ok("exec", "-i", name, "sha256sum", input=data)
    expect(result.out.split()[0], hashlib.sha256(data).hexdigest(), "sha256 of 1 MiB sent on stdin")
    expect(s.ok("exec", "-i", name, "wc", "-l", input="a\nb\nc\n").out.strip(), "3", "wc -l")
    return "ok"


@scenario(quick=True)
def exec_tty_pexpect(s: Side) -> object:
    name = s.background("exec-t")
    child = s.spawn("exec", "-it", name, "sh")
    child.expect(r"[#$] ")
    child.sendline("echo $((6*7)); stty size")
    child.expect("42")
    child.expect("33 101")
    child.setwinsize(40, 120)  # the CLI forwards SIGWINCH as POST /exec/{id}/resize
    time.sleep(0.3)
    child.sendline("stty size")
    child.expect("40 120")
    child.sendline("exit 5")
    child.expect(pexpect.EOF)
    child.close()
    expect(child.exitstatus, 5, "exit status")
    return "ok"


@scenario()
def exec_options(s: Side) -> object:
    name = s.background("exec-o")
    out = s.ok("exec", "-e", "FOO=bar", "-w", "/tmp", "-u", "1000:1000", name, "sh", "-c",
               'echo "$FOO"; pwd; id -u').lines
    expect(out, ["bar", "/tmp", "1000"], "exec -e -w -u")
    s.ok("exec", "-d", name, "sh", "-c", "echo detached > /tmp/d")
    deadline = time.monotonic() + 5
    while s.docker("exec", name, "cat", "/tmp/d").out != "detached\n":
        assert time.monotonic() < deadline, "exec -d never ran"
        time.sleep(0.05)
    return out


@scenario()
def run_interactive_tty(s: Side) -> object:
    child = s.spawn("run", "--rm", "-it", "--name", s.name("run-it"), IMAGE, "sh")
    child.expect(r"[#$] ")
    child.sendline("echo ready-$((1+1)); stty size")
    child.expect("ready-2")
    child.expect("33 101")
    child.sendline("exit 3")
    child.expect(pexpect.EOF)
    child.close()
    expect(child.exitstatus, 3, "exit status")
    return "ok"


@scenario()
def run_stdin_pipe(s: Side) -> object:
    data = os.urandom(512 << 10)
    out = s.ok("run", "--rm", "-i", "--name", s.name("run-i"), IMAGE, "sha256sum", input=data).out
    expect(out.split()[0], hashlib.sha256(data).hexdigest(), "sha256 of stdin")
    echoed = s.ok("run", "--rm", "-i", "--name", s.name("run-cat"), IMAGE, "cat", input=data).raw
    assert echoed == data, f"cat returned {len(echoed)} bytes of {len(data)}, equal: {echoed == data}"
    return "ok"


@scenario(quick=True)
def attach_start_ai(s: Side) -> object:
    name = s.name("attach")
    s.ok("create", "-i", "--name", name, IMAGE, "sh", "-c", "read x; echo got-$x; echo err-$x >&2; exit 2")
    result = s.docker("start", "-a", "-i", name, input="abc\n")
    expect((result.returncode, result.out, result.err), (2, "got-abc\n", "err-abc\n"), "start -a -i")
    return "ok"


@scenario()
def attach_running(s: Side) -> object:
    name = s.background("attach-r", cmd=["sh", "-c", "sleep 1.5; echo late-line; echo late-err >&2; exit 3"])
    result = s.docker("attach", "--no-stdin", name, timeout=30)
    expect((result.returncode, result.out, result.err), (3, "late-line\n", "late-err\n"), "attach")
    return "ok"


@scenario()
def attach_tty_detach_keys(s: Side) -> object:
    """ctrl-p ctrl-q leaves the container running. The CLI spots the keys itself, but over plain TCP
    it misses its own signal (Go's TCPConn.ReadFrom wraps the EscapeError its type check looks for,
    cf. docker/cli#3385) and keeps waiting, exactly as against a dockerd listening on TCP; only
    over a unix socket does it print "read escape sequence" and exit."""
    name = s.background("attach-t", "-it", cmd=["sh"])
    child = s.spawn("attach", name)
    time.sleep(0.5)
    child.send("echo att-$((2+3))\r")
    child.expect("att-5")
    child.send("\x10\x11")
    if s.docker_host.startswith("unix://"):
        child.expect("read escape sequence")
        child.expect(pexpect.EOF)
    else:
        expect(child.expect([pexpect.TIMEOUT, "read escape sequence"], timeout=1), 0, "CLI over TCP")
    child.close(force=True)
    expect(s.status(name), "running", "status after detaching")
    return "ok"


# -- files -------------------------------------------------------------------------------------------
@scenario(quick=True)
def cp_both_ways(s: Side) -> object:
    name = s.background("cp")
    payload = os.urandom(300_000)
    (s.work / "in.bin").write_bytes(payload)
    tree = s.work / "tree"
    (tree / "sub").mkdir(parents=True, exist_ok=True)
    (tree / "sub" / "f.txt").write_text("nested\n")
    s.ok("cp", s.work / "in.bin", f"{name}:/tmp/in.bin")
    s.ok("cp", tree, f"{name}:/tmp/")
    out = s.work / "out.bin"
    out.unlink(missing_ok=True)
    s.ok("cp", f"{name}:/tmp/in.bin", out)
    assert out.read_bytes() == payload, "the file came back different"
    expect(s.ok("exec", name, "cat", "/tmp/tree/sub/f.txt").out, "nested\n", "directory copied in")
    missing = s.fails("cp", f"{name}:/nowhere", s.work / "x")
    return missing.err.strip()


@scenario()
def cp_tar_streams(s: Side) -> object:
    name = s.background("cp-tar")
    blob = os.urandom(100_000)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for member, data in (("a.txt", b"alpha\n"), ("b.bin", blob)):
            entry = tarfile.TarInfo(member)
            entry.size = len(data)
            tar.addfile(entry, io.BytesIO(data))
    s.ok("cp", "-", f"{name}:/tmp", input=buf.getvalue())
    expect(s.ok("exec", name, "cat", "/tmp/a.txt").out, "alpha\n", "a.txt copied from a tar on stdin")
    with tarfile.open(fileobj=io.BytesIO(s.ok("cp", f"{name}:/tmp/b.bin", "-").raw)) as tar:
        expect(tar.getnames(), ["b.bin"], "tar on stdout")
        assert member_bytes(tar, "b.bin") == blob, "b.bin came back different"
    return "ok"


@scenario()
def export(s: Side) -> object:
    name = s.name("export")
    s.ok("run", "--name", name, IMAGE, "sh", "-c", "echo data > /newfile")
    target = s.work / "fs.tar"
    s.ok("export", "-o", target, name)
    with tarfile.open(target) as tar:
        names = set(tar.getnames())
        expect(member_bytes(tar, "newfile"), b"data\n", "newfile")
    assert "bin/busybox" in names, sorted(names)[:20]
    with tarfile.open(fileobj=io.BytesIO(s.ok("export", name).raw)) as tar:
        expect(set(tar.getnames()), names, "export to stdout")
    return sorted(names)


@scenario()
def diff(s: Side) -> object:
    name = s.name("diff")
    s.ok("run", "--name", name, IMAGE, "sh", "-c", "touch /newfile; mkdir /newdir; rm /etc/group")
    changes = sorted(s.ok("diff", name).lines)
    expect(changes, ["A /newdir", "A /newfile", "C /etc", "D /etc/group"], "diff")
    return changes


@scenario()
def port(s: Side) -> object:
    name = s.background("port", "-p", "127.0.0.1::80", "-p", "127.0.0.1::53/udp")
    ports = s.inspect(name)["NetworkSettings"]["Ports"]
    tcp, udp = ports["80/tcp"][0]["HostPort"], ports["53/udp"][0]["HostPort"]
    expect(sorted(s.ok("port", name).lines), [f"53/udp -> 127.0.0.1:{udp}", f"80/tcp -> 127.0.0.1:{tcp}"],
           "port")
    expect(s.ok("port", name, "80").out, f"127.0.0.1:{tcp}\n", "port 80")
    return sorted(ports)


# -- images -------------------------------------------------------------------------------------------
@scenario()
def commit(s: Side) -> object:
    name, repo = s.name("commit"), f"{s.name('commit-img')}:v1"
    s.ok("run", "--name", name, IMAGE, "sh", "-c", "echo committed > /committed.txt")
    image_id = s.ok("commit", "-m", "compat commit", "-a", "compat <compat@example.test>",
                    "-c", "ENV COMPAT=1", "-c", f"LABEL {s.run_label}", "-c", 'CMD ["cat", "/committed.txt"]',
                    name, repo).out.strip()
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", image_id), image_id
    img = json.loads(s.ok("image", "inspect", repo).out)[0]
    seen = {"Comment": img["Comment"], "Author": img["Author"], "Cmd": img["Config"]["Cmd"],
            "COMPAT": "COMPAT=1" in img["Config"]["Env"], "Id": img["Id"] == image_id}
    expect(seen, {"Comment": "compat commit", "Author": "compat <compat@example.test>",
                  "Cmd": ["cat", "/committed.txt"], "COMPAT": True, "Id": True}, "committed image")
    expect(s.ok("run", "--rm", "--name", s.name("commit-run"), repo).out, "committed\n", "run the commit")
    s.ok("rmi", repo)
    return seen


@scenario()
def save_load(s: Side) -> object:
    tag = f"{s.name('save')}:v1"
    s.ok("tag", IMAGE, tag)
    target = s.work / "img.tar"
    s.ok("save", "-o", target, tag)
    with tarfile.open(target) as tar:
        manifest = json.loads(member_bytes(tar, "manifest.json"))
    expect(manifest[0]["RepoTags"], [tag], "manifest.json RepoTags")
    streamed = s.ok("save", tag).raw
    with tarfile.open(fileobj=io.BytesIO(streamed)) as tar:
        assert "manifest.json" in tar.getnames(), "save to stdout is no image archive"
    expect(s.ok("rmi", tag).out, f"Untagged: {tag}\n", "rmi")
    expect(s.ok("load", "-i", target).out, f"Loaded image: {tag}\n", "load -i")
    s.ok("rmi", tag)
    expect(s.ok("load", input=streamed).out, f"Loaded image: {tag}\n", "load from stdin")
    s.ok("rmi", tag)
    return "ok"


@scenario()
def tag_rmi(s: Side) -> object:
    repo = s.name("tag")
    s.ok("tag", IMAGE, f"{repo}:v1")
    s.ok("tag", f"{repo}:v1", f"{repo}:v2")
    listed = s.ok("images", repo, "--format", "{{.Repository}}:{{.Tag}}").lines
    expect(sorted(listed), [f"{repo}:v1", f"{repo}:v2"], "images REPO")
    expect(s.ok("rmi", f"{repo}:v1").out, f"Untagged: {repo}:v1\n", "rmi v1")
    s.fails("image", "inspect", f"{repo}:v1")
    s.ok("image", "inspect", f"{repo}:v2")
    missing = s.fails("rmi", f"{repo}:nope")
    s.ok("rmi", f"{repo}:v2")
    return missing.err.strip()


@scenario()
def images_inspect_history(s: Side) -> object:
    image_id = s.ok("image", "inspect", "--format", "{{.Id}}", IMAGE).out.strip()
    expect(s.py.images.get(IMAGE).id, image_id, "docker-py images.get")
    history = s.ok("history", "--no-trunc", "--format", "{{.ID}}|{{.Comment}}", IMAGE).lines
    assert history and history[0].startswith(image_id), history
    alpine = sorted(s.ok("images", "--filter", "reference=alpine", "--format",
                         "{{.Repository}}:{{.Tag}}").lines)
    expect(alpine, ["alpine:3.10", "alpine:latest"], "images --filter reference=alpine")
    return {"history": history, "alpine": alpine}


MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def _registry_digest(repo_path: str, tag: str) -> str:
    """What the loopback registry itself holds under a tag, to judge what the clients report."""
    request = urllib.request.Request(f"http://{REGISTRY}/v2/{repo_path}/manifests/{tag}", method="HEAD",
                                     headers={"Accept": MANIFEST_V2})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Docker-Content-Digest"]


@scenario()
def pull_from_registry(s: Side) -> object:
    repo = f"{REGISTRY}/{s.prefix}/pulled"
    s.registry_repos.append(f"{s.prefix}/pulled")
    s.py.images.get(IMAGE).tag(repo, "v1")
    progress = list(s.py.images.push(repo, "v1", stream=True, decode=True))
    assert not [p for p in progress if "error" in p], progress
    digest = _registry_digest(f"{s.prefix}/pulled", "v1")
    s.py.images.remove(f"{repo}:v1")
    out = s.ok("pull", f"{repo}:v1", timeout=120).lines
    expect(out[-1], f"{repo}:v1", "last line of pull")
    assert f"Digest: {digest}" in out and f"Status: Downloaded newer image for {repo}:v1" in out, out
    expect(s.ok("image", "inspect", "--format", "{{index .RepoDigests 0}}", f"{repo}:v1").out.strip(),
           f"{repo}@{digest}", "RepoDigests")
    again = s.ok("pull", f"{repo}:v1").lines
    assert f"Status: Image is up to date for {repo}:v1" in again, again
    missing = s.fails("pull", f"{repo}:nope")
    s.ok("rmi", f"{repo}:v1")
    return {"pull": out, "missing": missing.err.strip()}


@scenario()
def push_with_cli(s: Side) -> object:
    repo = f"{REGISTRY}/{s.prefix}/pushed"
    s.registry_repos.append(f"{s.prefix}/pushed")
    s.ok("tag", IMAGE, f"{repo}:v2")
    out = s.ok("push", f"{repo}:v2", timeout=120).lines
    assert re.fullmatch(r"v2: digest: sha256:[0-9a-f]{64} size: \d+", out[-1]), out
    expect(out[-1].split()[2], _registry_digest(f"{s.prefix}/pushed", "v2"), "digest in the registry")
    s.ok("rmi", f"{repo}:v2")
    return out[-1].split()[0]


@scenario(quick=True)
def build_classic(s: Side) -> object:
    context = s.work / "build"
    context.mkdir(exist_ok=True)
    data = os.urandom(64 << 10)
    (context / "Dockerfile").write_text(
        f"FROM {IMAGE}\nARG WHO=nobody\nLABEL {s.run_label} compat.stage=build\nCOPY hello.txt /hello.txt\n"
        "COPY data.bin /data.bin\nCOPY . /ctx/\n"
        'RUN cat /hello.txt && echo "who=$WHO" && sha256sum /data.bin && ls /ctx\n'
        'ENV BUILT=yes\nCMD ["cat", "/hello.txt"]\n')
    (context / "hello.txt").write_text("built through compat\n")
    (context / "data.bin").write_bytes(data)
    (context / "secret.txt").write_text("must stay out\n")
    (context / ".dockerignore").write_text("secret.txt\n")
    tag = s.name("built")
    result = s.docker("build", "--build-arg", "WHO=compat", "-t", tag, context, env={"DOCKER_BUILDKIT": "0"},
                      timeout=120)
    assert result.returncode == 0, result.err + result.out
    out = result.out
    for needle in ("built through compat", "who=compat", hashlib.sha256(data).hexdigest(),
                   "Successfully built", f"Successfully tagged {tag}:latest"):
        assert needle in out, f"{needle!r} not in build output:\n{out}"
    assert "secret.txt" not in out, ".dockerignore was not applied"
    expect(s.ok("run", "--rm", "--name", s.name("built-run"), tag).out, "built through compat\n", "run")
    img = json.loads(s.ok("image", "inspect", tag).out)[0]["Config"]
    assert "BUILT=yes" in img["Env"] and img["Labels"]["compat.stage"] == "build", img
    s.ok("rmi", tag)
    return [line for line in out.splitlines() if line.startswith("Step ")]


@scenario()
def build_from_stdin_and_failure(s: Side) -> object:
    legacy = {"DOCKER_BUILDKIT": "0"}
    tag = s.name("stdin-built")
    result = s.ok("build", "-t", tag, "-", input=f"FROM {IMAGE}\nLABEL {s.run_label}\nRUN echo from-stdin\n",
                  env=legacy, timeout=120)
    assert "from-stdin" in result.out, result.out
    s.ok("rmi", tag)
    failed = s.docker("build", "--force-rm", "-t", s.name("failing"), "-",
                      input=f"FROM {IMAGE}\nRUN echo failing; exit 3\n", env=legacy, timeout=120)
    expect(failed.returncode, 3, "exit code of a failing build (the RUN's)")
    assert "returned a non-zero code: 3" in failed.err, failed.err
    return failed.err.strip().splitlines()[-1]


@scenario()
def image_prune_by_label(s: Side) -> object:
    """Only images with this run's unique label: never prune anything else."""
    name, label = s.name("iprune"), f"compat.prune={s.name('iprune')}"
    s.ok("run", "--name", name, IMAGE, "sh", "-c", "echo x > /x")
    dangling = s.ok("commit", "-c", f"LABEL {label}", name).out.strip()
    tagged = f"{s.name('iprune-keep')}:v1"
    s.ok("commit", "-c", f"LABEL {label}", name, tagged)
    out = s.ok("image", "prune", "-f", "--filter", f"label={label}").out
    assert f"deleted: {dangling}" in out and "Total reclaimed space" in out, out
    s.fails("image", "inspect", dangling)
    s.ok("image", "inspect", tagged)
    out_all = s.ok("image", "prune", "-a", "-f", "--filter", f"label={label}").out
    assert f"untagged: {tagged}" in out_all, out_all
    s.fails("image", "inspect", tagged)
    s.ok("image", "inspect", IMAGE)
    return [line.split(":")[0] for line in out_all.splitlines()]


@scenario()
def container_prune_by_label(s: Side) -> object:
    label = f"compat.prune={s.name('cprune')}"
    exited = [s.name("cprune-1"), s.name("cprune-2")]
    for name in exited:
        s.ok("run", "--name", name, "-l", label, IMAGE, "true")
    running = s.background("cprune-run", "-l", label)
    other = s.name("cprune-other")
    s.ok("run", "--name", other, IMAGE, "true")
    ids = {n: s.inspect(n)["Id"] for n in [*exited, running, other]}
    out = s.ok("container", "prune", "-f", "--filter", f"label={label}").out
    expect(sorted(line for line in out.splitlines() if re.fullmatch(r"[0-9a-f]{64}", line)),
           sorted(ids[n] for n in exited), "pruned ids")
    for n in exited:
        s.fails("inspect", "--type", "container", n)
    s.ok("inspect", running)
    s.ok("inspect", other)
    return [line for line in out.splitlines() if not re.fullmatch(r"[0-9a-f]{64}", line)][:-1]


# -- networks, volumes, disk usage ----------------------------------------------------------------------
@scenario(quick=True)
def network_lifecycle(s: Side) -> object:
    net = s.name("net")
    net_id = s.ok("network", "create", "--label", s.run_label, net).out.strip()
    web = s.background("net-web", "--network", net, "--network-alias", "web")
    api = s.background("net-api")
    s.ok("network", "connect", "--alias", "api", net, api)
    inspected = json.loads(s.ok("network", "inspect", net).out)[0]
    expect(inspected["Id"], net_id, "network id")
    expect(sorted(c["Name"] for c in inspected["Containers"].values()), sorted([web, api]), "connected")
    expect(inspected["Labels"], {"dockgate.compat": s.run_id}, "labels")
    s.ok("exec", web, "ping", "-c1", "-W2", "api")
    s.ok("network", "disconnect", net, api)
    inspected = json.loads(s.ok("network", "inspect", net).out)[0]
    expect([c["Name"] for c in inspected["Containers"].values()], [web], "after disconnect")
    expect(s.ok("network", "ls", "--filter", f"name={net}", "--format", "{{.Name}}").lines, [net],
           "network ls")
    busy = s.fails("network", "rm", net)
    s.ok("rm", "-f", web)
    expect(s.ok("network", "rm", net).out, f"{net}\n", "network rm")
    s.fails("network", "inspect", net)
    return {"driver": inspected["Driver"], "busy": busy.err.strip()}


@scenario()
def volume_lifecycle(s: Side) -> object:
    vol = s.name("vol")
    expect(s.ok("volume", "create", "--label", s.run_label, vol).out, f"{vol}\n", "volume create")
    inspected = json.loads(s.ok("volume", "inspect", vol).out)[0]
    expect((inspected["Driver"], inspected["Labels"]), ("local", {"dockgate.compat": s.run_id}), "inspect")
    writer = s.name("vol-writer")
    s.ok("run", "--name", writer, "-v", f"{vol}:/data", IMAGE, "sh", "-c", "echo persisted > /data/f")
    expect(s.ok("run", "--rm", "--name", s.name("vol-reader"), "-v", f"{vol}:/data:ro", IMAGE, "cat",
                "/data/f").out, "persisted\n", "read back")
    expect(s.ok("volume", "ls", "--filter", f"name={vol}", "--format", "{{.Name}}").lines, [vol], "volume ls")
    busy = s.fails("volume", "rm", vol)
    s.ok("rm", writer)
    expect(s.ok("volume", "rm", vol).out, f"{vol}\n", "volume rm")
    s.fails("volume", "inspect", vol)
    return busy.err.strip()


@scenario()
def system_df(s: Side) -> object:
    rows = [json.loads(line) for line in s.ok("system", "df", "--format", "{{json .}}").lines]
    types = [r["Type"] for r in rows]
    expect(types, ["Images", "Containers", "Local Volumes", "Build Cache"], "system df types")
    assert int(rows[0]["TotalCount"]) >= 3, rows[0]
    assert "busybox" in s.ok("system", "df", "-v").out
    usage = s.py.df()
    assert {"Images", "Containers", "Volumes", "LayersSize"} <= set(usage), sorted(usage)
    return types


# -- docker-py ---------------------------------------------------------------------------------------------
@scenario()
def py_containers_run(s: Side) -> object:
    out = s.py.containers.run(IMAGE, ["sh", "-c", "echo py-out; echo py-err >&2"], name=s.name("py-run"),
                              remove=True)
    expect(out, b"py-out\n", "containers.run output")
    both = s.py.containers.run(IMAGE, ["sh", "-c", "echo py-out; echo py-err >&2"], name=s.name("py-run2"),
                               remove=True, stderr=True)
    expect(sorted(both.splitlines()), [b"py-err", b"py-out"], "stdout and stderr")
    container = s.py.containers.run(IMAGE, ["sh", "-c", "exit 6"], name=s.name("py-run3"), detach=True)
    expect(container.wait(timeout=20)["StatusCode"], 6, "wait()")
    container.reload()
    expect(container.status, "exited", "status")
    try:
        s.py.containers.run(IMAGE, ["sh", "-c", "echo boom >&2; exit 2"], name=s.name("py-run4"))
    except docker.errors.ContainerError as exc:
        expect((exc.exit_status, exc.stderr), (2, b"boom\n"), "ContainerError")
    else:
        raise AssertionError("containers.run did not raise ContainerError for exit 2")
    return "ok"


@scenario()
def py_logs(s: Side) -> object:
    container = s.py.containers.run(IMAGE, ["sh", "-c", "echo o1; echo e1 >&2; sleep 1; echo o2"],
                                    name=s.name("py-logs"), detach=True)
    streamed = b"".join(container.logs(stream=True, follow=True))
    expect(sorted(streamed.splitlines()), [b"e1", b"o1", b"o2"], "logs(stream, follow)")
    expect(container.logs(stdout=True, stderr=False), b"o1\no2\n", "stdout only")
    expect(container.logs(stdout=False, stderr=True), b"e1\n", "stderr only")
    expect(container.logs(stderr=False, tail=1), b"o2\n", "tail=1")
    stamped = container.logs(stderr=False, timestamps=True).splitlines()
    assert all(re.match(rb"\d{4}-\d\d-\d\dT\S+Z o\d$", line) for line in stamped), stamped
    return "ok"


@scenario(quick=True)
def py_exec_run(s: Side) -> object:
    container = s.py.containers.run(IMAGE, ["sleep", "300"], name=s.name("py-exec"), detach=True)
    code, (out, err) = container.exec_run(["sh", "-c", "echo o; echo e >&2; exit 2"], demux=True)
    expect((code, out, err), (2, b"o\n", b"e\n"), "exec_run(demux=True)")
    expect(container.exec_run(["seq", "1", "20000"]).output, SEQ, "20000 lines")
    shown = container.exec_run(["sh", "-c", 'echo "$FOO" $(pwd) $(id -u)'], environment={"FOO": "bar"},
                               workdir="/tmp", user="1000").output
    expect(shown, b"bar /tmp 1000\n", "environment/workdir/user")
    tty = container.exec_run(["tty"], tty=True).output
    assert tty.startswith(b"/dev/pts/"), tty
    streamed = b"".join(container.exec_run(["sh", "-c", "for i in 1 2 3; do echo s$i; done"],
                                           stream=True).output)
    expect(streamed, b"s1\ns2\ns3\n", "exec_run(stream=True)")
    return "ok"


@scenario(quick=True)
def py_attach_socket(s: Side) -> object:
    api = s.py.api
    cid = api.create_container(IMAGE, ["sh", "-c", "read x; echo got-$x; echo err-$x >&2"],
                               name=s.name("py-att"), stdin_open=True)["Id"]
    sock = api.attach_socket(cid, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
    try:
        raw = sock._sock
        raw.settimeout(20)
        api.start(cid)
        raw.sendall(b"abc\n")
        frames = (demux_adaptor(*frame) for frame in frames_iter(sock, tty=False))
        out, err = consume_socket_output(frames, demux=True)
    finally:
        sock.close()
    expect((out, err), (b"got-abc\n", b"err-abc\n"), "attach_socket output")
    expect(api.wait(cid, timeout=20)["StatusCode"], 0, "exit status")
    return "ok"


@scenario(quick=True)
def py_put_get_archive(s: Side) -> object:
    container = s.py.containers.run(IMAGE, ["sleep", "300"], name=s.name("py-arch"), detach=True)
    blob = os.urandom(100_000)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        folder = tarfile.TarInfo("pkg")
        folder.type, folder.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(folder)
        for member, data in (("pkg/a.txt", b"alpha\n"), ("pkg/bin.dat", blob)):
            entry = tarfile.TarInfo(member)
            entry.size, entry.mode = len(data), 0o640
            tar.addfile(entry, io.BytesIO(data))
    assert container.put_archive("/tmp", buf.getvalue()) is True
    expect(container.exec_run(["cat", "/tmp/pkg/a.txt"]).output, b"alpha\n", "put_archive")
    chunks, stat = container.get_archive("/tmp/pkg")
    expect(stat["name"], "pkg", "stat name")
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        got = {m.name: (m.mode & 0o7777, hashlib.sha256(member_bytes(tar, m)).hexdigest())
               for m in tar.getmembers() if m.isfile()}
    expect(got, {"pkg/a.txt": (0o640, hashlib.sha256(b"alpha\n").hexdigest()),
                 "pkg/bin.dat": (0o640, hashlib.sha256(blob).hexdigest())}, "get_archive (mode, sha256)")
    try:
        container.get_archive("/nowhere")
    except docker.errors.NotFound:
        pass
    else:
        raise AssertionError("get_archive of a missing path did not raise NotFound")
    return stat["mode"]


@scenario()
def py_networks_volumes_images(s: Side) -> object:
    net = s.py.networks.create(s.name("py-net"), labels={RUN_LABEL: s.run_id})
    container = s.py.containers.run(IMAGE, ["sleep", "300"], name=s.name("py-netc"), detach=True)
    net.connect(container, aliases=["pyalias"])
    net.reload()
    expect([c.name for c in net.containers], [container.name], "network containers")
    net.disconnect(container)
    net.remove()
    vol = s.py.volumes.create(s.name("py-vol"), labels={RUN_LABEL: s.run_id})
    expect(s.py.volumes.get(vol.name).attrs["Labels"], {RUN_LABEL: s.run_id}, "volume labels")
    vol.remove()
    tags = sorted(t for img in s.py.images.list(name="alpine") for t in img.tags)
    expect(tags, ["alpine:3.10", "alpine:latest"], "images.list(name=alpine)")
    return tags


# ---------------------------------------------------------------------------------------------------
# Running and reporting
# ---------------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    passed: bool
    seconds: float
    detail: str = ""
    observed: object = None


def run_one(sc: Scenario, side: Side) -> Outcome:
    started = time.monotonic()
    try:
        observed = sc.run(side)
        return Outcome(True, time.monotonic() - started, observed=side.normalise(observed))
    except Exception as exc:  # a scenario's failure, whatever it is, is a result to report
        frames = traceback.extract_tb(exc.__traceback__)
        frame = next((f for f in reversed(frames) if f.name == sc.name), None)
        where = f" [compat.py:{frame.lineno}]" if frame else ""
        message = str(exc) if isinstance(exc, AssertionError) and str(exc) else f"{type(exc).__name__}: {exc}"
        return Outcome(False, time.monotonic() - started, " ".join(message.split())[:600] + where)


def compare(direct: Outcome, gateway: Outcome) -> None:
    """Through the gateway, a client must see what it sees directly."""
    if direct.passed and gateway.passed and direct.observed != gateway.observed:
        gateway.passed = False
        gateway.detail = (f"differs from direct: direct saw {json.dumps(direct.observed)[:400]}, "
                          f"gateway saw {json.dumps(gateway.observed)[:400]}")


class Janitor:
    """Removes what a run created, straight on the engine (never through the gateway): containers after
    each scenario, then images, networks, volumes and registry manifests. Only names with the run id and
    objects with the run's labels are touched."""

    def __init__(self, engine_url: str, run_id: str) -> None:
        self.client = docker.APIClient(base_url=engine_url, timeout=60)
        self.run_id = run_id
        self.mark = f"cpt-{run_id}"

    def _ours(self, name: str = "", labels: dict | None = None) -> bool:
        return self.mark in name or self.run_id in (labels or {}).values()

    def containers(self) -> None:
        for c in self.client.containers(all=True, filters={"name": self.mark}):
            with contextlib.suppress(docker.errors.NotFound):
                self.client.remove_container(c["Id"], force=True, v=True)

    def everything(self, registry_repos: list[str]) -> None:
        self.containers()
        for c in self.client.containers(all=True):  # a failed build step inherits the Dockerfile's LABEL
            if self._ours(labels=c.get("Labels")):
                with contextlib.suppress(docker.errors.NotFound):
                    self.client.remove_container(c["Id"], force=True, v=True)
        for img in self.client.images(all=True):
            for tag in img.get("RepoTags") or []:
                if self.mark in tag:
                    with contextlib.suppress(docker.errors.APIError):
                        self.client.remove_image(tag, force=True)
            if self._ours(labels=img.get("Labels")):
                with contextlib.suppress(docker.errors.APIError):
                    self.client.remove_image(img["Id"], force=True)
        for net in self.client.networks():
            if self._ours(net["Name"], net.get("Labels")):
                with contextlib.suppress(docker.errors.APIError):
                    self.client.remove_network(net["Id"])
        for vol in self.client.volumes().get("Volumes") or []:
            if self._ours(vol["Name"], vol.get("Labels")):
                with contextlib.suppress(docker.errors.APIError):
                    self.client.remove_volume(vol["Name"], force=True)
        self._registry(registry_repos)
        self.client.close()

    def _registry(self, repos: list[str]) -> None:
        """Delete the manifests this run pushed to the loopback registry (their blobs are busybox's)."""
        for repo in repos:
            try:
                with urllib.request.urlopen(f"http://{REGISTRY}/v2/{repo}/tags/list", timeout=10) as response:
                    tags = json.load(response).get("tags") or []
                for tag in tags:
                    digest = _registry_digest(repo, tag)
                    request = urllib.request.Request(f"http://{REGISTRY}/v2/{repo}/manifests/{digest}",
                                                     method="DELETE")
                    urllib.request.urlopen(request, timeout=10).close()
            except urllib.error.HTTPError as exc:
                if exc.code != 404:  # 404: the scenario failed before pushing
                    print(f"note: could not delete {REGISTRY}/{repo}: {exc}", file=sys.stderr)
            except OSError as exc:
                print(f"note: could not delete {REGISTRY}/{repo}: {exc}", file=sys.stderr)


class SetupError(Exception):
    """The engine or the gateway could not be started: nothing was compared."""


@contextlib.contextmanager
def gateway_process(engine_url: str, folder: Path) -> Iterator[tuple[str, Path, str]]:
    """``dockgate serve`` on a free loopback port, its only (default) host the engine, with a store of
    its own; yields its URL, its log, and the admin token it made on its first run."""
    config = folder / "config.toml"
    config.write_text(f'default_host = "{HOST_NAME}"\n\n[hosts.{HOST_NAME}]\nurl = "{engine_url}"\n')
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = folder / "gateway.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "DOCKGATE_"))}
    env.update(DOCKGATE_CONFIG=str(config), DOCKGATE_STORE_URL=f"sqlite:///{folder}/dockgate.db",
               XDG_DATA_HOME=str(folder), PYTHONPATH=os.pathsep.join(
        p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p))
    with log.open("wb") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "dockgate", "serve", "--no-unix", "--listen",
                                    f"127.0.0.1:{port}"], env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SetupError(f"the gateway did not start:\n{log.read_text()}") from None
                time.sleep(0.1)
        token = (folder / "dockgate" / "admin-token").read_text().strip()
        yield f"tcp://127.0.0.1:{port}", log, token
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def select(args: argparse.Namespace) -> list[Scenario]:
    chosen = [sc for sc in SCENARIOS if sc.quick] if args.quick else list(SCENARIOS)
    if args.only:
        words = [w.strip() for w in args.only.split(",") if w.strip()]
        chosen = [sc for sc in chosen if any(w in sc.name for w in words)]
    return chosen


Results = list[tuple[Scenario, Outcome, Outcome]]


def run_all(chosen: list[Scenario], direct: Side, gateway: Side, janitor: Janitor) -> Results:
    """Each scenario directly, then through the gateway, one row printed as soon as both are done."""
    results: Results = []
    print(f"{'scenario':<36} {'direct':<8} {'gateway':<8} seconds")
    for sc in chosen:
        outcomes = []
        for side in (direct, gateway):
            outcomes.append(run_one(sc, side))
            janitor.containers()
        d, g = outcomes
        compare(d, g)
        print(f"{sc.name:<36} {'pass' if d.passed else 'FAIL':<8} {'pass' if g.passed else 'FAIL':<8} "
              f"{d.seconds:5.1f} {g.seconds:5.1f}", flush=True)
        for label, outcome in (("direct", d), ("gateway", g)):
            if not outcome.passed:
                print(f"    {label}: {outcome.detail}", flush=True)
        results.append((sc, d, g))
    return results


def report(results: Results, seconds: float) -> int:
    total = len(results)
    direct_ok = sum(d.passed for _, d, _ in results)
    gateway_ok = sum(g.passed for _, _, g in results)
    regressions = [sc.name for sc, d, g in results if d.passed and not g.passed]
    broken = [sc.name for sc, d, g in results if not d.passed and not g.passed]
    print(f"\ndirect: {direct_ok}/{total} passed, gateway: {gateway_ok}/{total} passed ({seconds:.0f} s)")
    if regressions:
        print(f"failed through the gateway only: {', '.join(regressions)}")
    if broken:
        print(f"failed on both sides (a scenario or engine problem, not the gateway's): {', '.join(broken)}")
    return 0 if direct_ok == gateway_ok and not regressions else 1


def print_gateway_problems(log: Path) -> None:
    """What the gateway logged about failures, to go with a scenario that failed through it."""
    problems = [line for line in log.read_text(errors="replace").splitlines()
                if "Traceback" in line or "Error" in line or "failed" in line]
    if problems:
        print("gateway log (problems):\n  " + "\n  ".join(problems[-20:]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="run the representative subset only")
    parser.add_argument("--only", metavar="WORDS", help="comma-separated words: scenarios whose name has one")
    parser.add_argument("--host-prefix", action="store_true",
                        help=f"address the gateway as tcp://…/hosts/{HOST_NAME} instead of its default host")
    parser.add_argument("--list", action="store_true", help="print the scenario names and exit")
    args = parser.parse_args()
    if args.list:
        for sc in SCENARIOS:
            print(f"{sc.name}{'  (quick)' if sc.quick else ''}")
        return 0
    chosen = select(args)
    if not chosen:
        print(f"compat: no scenario matches --only {args.only!r} (see --list)", file=sys.stderr)
        return 2

    started = time.monotonic()
    rig = subprocess.run([str(RIG), "up", "compat"], capture_output=True, text=True, timeout=600)
    if rig.returncode != 0:
        print(f"compat: engine-rig up compat failed:\n{rig.stderr}", file=sys.stderr)
        return 2
    engine_url = rig.stdout.strip()
    run_id = uuid.uuid4().hex[:8]
    janitor = Janitor(engine_url, run_id)
    with tempfile.TemporaryDirectory(prefix=f"dockgate-compat-{run_id}-") as tmp:
        folder = Path(tmp)
        direct = Side("direct", engine_url, run_id, folder / "direct")
        sides = [direct]
        try:
            with gateway_process(engine_url, folder) as (gateway_url, log, token):
                if args.host_prefix:
                    gateway_url += f"/hosts/{HOST_NAME}"
                gateway = Side("gateway", gateway_url, run_id, folder / "gateway", token)
                sides.append(gateway)
                print(f"compat run {run_id}: {len(chosen)} scenarios; direct {engine_url}, "
                      f"gateway {gateway_url}")
                try:
                    results = run_all(chosen, direct, gateway, janitor)
                finally:
                    for side in sides:
                        side.close()
                if any(not g.passed for _, _, g in results):
                    print_gateway_problems(log)
        except SetupError as exc:
            print(f"compat: {exc}", file=sys.stderr)
            return 2
        finally:
            janitor.everything([repo for side in sides for repo in side.registry_repos])
    return report(results, time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main())
