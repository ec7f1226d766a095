"""The store on a real SQLite file: the shared repository checks, durability settings, failing
closed when the file cannot be written, and the user/token/audit/login commands end to end."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from tests.conftest import Result
from tests.integration.store_checks import CHECKS, check_id

from dockgate.access.audit import AuditLog, AuditRecord, AuditUnavailable
from dockgate.access.identity import Grant, ensure_admin
from dockgate.store import tokens as token_store
from dockgate.store import users as user_store
from dockgate.store.database import Store, open_store
from dockgate.store.errors import StoreUnavailable


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "dockgate.db"


@pytest.mark.parametrize("check", CHECKS, ids=check_id)
async def test_repository(db_path: Path, check: Callable[[Store], Awaitable[None]]):
    store = await open_store(f"sqlite:///{db_path}")
    try:
        await check(store)
    finally:
        await store.close()


async def test_sqlite_file_is_private_and_commits_wait_for_the_disk(db_path: Path):
    store = await open_store(f"sqlite:///{db_path}")
    try:
        async with store.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == 2  # FULL
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1

        def pragmas(conn: Connection) -> tuple[object, ...]:
            return tuple(conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                         for name in ("journal_mode", "synchronous", "foreign_keys"))
        assert await store.write(pragmas) == ("wal", 2, 1)  # the audit writer's own connection too
    finally:
        await store.close()
    assert db_path.stat().st_mode & 0o777 == 0o600
    assert db_path.parent.stat().st_mode & 0o777 == 0o700


async def test_default_store_lives_in_xdg_data_home(tmp_path: Path):
    store = await open_store(env={"XDG_DATA_HOME": str(tmp_path)})
    try:
        assert await ensure_admin(store) is not None
    finally:
        await store.close()
    assert (tmp_path / "dockgate" / "dockgate.db").is_file()


async def test_unopenable_store_is_named(tmp_path: Path):
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreUnavailable, match=r"cannot open the store .*file/dockgate.db"):
        await open_store(f"sqlite:///{tmp_path}/file/dockgate.db")
    (tmp_path / "junk.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreUnavailable, match="file is not a database"):
        await open_store(f"sqlite:///{tmp_path}/junk.db")


def _audit(operation: str) -> AuditRecord:
    return AuditRecord(datetime.now(UTC), "alice", "127.0.0.1:1", "prod", "POST", "/containers/create",
                       operation, "allow")


class Immutable:
    """Makes the database unwritable even for root: ``chattr +i`` on its folder, file and WAL. Not on
    the ``-shm`` file, which SQLite maps: a write to a mapped immutable file is a SIGBUS."""

    def __init__(self, db_path: Path) -> None:
        self.targets = [str(p) for p in (db_path.parent, db_path, db_path.with_name(db_path.name + "-wal"))]

    def freeze(self) -> None:
        subprocess.run(["chattr", "+i", *self.targets], check=True)

    def thaw(self, check: bool = True) -> None:
        subprocess.run(["chattr", "-i", *self.targets], check=check)


@pytest.fixture
def immutable(db_path: Path) -> Iterator[Immutable]:
    """Always thawed at the end, or the temporary folder could not be removed."""
    files = Immutable(db_path)
    yield files
    files.thaw(check=False)


async def test_audit_fails_closed_when_the_file_cannot_be_written(db_path: Path, immutable):
    store = await open_store(f"sqlite:///{db_path}")
    log = AuditLog(store)
    try:
        await log.record(_audit("ContainerCreate"))
        immutable.freeze()
        with pytest.raises(AuditUnavailable, match=r"the audit store .*dockgate\.db cannot be written"):
            await log.record(_audit("ContainerStart"))
        assert [r.operation for r in await log.query()] == ["ContainerCreate"]  # reads go on

        reopened = await open_store(f"sqlite:///{db_path}")  # a gateway starting on a read-only store
        try:
            with pytest.raises(AuditUnavailable, match="readonly database"):
                await AuditLog(reopened).record(_audit("ContainerStart"))
        finally:
            await reopened.close()

        immutable.thaw()
        await log.record(_audit("ContainerKill"))  # writable again: recording resumes
        assert [r.operation for r in await log.query()] == ["ContainerCreate", "ContainerKill"]
    finally:
        await store.close()


# ---- the commands, as a person runs them ----

def cli_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "DOCKGATE_"))}
    return env | {"DOCKGATE_CONFIG": str(folder / "config.toml"),
                  "DOCKGATE_STORE_URL": f"sqlite:///{folder}/store.db",
                  "DOCKER_CONFIG": str(folder / "docker"), "COLUMNS": "250"}


def run_cli(env: dict[str, str], *args: str, input: str | None = None) -> Result:
    proc = subprocess.run([sys.executable, "-m", "dockgate", *args], capture_output=True, text=True,
                          input=input, timeout=60, env=env)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def seed(folder: Path) -> None:
    """alice (viewer everywhere) and root (the only admin), through the library."""

    async def work() -> None:
        store = await open_store(f"sqlite:///{folder}/store.db")
        try:
            await user_store.add_user(store, "alice", grants=[Grant("*", "viewer")])
            await user_store.add_user(store, "root", is_admin=True)
        finally:
            await store.close()

    asyncio.run(work())


def snapshot(folder: Path) -> tuple[list[user_store.UserRow], list[token_store.TokenRow]]:
    """Every user and token in the folder's store, read through the library."""

    async def work() -> tuple[list[user_store.UserRow], list[token_store.TokenRow]]:
        store = await open_store(f"sqlite:///{folder}/store.db")
        try:
            return await user_store.list_users(store), await token_store.list_tokens(store)
        finally:
            await store.close()

    return asyncio.run(work())


