"""Requests a non-admin must not get through, written byte by byte over a socket to the session
gateway: path and version tricks, Go-style JSON keys, duplicates and escapes, every field that
reaches the host, other users' containers and execs, volumes, plugins, swarm and builds that reach
the host, HTTP framing games, and a token revoked while its stream is open.

Each case asserts three things: the answer, that the engine did not change (judged with docker-py
directly on the engines, never through the gateway), and the audit record of the request (found by
the client's own address and port, which the gateway records as its source). The harmless twins in
``CONTROLS`` are allowed and do change the engine, so the suite fails if everything were refused.
The cases themselves are in adversarial_cases.py.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote

import docker
import pytest
from tests.conftest import Person
from tests.integration.adversarial_cases import CASES, CONTROLS, TEST_LABEL, Case, Control, Ctx, Expect

from dockgate.access.audit import AuditLog, AuditRecord
from dockgate.store.database import Store, open_store

READ_TIMEOUT = 15.0


# --- talking to the gateway byte by byte ---------------------------------------------------------

@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def _parse_answers(buf: bytes, heads: list[bool], closed: bool) -> tuple[list[Answer], bool]:
    """The complete answers in ``buf`` (interim 100s skipped), and whether all ``heads`` are there.
    ``heads[i]`` says answer i is to a HEAD request (a head without a body)."""
    answers: list[Answer] = []
    pos = 0
    while len(answers) < len(heads):
        end = buf.find(b"\r\n\r\n", pos)
        if end < 0:
            return answers, False
        lines = buf[pos:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        pos = end + 4
        if 100 <= status < 200 and status != 101:
            continue
        if heads[len(answers)] or status in (101, 204, 304):
            body = b""
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    return answers, False
                size = int(buf[pos:eol].split(b";")[0], 16)
                if len(buf) < eol + 2 + size + 2:
                    return answers, False
                body += buf[eol + 2:eol + 2 + size]
                pos = eol + 2 + size + 2
                if size == 0:
                    break
        elif "content-length" in headers:
            size = int(headers["content-length"])
            if len(buf) < pos + size:
                return answers, False
            body, pos = buf[pos:pos + size], pos + size
        else:  # until the connection's end
            if not closed:
                return answers, False
            body, pos = buf[pos:], len(buf)
        answers.append(Answer(status, headers, body))
    return answers, True


def exchange(port: int, payload: bytes | list[bytes], heads: list[bool]) -> tuple[str, list[Answer]]:
    """Send ``payload`` on a new connection (from a thread: the gateway may stop reading a body it
    refuses) and read answers until ``len(heads)`` are complete or the gateway closes. Returns the
    connection's source address as the gateway records it, and the answers."""
    parts = payload if isinstance(payload, list) else [payload]
    sock = socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT)
    host, local_port = sock.getsockname()[:2]

    def send() -> None:
        try:
            for part in parts:
                sock.sendall(part)
        except OSError:
            pass  # refused and closed mid-body: what the case is about

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    buf = b""
    answers: list[Answer] = []
    try:
        while True:
            try:
                data = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                data = b""
            buf += data
            answers, complete = _parse_answers(buf, heads, closed=not data)
            if complete or not data:
                break
    finally:
        sock.close()
        sender.join(timeout=5)
    return f"{host}:{local_port}", answers


# --- the audit trail, read from the gateway's store ------------------------------------------------

class AuditReader:
    """The session store's audit records, read with the store API on a loop of our own."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.store: Store = self.loop.run_until_complete(open_store(url))
        self.log = AuditLog(self.store)

    def of_source(self, source: str, since: datetime, count: int, timeout: float = 3.0) -> list[AuditRecord]:
        """The records of requests from ``source`` since ``since``, waiting until there are ``count``
        of them, each with its answer's status, or ``timeout`` has passed (refusals are written in
        batches; a mutating call's record before forwarding, its status once answered)."""
        deadline = time.monotonic() + timeout
        while True:
            records = [r for r in self.loop.run_until_complete(self.log.query(since=since, limit=None))
                       if r.source == source]
            done = len(records) >= count and all(r.status is not None for r in records)
            if done or time.monotonic() > deadline:
                return records
            time.sleep(0.05)

    def close(self) -> None:
        self.loop.run_until_complete(self.store.close())
        self.loop.close()


