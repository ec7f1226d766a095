"""The audit trail end to end: one record per request, allowed or refused at any step, with its
fields; mutating bodies stored with secrets redacted and headers never stored; exec sessions with
their start, end and bytes; and a gateway whose store cannot be written refuses to change anything."""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
import time
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest
from tests.conftest import start_gateway, stop_gateway
from tests.integration.access_checks import audit, make_person, raw

FIELDS = {"time", "user", "source", "host", "method", "path", "operation", "decision", "rule", "status",
          "duration_ms", "bytes_in", "bytes_out", "body", "kind", "started", "ended", "id"}


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


def by_status(records: list[dict]) -> dict[int, dict]:
    return {r["status"]: r for r in records}


def test_allowed_and_refused_requests_each_leave_one_record(people, gateway, dockgate, docker1, name):
    docker1.containers.run("busybox", ["sleep", "300"], name=name, detach=True, labels={"team": "web"})
    since = time.time()
    olga, vic, pat = people["olga"], people["vic"], people["pat"]
    ok(olga.docker("ps"))
    unauthenticated = raw(gateway, "GET", f"/v1.41/containers/{name}/json")
    denied = raw(gateway, "POST", f"/v1.41/containers/{name}/stop", token=vic.token)
    hidden = raw(gateway, "GET", f"/v1.41/containers/{name}/json", token=pat.token)
    bad = raw(gateway, "POST", "/v1.41/containers/create", token=olga.token, body=b'{"Image": "busybox",')
    # Refused on its declared length, before any of it is read (and the connection closed).
    huge = raw(gateway, "POST", "/v1.41/containers/create", token=olga.token,
               headers={"Content-Length": str(2 << 20), "Content-Type": "application/json"})
    assert [a.status for a in (unauthenticated, denied, hidden, bad, huge)] == [401, 403, 404, 400, 413]

    # olga: the ps (allowed), the bad body and the oversized one.
    records = audit(dockgate, since, user="olga", expect=lambda rs: sorted(
        r["operation"] for r in rs if not r["operation"].startswith("SystemPing")) == [
            "ContainerCreate", "ContainerCreate", "ContainerList"])
    assert all(set(r) == FIELDS for r in records)
    listing = next(r for r in records if r["operation"] == "ContainerList")
    assert (listing["decision"], listing["status"], listing["method"], listing["path"], listing["host"]) == (
        "allow", 200, "GET", "/containers/json", "test1")
    assert listing["source"].startswith("127.0.0.1:") and listing["bytes_out"] > 0
    assert listing["duration_ms"] > 0 and datetime.fromisoformat(listing["time"]).timestamp() >= since - 1
    refused = by_status([r for r in records if r["operation"] == "ContainerCreate"])
    assert (refused[400]["decision"], refused[400]["rule"]) == ("deny", "body")
    assert (refused[413]["decision"], refused[413]["rule"]) == ("deny", "body-too-large")

    assert [(r["decision"], r["rule"], r["status"], r["operation"]) for r in audit(
        dockgate, since, user="vic", expect=bool)] == [("deny", "role", 403, "ContainerStop")]
    assert [(r["decision"], r["rule"], r["status"], r["path"]) for r in audit(
        dockgate, since, user="pat", expect=bool)] == [("deny", "scope", 404, f"/containers/{name}/json")]

    anonymous = [r for r in audit(dockgate, since, decision="deny", operation="ContainerInspect",
                                  expect=lambda rs: any(r["user"] is None for r in rs)) if r["user"] is None]
    assert [(r["status"], r["rule"], r["host"], r["path"]) for r in anonymous] == [
        (401, "unauthenticated", "test1", f"/containers/{name}/json")]


def test_mutating_bodies_are_kept_with_secrets_redacted_and_headers_never(people, gateway, dockgate, docker1,
                                                                          name, cli_env):
    since = time.time()
    olga = people["olga"]
    ok(olga.docker("run", "-d", "--name", name, "-e", "DB_PASSWORD=hunter2-dgt", "-e", "API_TOKEN=tok-dgt-77",
                   "-e", "MODE=fast", "busybox", "sleep", "300"))
    auth = base64.urlsafe_b64encode(json.dumps({"username": "u", "password": "registry-pw-dgt"}).encode())
    tagged = raw(gateway, "POST", f"/v1.41/containers/create?name={name}-h", token=olga.token,
                 body=json.dumps({"Image": "busybox", "Cmd": ["true"]}).encode(),
                 headers={"X-Registry-Auth": auth.decode()})
    assert tagged.status == 201, tagged.body
    refused = raw(gateway, "POST", f"/v1.41/containers/create?name={name}-p", token=olga.token,
                  body=json.dumps({"Image": "busybox", "Env": ["SECRET_KEY=refused-dgt"],
                                   "HostConfig": {"Privileged": True}}).encode())
    assert refused.status == 403

    records = audit(dockgate, since, user="olga", operation="ContainerCreate", expect=lambda rs: len(rs) >= 3)
    created, with_header, denied = records[-3:]
    assert created["decision"] == "allow" and created["status"] == 201
    assert sorted(created["body"]["Env"]) == ["API_TOKEN=***", "DB_PASSWORD=***", "MODE=fast"]
    assert created["body"]["Image"] == "busybox"
    assert with_header["body"] == {"Image": "busybox", "Cmd": ["true"]}
    assert (denied["decision"], denied["rule"], denied["status"]) == ("deny", "no-privileged", 403)
    assert denied["body"]["Env"] == ["SECRET_KEY=***"]  # what was tried is kept, its secret is not
    # Nothing secret anywhere in the store's files: not the env values, the header, nor the token.
    db = Path(cli_env["DOCKGATE_STORE_URL"].removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file())
    for secret in (b"hunter2-dgt", b"tok-dgt-77", b"refused-dgt", b"registry-pw-dgt", auth,
                   olga.token.encode()):
        assert secret not in stored
    # A read's record has no body.
    ok(olga.docker("container", "inspect", name))
    inspected = audit(dockgate, since, user="olga", operation="ContainerInspect", expect=bool)
    assert inspected and all(r["body"] is None for r in inspected)