@pytest.fixture
def dockgate(tmp_path: Path) -> Callable[..., Result]:
    env = cli_env(tmp_path)
    return lambda *args, input=None: run_cli(env, *args, input=input)


def test_users_commands(dockgate, tmp_path):
    added = dockgate("users", "add", "alice", "--grant", "operator@staging",
                     "--grant", "viewer@prod:team=payments")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added user alice (operator@staging, viewer@prod:team=payments)"
    assert "dockgate tokens create --user alice" in added.stderr
    assert dockgate("users", "add", "root", "--admin").returncode == 0
    assert dockgate("users", "grant", "alice", "admin@staging").stdout.strip() == \
        "alice: admin@staging, viewer@prod:team=payments"
    assert dockgate("users", "revoke-grant", "alice", "admin@staging").stdout.strip() == \
        "alice: viewer@prod:team=payments"
    assert dockgate("users", "disable", "alice").stdout.strip() == "disabled user alice"

    listed = json.loads(dockgate("users", "ls", "--format", "json").stdout)
    assert [(u["name"], u["admin"], u["disabled"]) for u in listed] == [
        ("alice", False, True), ("root", True, False)]
    assert listed[0]["grants"] == [{"role": "viewer", "host": "prod", "scope": {"team": "payments"}}]
    assert listed[1]["grants"] == [{"role": "admin", "host": "*", "scope": {}}]
    table = dockgate("users", "ls").out_lines
    assert table[0].split() == ["NAME", "ADMIN", "STATE", "GRANTS", "CREATED"]
    assert table[1].split()[:3] == ["alice", "disabled", "viewer@prod:team=payments"]
    assert table[2].split()[:4] == ["root", "yes", "enabled", "admin@*"]

    assert dockgate("users", "rm", "alice").stdout.strip() == "removed alice"
    users, _ = snapshot(tmp_path)
    assert [u.name for u in users] == ["root"]