@pytest.fixture(scope="module")
def audit_trail(cli_env: dict[str, str]) -> Iterator[AuditReader]:
    reader = AuditReader(cli_env["DOCKGATE_STORE_URL"])
    yield reader
    reader.close()


# --- the module's containers: someone else's, and pat's and olga's own ---------------------------

def as_person(person: Person) -> docker.DockerClient:
    """docker-py as ``person``: its HttpHeaders from $DOCKER_CONFIG (the admin's token) replaced."""
    client = person.py()
    client.api._general_configs["HttpHeaders"] = {"Authorization": f"Bearer {person.token}"}
    return client


@pytest.fixture(scope="module")
def host_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A host folder an admin's container binds read-write: what a case writes there is on the host."""
    folder = tmp_path_factory.mktemp("host-dir")
    (folder / "secret").write_text("host data\n")
    return folder


@pytest.fixture(scope="module")
def actors(people: dict[str, Person], docker1: docker.DockerClient,
           host_dir: Path) -> Iterator[dict[str, str]]:
    """Containers made through the gateway by olga (whole-host operator on test1) and pat (only
    team=payments): olga's running one is outside pat's scope, with an exec olga never started.
    And an admin's container with host access, made on the engine directly."""
    prefix = f"dgt-adv-{int(time.time() * 1000) % 10**9}"
    olga, pat = as_person(people["olga"]), as_person(people["pat"])
    made: list[str] = []
    try:
        host_box = docker1.containers.create(
            "busybox", ["sleep", "3600"], name=f"{prefix}-host", network_mode="host", pid_mode="host",
            volumes={str(host_dir): {"bind": "/hostdir", "mode": "rw"}},
            labels={TEST_LABEL: prefix, "team": "payments"})
        made.append(host_box.id)
        host_box.start()
        foreign = olga.containers.run("busybox", ["sleep", "3600"], name=f"{prefix}-olga", detach=True,
                                      labels={TEST_LABEL: prefix})
        made.append(foreign.id)
        pat_box = pat.containers.run("busybox", ["sleep", "3600"], name=f"{prefix}-pat", detach=True,
                                     labels={TEST_LABEL: prefix})
        made.append(pat_box.id)
        idle = olga.containers.create("busybox", ["true"], name=f"{prefix}-idle", labels={TEST_LABEL: prefix})
        made.append(idle.id)
        foreign_exec = olga.api.exec_create(foreign.id, ["touch", "/pwned"])["Id"]
        assert docker1.api.inspect_container(pat_box.id)["Config"]["Labels"]["team"] == "payments"
        assert "team" not in docker1.api.inspect_container(foreign.id)["Config"]["Labels"]
        yield {"foreign": foreign.id, "foreign_name": foreign.name, "foreign_exec": foreign_exec,
               "pat_box": pat_box.id, "olga_idle": idle.id, "host_box": host_box.id}
    finally:
        olga.close()
        pat.close()
        for container in made:
            docker1.api.remove_container(container, force=True)


@pytest.fixture
def ctx(actors: dict[str, str], test_id: str) -> Ctx:
    return Ctx(test_id, **actors)


def authorization(who: str, people: dict[str, Person], admin_token: str) -> bytes:
    if who == "anon":
        return b""
    if who == "forged":
        return b"Authorization: Bearer dg_forged0000_0000000000000000000000000000\r\n"
    if who == "basic":
        return b"Authorization: Basic " + base64.b64encode(f"tester:{admin_token}".encode()) + b"\r\n"
    if who == "nora-then-admin":
        return people["nora"].header + f"Authorization: Bearer {admin_token}\r\n".encode()
    return people[who].header


# --- what the engine shows ----------------------------------------------------------------------