def test_an_exec_session_is_recorded_with_start_end_and_bytes(people, dockgate, docker1, name):
    docker1.containers.run("busybox", ["sleep", "300"], name=name, detach=True)
    since = time.time()
    result = ok(people["olga"].docker("exec", "-i", name, "sh", "-c", "cat; sleep 0.3; seq 1 1000",
                                      input="x" * 5000))
    assert result.stdout.startswith("x" * 5000)
    records = audit(dockgate, since, user="olga", operation="ExecStart", expect=bool)
    assert len(records) == 1
    session = records[0]
    assert (session["kind"], session["decision"], session["status"]) == ("exec", "allow", 101)
    started, ended = datetime.fromisoformat(session["started"]), datetime.fromisoformat(session["ended"])
    assert 0.3 <= (ended - started).total_seconds() < 10
    assert session["bytes_in"] >= 5000 and session["bytes_out"] >= 5000 + len("".join(
        f"{i}\n" for i in range(1, 1001)))
    assert session["body"] is not None and "Detach" in session["body"]
    made = audit(dockgate, since, user="olga", operation="ContainerExec", expect=bool)
    assert made[0]["body"]["Cmd"] == ["sh", "-c", "cat; sleep 0.3; seq 1 1000"]


def test_every_exec_session_with_stdin_completes_and_is_recorded(people, dockgate, docker1, name):
    """The engine writes its 101 head in two parts: reading it must not leave a reader on the client
    that takes stdin or its EOF from the session (it hung about one run in ten)."""
    docker1.containers.run("busybox", ["sleep", "300"], name=name, detach=True)
    since = time.time()
    runs = 15
    for _ in range(runs):
        result = people["olga"].docker("exec", "-i", name, "wc", "-c", input="y" * 5000, timeout=20)
        assert (result.returncode, result.stdout.strip()) == (0, "5000"), result.stderr
    records = audit(dockgate, since, user="olga", operation="ExecStart",
                    expect=lambda rs: len(rs) == runs and all(r["ended"] for r in rs))
    assert len(records) == runs
    assert all(r["kind"] == "exec" and r["bytes_in"] >= 5000 and r["ended"] for r in records)


class Immutable:
    """``chattr +i`` on the store's folder, file and WAL (not -shm, which SQLite maps), as the store
    tests do: unwritable even for root."""

    def __init__(self, db: Path) -> None:
        self.targets = [str(p) for p in (db.parent, db, db.with_name(db.name + "-wal")) if p.exists()]

    def freeze(self) -> None:
        subprocess.run(["chattr", "+i", *self.targets], check=True)

    def thaw(self) -> None:
        subprocess.run(["chattr", "-i", *self.targets], check=False)


@pytest.fixture
def own_store_gateway(cli_env, tmp_path_factory):
    """A gateway with a store of its own, and an admin (boss) of it."""
    folder = tmp_path_factory.mktemp("audit-failure")
    db = folder / "store" / "dockgate.db"
    db.parent.mkdir()
    env = {**cli_env, "DOCKGATE_STORE_URL": f"sqlite:///{db}", "XDG_DATA_HOME": str(folder)}
    gateway = start_gateway(env, folder)
    boss, _ = make_person(env, gateway, folder, "boss", admin=True)
    yield gateway, boss, db
    stop_gateway(gateway)


def test_when_the_audit_store_cannot_be_written_changes_are_refused_and_reads_go_on(own_store_gateway,
                                                                                    docker1, name):
    gateway, boss, db = own_store_gateway
    ok(boss.docker("run", "-d", "--name", name, "busybox", "sleep", "300"))  # the store works: recorded
    assert name in ok(boss.docker("ps", "--format", "{{.Names}}")).stdout.split()
    immutable = Immutable(db)
    immutable.freeze()
    try:
        for args in (["run", "-d", "--name", f"{name}-new", "busybox", "sleep", "300"], ["rm", "-f", name],
                     ["stop", name], ["volume", "create", f"{name}-vol"]):
            result = boss.docker(*args)
            assert result.returncode != 0, args
            assert "the audit store" in result.stderr and "cannot be written" in result.stderr, result.stderr
        answer = raw(gateway, "POST", f"/v1.41/containers/{name}/kill", token=boss.token)
        assert answer.status == 503 and "cannot be written" in answer.message
        # Reads go on.
        assert name in ok(boss.docker("ps", "--format", "{{.Names}}")).stdout.split()
        assert ok(boss.docker("inspect", "--format", "{{.State.Status}}", name)).stdout.strip() == "running"
    finally:
        immutable.thaw()
    # The engine is as it was.
    assert docker1.containers.get(name).status == "running"
    assert not docker1.containers.list(all=True, filters={"name": f"{name}-new"})
    assert not [v for v in docker1.volumes.list() if v.name == f"{name}-vol"]
    # Writable again: changes go through (and are recorded) again.
    ok(boss.docker("rm", "-f", name))
    assert not docker1.containers.list(all=True, filters={"name": name})
    deadline = time.monotonic() + 5  # completed with its status just after the answer
    while True:
        with closing(sqlite3.connect(db)) as conn:
            deleted = conn.execute("SELECT count(*) FROM audit_records WHERE operation = 'ContainerDelete' "
                                   "AND decision = 'allow' AND status = 204").fetchone()[0]
        if deleted or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert deleted == 1