# One command per way of going wrong; the variants of each are covered by the unit and store checks.
BAD_INPUT = [
    (("users", "add", "alice"), "error: user 'alice' already exists"),
    (("users", "add", "bob", "--grant", "operator"), "invalid grant: 'operator': write ROLE@HOST"),
    (("users", "add", "b b"), "invalid user name: 'b b'"),
    (("users", "rm", "alice", "nobody"), "no user named 'nobody'"),
    (("users", "disable", "root"), "cannot disable 'root': it is the only enabled admin"),
    (("tokens", "create", "--user", "alice", "--expires", "soon"), "invalid expires: 'soon'"),
    (("tokens", "revoke", "0123456789ab"), "no token with id '0123456789ab'"),
    (("audit", "--since", "yesterday"), "invalid --since: 'yesterday'"),
    (("login", "--token", "hunter2"), "invalid token: not a dockgate token"),
]


@pytest.fixture(scope="module")
def bad_input_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], tuple]:
    """Every BAD_INPUT command, each on its own copy of a seeded store, run side by side (a CLI
    process takes about a second): its result, and the store and docker config before and after."""
    template = tmp_path_factory.mktemp("seeded")
    seed(template)

    def one(args: tuple[str, ...]) -> tuple:
        folder = tmp_path_factory.mktemp("bad-input")
        shutil.copy(template / "store.db", folder / "store.db")
        before = snapshot(folder)
        result = run_cli(cli_env(folder), *args)
        return result, before, snapshot(folder), (folder / "docker").exists()

    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(one, [args for args, _ in BAD_INPUT]))
    return {args: run for (args, _), run in zip(BAD_INPUT, runs, strict=True)}