def _container_fingerprint(client: docker.DockerClient, container: str) -> dict[str, Any]:
    info = client.api.inspect_container(container)
    state = info["State"]
    return {"name": info["Name"], "state": [state[k] for k in ("Status", "Pid", "StartedAt", "FinishedAt")],
            "restarts": info["RestartCount"], "execs": sorted(info["ExecIDs"] or []),
            "host_config": info["HostConfig"], "config": info["Config"],
            "networks": sorted(info["NetworkSettings"]["Networks"]),
            "changes": client.api.diff(container)}


def engine_state(docker1: docker.DockerClient, docker2: docker.DockerClient, ctx: Ctx,
                 host_dir: Path) -> dict[str, Any]:
    """Everything a case could change: what carries the test's name or label on either engine,
    plugins and swarm, the module's containers, the exec olga never started, the host folder."""
    def mine(client: docker.DockerClient) -> list[str]:
        labelled = client.api.containers(all=True, filters={"label": f"{TEST_LABEL}={ctx.tid}"})
        named = client.api.containers(all=True, filters={"name": ctx.name})
        return sorted({c["Id"] for c in labelled + named})

    exec_state = docker1.api.exec_inspect(ctx.foreign_exec)
    return {
        "containers": mine(docker1), "containers@test2": mine(docker2),
        "volumes": [v["Name"] for v in docker1.api.volumes(filters={"name": ctx.name})["Volumes"] or []],
        "images": [i["Id"] for i in docker1.api.images(filters={"reference": f"{ctx.name}*"})],
        "networks": [n["Id"] for n in docker1.api.networks(names=[ctx.name])],
        "plugins": [p["Id"] for p in docker1.api.plugins()],
        "swarm": docker1.info()["Swarm"]["LocalNodeState"],
        "foreign_exec": [exec_state["Running"], exec_state["ExitCode"], exec_state["Pid"]],
        "host_dir": sorted(p.name for p in host_dir.iterdir()),
        **{f"container:{key}": _container_fingerprint(docker1, getattr(ctx, key))
           for key in ("foreign", "pat_box", "olga_idle", "host_box")},
    }


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What differs, as (before, after), down to the fields of a container's fingerprint."""
    changes: dict[str, Any] = {}
    for key, value in before.items():
        if value == after[key]:
            continue
        if isinstance(value, dict):
            changes[key] = {k: (v, after[key][k]) for k, v in value.items() if v != after[key][k]}
        else:
            changes[key] = (value, after[key])
    return changes


def _check_answers(case_id: str, answers: list[Answer], expect: tuple[Expect, ...]) -> None:
    got = [(a.status, a.body[:200]) for a in answers]
    assert len(answers) == len(expect), f"{case_id}: expected {len(expect)} answers, got {got}"
    for answer, wanted in zip(answers, expect, strict=True):
        assert wanted.allows_status(answer.status), f"{case_id}: {answer.status} {answer.body[:300]!r}"
        if answer.status == 301:
            assert answer.headers.get("location"), f"{case_id}: a redirect without Location"


def _check_audit(case_id: str, records: list[AuditRecord], expect: tuple[Expect, ...],
                 answers: list[Answer], who: str) -> None:
    shown = [(r.method, r.path, r.user, r.decision, r.rule, r.status) for r in records]
    assert len(records) == len(expect), f"{case_id}: audit records {shown}"
    for record, wanted, answer in zip(records, expect, answers, strict=True):
        assert record.decision == wanted.decision, f"{case_id}: {shown}"
        assert wanted.allows_rule(record.rule), f"{case_id}: rule {record.rule!r} in {shown}"
        assert record.status == answer.status, f"{case_id}: {shown}"
        if who in ("olga", "pat", "nora", "vic") and record.status not in (301, 400, 413, 501, 505):
            assert record.user == who, f"{case_id}: {shown}"


@dataclass
class Attempt:
    """One case sent: the engine before and after, the answers and the audit records."""

    before: dict[str, Any]
    after: dict[str, Any]
    answers: list[Answer]
    records: list[AuditRecord]