@pytest.mark.parametrize(("args", "message"), BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_exits_2_with_a_message_and_changes_nothing(bad_input_runs, args, message):
    result, before, after, wrote_docker_config = bad_input_runs[args]
    assert result.returncode == 2, result
    assert message in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert after == before and not wrote_docker_config


def test_tokens_commands(dockgate, tmp_path):
    seed(tmp_path)
    created = dockgate("tokens", "create", "--user", "alice", "--name", "laptop", "--expires", "30d")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("dgt_") and created.out_lines == [token]  # stdout: the token alone
    token_id = token.split("_")[1]
    assert f"token {token_id} for alice, valid until " in created.stderr
    assert "It is not shown again" in created.stderr and "dockgate login" in created.stderr
    assert token not in created.stderr

    as_json = json.loads(dockgate("tokens", "create", "--user", "alice", "--format", "json").stdout)
    assert as_json["token"].startswith(f"dgt_{as_json['id']}_") and as_json["expires"] is None

    listing = dockgate("tokens", "ls")
    assert listing.out_lines[0].split() == ["ID", "USER", "NAME", "CREATED", "EXPIRES", "STATE"]
    assert listing.out_lines[1].split()[:3] == [token_id, "alice", "laptop"]
    assert listing.out_lines[1].split()[-1] == "active"
    assert "dgt_" not in listing.stdout and "sha256" not in listing.stdout

    revoked = dockgate("tokens", "revoke", token)  # a whole (leaked) token works as well as its id
    assert revoked.stdout.strip() == f"revoked token {token_id} of alice"
    rows = json.loads(dockgate("tokens", "ls", "--user", "alice", "--format", "json").stdout)
    assert [(r["id"], r["state"]) for r in rows] == [(token_id, "revoked"), (as_json["id"], "active")]
    assert rows[0]["revoked"] and "dgt_" not in json.dumps(rows) and "sha256" not in json.dumps(rows)
    assert token not in (tmp_path / "store.db").read_bytes().decode("latin-1")


def test_login_merges_the_docker_config(dockgate, tmp_path):
    docker_dir = tmp_path / "docker"
    docker_dir.mkdir()
    (docker_dir / "config.json").write_text(json.dumps(
        {"auths": {"registry:5000": {"auth": "dTpw"}}, "HttpHeaders": {"X-Meta": "1", "authorization": "x"}}))
    token = "dgt_0123456789ab_" + "a" * 43

    result = dockgate("login", "--gateway", "tcp://gw.example:6732", "--token", "-", input=token + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "export DOCKER_HOST=tcp://gw.example:6732\n"
    config = json.loads((docker_dir / "config.json").read_text())
    assert config == {"auths": {"registry:5000": {"auth": "dTpw"}},
                      "HttpHeaders": {"X-Meta": "1", "Authorization": f"Bearer {token}"}}
    assert (docker_dir / "config.json").stat().st_mode & 0o777 == 0o600

    elsewhere = tmp_path / "gw-docker"
    result = dockgate("login", "--token", token, "--docker-config", str(elsewhere))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"export DOCKER_CONFIG={elsewhere}",
                                          "export DOCKER_HOST=tcp://127.0.0.1:6732"]
    assert json.loads((elsewhere / "config.json").read_text()) == {
        "HttpHeaders": {"Authorization": f"Bearer {token}"}}
    assert elsewhere.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize(("existing", "message"), [
    ("{not json", "is not valid JSON"),
    ("[1, 2]", "must hold a JSON object"),
    ('{"HttpHeaders": "Authorization: x"}', "HttpHeaders in"),
])
def test_login_refuses_a_broken_docker_config_and_leaves_it(dockgate, tmp_path, existing, message):
    docker_dir = tmp_path / "docker"
    docker_dir.mkdir()
    (docker_dir / "config.json").write_text(existing)
    result = dockgate("login", "--token", "dgt_0123456789ab_" + "a" * 43)
    assert result.returncode == 2 and message in result.stderr
    assert (docker_dir / "config.json").read_text() == existing


async def test_audit_command(dockgate, tmp_path):
    store = await open_store(f"sqlite:///{tmp_path}/store.db")
    try:
        log = AuditLog(store)
        for minute, (user, decision) in enumerate([("alice", "allow"), ("bob", "deny"), ("alice", "deny")]):
            await log.record(AuditRecord(datetime(2024, 6, 1, 12, minute, tzinfo=UTC), user, "127.0.0.1:1",
                                         "prod", "POST", "/containers/create", "ContainerCreate", decision,
                                         rule="r", status=201 if decision == "allow" else 403,
                                         duration_ms=2.0, body='{"Env":["PASSWORD=***"]}'))
    finally:
        await store.close()

    table = dockgate("audit", "--user", "alice")
    assert table.returncode == 0, table.stderr
    assert table.out_lines[0].split()[:5] == ["TIME", "USER", "SOURCE", "HOST", "REQUEST"]
    assert len(table.out_lines) == 3 and "deny" in table.out_lines[2]

    lines = dockgate("audit", "--format", "jsonl", "--decision", "deny").out_lines
    assert [json.loads(line)["user"] for line in lines] == ["bob", "alice"]
    assert json.loads(lines[0])["body"] == {"Env": ["PASSWORD=***"]}
    window = json.loads(dockgate("audit", "--format", "json", "--since", "2024-06-01T12:01:00Z",
                                 "--until", "2024-06-01T12:02:00Z").stdout)
    assert [r["user"] for r in window] == ["bob"]
    assert len(dockgate("audit", "--format", "jsonl", "--limit", "1").out_lines) == 1


def test_unusable_store_exits_1_with_the_reason(tmp_path):
    (tmp_path / "blocker").write_text("a file where the store's folder should be")
    env = cli_env(tmp_path) | {"DOCKGATE_STORE_URL": f"sqlite:///{tmp_path}/blocker/dockgate.db"}
    result = run_cli(env, "users", "ls")
    assert result.returncode == 1, result.stderr
    assert "error: cannot open the store sqlite+aiosqlite:///" in result.stderr
    assert "Traceback" not in result.stderr


def test_store_commands_do_not_slow_down_every_call():
    """SQLAlchemy and the drivers (about 0.4 s) load only for commands that use the store."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "dockgate", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "sqlalchemy" not in proc.stderr and "asyncpg" not in proc.stderr