@contextmanager
def attempt(case: Case | Control, people: dict[str, Person], gateway, admin_token: str, ctx: Ctx,
            audit_trail: AuditReader, docker1: docker.DockerClient, docker2: docker.DockerClient,
            host_dir: Path) -> Iterator[Attempt]:
    """Send ``case`` and judge it; volumes and networks it made are removed afterwards, even when it
    fails."""
    before = engine_state(docker1, docker2, ctx, host_dir)
    since = datetime.now(UTC) - timedelta(seconds=1)
    payload = case.build(ctx, authorization(case.who, people, admin_token))
    source, answers = exchange(gateway.port, payload, [e.head for e in case.expect])
    after = engine_state(docker1, docker2, ctx, host_dir)
    try:
        yield Attempt(before, after, answers, audit_trail.of_source(source, since, len(case.expect)))
    finally:
        for volume in after["volumes"]:
            docker1.api.remove_volume(volume, force=True)
        for network in after["networks"]:
            docker1.api.remove_network(network)


# --- the cases ---------------------------------------------------------------------------------------

def test_the_table_is_large_and_every_case_is_named_once():
    ids = [case.id for case in CASES]
    assert len(ids) >= 60 and len(set(ids)) == len(ids)
    assert {e.decision for case in CASES for e in case.expect} == {"allow", "deny"}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_refused_with_the_engine_unchanged_and_recorded(case: Case, people, gateway, admin_token, ctx,
                                                        docker1, docker2, audit_trail, host_dir):
    with attempt(case, people, gateway, admin_token, ctx, audit_trail, docker1, docker2, host_dir) as sent:
        assert not sent.before["containers"] and not sent.before["volumes"]
        changes = _changes(sent.before, sent.after)
        assert not changes, f"{case.id} changed the engine: {changes}"
        _check_answers(case.id, sent.answers, case.expect)
        _check_audit(case.id, sent.records, case.expect, sent.answers, case.who)


@pytest.mark.parametrize("control", CONTROLS, ids=[control.id for control in CONTROLS])
def test_harmless_twin_is_allowed_and_changes_the_engine(control: Control, people, gateway, admin_token, ctx,
                                                         docker1, docker2, audit_trail, host_dir):
    with attempt(control, people, gateway, admin_token, ctx, audit_trail, docker1, docker2, host_dir) as sent:
        _check_answers(control.id, sent.answers, control.expect)
        _check_audit(control.id, sent.records, control.expect, sent.answers, control.who)
        before, after = sent.before, sent.after
        if control.effect == "container":
            assert len(after["containers"]) == 1 and not before["containers"]
            labels = docker1.api.inspect_container(after["containers"][0])["Config"]["Labels"]
            assert labels["dockgate.owner"] == control.who
            if control.who == "pat":
                assert labels["team"] == "payments"
        elif control.effect == "volume":
            assert after["volumes"] == [ctx.name]
        elif control.effect == "network":
            assert len(after["networks"]) == 1 and not before["networks"]
        else:
            key = "container:pat_box" if control.effect == "exec-pat-box" else "container:foreign"
            assert len(after[key]["execs"]) == len(before[key]["execs"]) + 1


# --- lists and event streams narrowed to pat's scope, whatever the query says --------------------

ALL = "/v1.41/containers/json?all=1"


def _filters(value: object) -> str:
    """A filters value, percent-encoded but for the ``$`` placeholders filled in later."""
    return quote(json.dumps(value), safe="$")


LIST_TRICKS = {
    "plain": ALL,
    "label-filter-switched-off": ALL + "&filters="
                                 + _filters({"label": {"team=payments": False}}),
    "empty-filters-then-id": ALL + "&filters=&filters=" + _filters({"id": ["$foreign"]}),
    "id-filter": ALL + "&filters=" + _filters({"id": ["$foreign"]}),
    "name-filter": ALL + "&filters=" + _filters({"name": ["$foreign_name"]}),
    "encoded-parameter-name": ALL + "&filter%73=" + _filters({"id": ["$foreign"]}),
    "upper-case-parameter-name": ALL + "&Filters=" + _filters({"id": ["$foreign"]}),
    "legacy-before": "/v1.18/containers/json?all=1&before=$pat_box",
    "events-of-the-container": "/v1.41/events?since=$since&until=$until&filters="
                               + _filters({"container": ["$foreign"]}),
}


@pytest.mark.parametrize("trick", LIST_TRICKS)
def test_scoped_lists_never_show_another_users_container(trick, people, gateway, ctx, audit_trail, docker1):
    """pat's lists and events carry pat's scope as label filters, however the query is spelt."""
    target = Template(LIST_TRICKS[trick]).substitute(
        foreign=ctx.foreign, foreign_name=ctx.foreign_name, pat_box=ctx.pat_box,
        since=int(time.time()) - 3600, until=int(time.time()) + 1)
    since = datetime.now(UTC) - timedelta(seconds=1)
    head = f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode()
    request = head + people["pat"].header + b"\r\n"
    source, answers = exchange(gateway.port, request, [False])
    assert [a.status for a in answers] == [200], answers
    body = answers[0].body
    assert ctx.foreign.encode() not in body and ctx.foreign_name.encode() not in body
    if trick == "plain":  # the scope narrows the list, it does not empty it
        assert ctx.pat_box.encode() in body
    records = audit_trail.of_source(source, since, 1)
    assert [(r.user, r.decision, r.status) for r in records] == [("pat", "allow", 200)]


# --- a token revoked while its stream is open --------------------------------------------------

def test_revoked_token_ends_a_follower_within_seconds(dockgate, gateway, docker1, name, audit_trail):
    user = f"{name}-rev"
    assert dockgate("users", "add", user, "--grant", "operator@test1").returncode == 0
    made = dockgate("tokens", "create", "--user", user)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    try:
        box = docker1.containers.run("busybox", ["sh", "-c", "while true; do echo tick; sleep 0.2; done"],
                                     name=name, detach=True)
        since = datetime.now(UTC) - timedelta(seconds=1)
        sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=20)
        source = "{}:{}".format(*sock.getsockname()[:2])
        with sock:
            sock.sendall(f"GET /v1.41/containers/{box.id}/logs?follow=1&stdout=1 HTTP/1.1\r\nHost: x\r\n"
                         f"Authorization: Bearer {token}\r\n\r\n".encode())
            received = b""
            while received.count(b"tick") < 3:
                data = sock.recv(65536)
                assert data, f"the follower ended before revocation: {received[:300]!r}"
                received += data
            assert received.startswith(b"HTTP/1.1 200")
            revoked = dockgate("tokens", "revoke", token)
            assert revoked.returncode == 0, revoked.stderr
            revoked_at = time.monotonic()
            while _recv_or_reset(sock):
                assert time.monotonic() - revoked_at < 10, "still streaming 10 s after the revocation"
            ended_after = time.monotonic() - revoked_at
        assert ended_after < 10
        # The token no longer opens anything.
        source_after, answers = exchange(gateway.port, (
            f"GET /v1.41/containers/{box.id}/logs?stdout=1 HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {token}\r\nConnection: close\r\n\r\n").encode(), [False])
        assert [a.status for a in answers] == [401]
        follower = audit_trail.of_source(source, since, 1)
        assert [(r.user, r.operation, r.decision, r.status) for r in follower] == [
            (user, "ContainerLogs", "allow", 200)]
        refused = audit_trail.of_source(source_after, since, 1)
        assert [(r.decision, r.rule, r.status) for r in refused] == [("deny", "unauthenticated", 401)]
        assert docker1.api.inspect_container(box.id)["State"]["Running"]  # the stream ended, not the box
    finally:
        dockgate("users", "rm", user)


def _recv_or_reset(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except ConnectionResetError:
        return b""


def test_answers_parse_across_reads():
    """The reader used above: a HEAD answer has no body, chunked and sized bodies are complete."""
    chunked_answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    head_answer = b"HTTP/1.1 404 Not Found\r\nContent-Length: 20\r\n\r\n"
    continue_then = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\n{}"
    answers, complete = _parse_answers(chunked_answer + head_answer, [False, True], closed=False)
    assert complete and [(a.status, a.body) for a in answers] == [(200, b"ok"), (404, b"")]
    answers, complete = _parse_answers(continue_then, [False], closed=False)
    assert complete and [(a.status, a.body) for a in answers] == [(403, b"{}")]
    assert _parse_answers(chunked_answer[:-3], [False], closed=False) == ([], False)
