"""The store on a real PostgreSQL (Debian's package): the same repository checks as on SQLite, and
failing closed when the database goes away.

A private cluster runs for the session in a temporary folder, as the ``postgres`` user, listening
only on a unix socket there (no TCP port to collide with); every test gets a database of its own.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from tests.integration.store_checks import CHECKS, check_id

from dockgate.access.audit import AuditLog, AuditRecord, AuditUnavailable
from dockgate.store.database import Store, open_store
from dockgate.store.errors import StoreUnavailable

PORT = 5432  # only names the socket file: the cluster listens on no TCP port


@dataclass(frozen=True)
class Cluster:
    socket_dir: Path

    def url(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}&port={PORT}"

    async def create_database(self) -> str:
        name = f"dockgate_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(host=str(self.socket_dir), port=PORT, user="postgres",
                                     database="postgres")
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return name

    async def end_sessions(self, name: str) -> int:
        """Terminate every session on database ``name``, as a server restart would; returns how many."""
        conn = await asyncpg.connect(host=str(self.socket_dir), port=PORT, user="postgres",
                                     database="postgres")
        try:
            return len(await conn.fetch("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE datname = $1", name))
        finally:
            await conn.close()

    async def drop_database(self, name: str) -> None:
        conn = await asyncpg.connect(host=str(self.socket_dir), port=PORT, user="postgres",
                                     database="postgres")
        try:
            await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def _bin_dir() -> Path:
    """Debian's PostgreSQL programs, installing the package first when it is missing."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(["apt-get", "install", "-y", "-q", "postgresql"], env=env,
                          capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, check=True, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "-q", "postgresql"], env=env, check=True,
                           capture_output=True)
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    bin_dir = _bin_dir()
    owner = pwd.getpwnam("postgres")
    root = Path(tempfile.mkdtemp(prefix="dockgate-pg-"))
    os.chown(root, owner.pw_uid, owner.pw_gid)
    data, log = root / "data", root / "server.log"

    def as_postgres(*args: str | Path) -> None:
        proc = subprocess.run([str(a) for a in args], user="postgres", group=owner.pw_gid, cwd=root,
                              env={"PATH": os.environ["PATH"], "LANG": "C", "HOME": str(root)},
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            server_log = log.read_text() if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed:\n{proc.stdout}{proc.stderr}{server_log}")

    as_postgres(bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync",
                "-E", "UTF8", "--locale=C")
    as_postgres(bin_dir / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "60",
                "-o", f"-k {root} -p {PORT} -c listen_addresses=''", "start")
    try:
        yield Cluster(root)
    finally:
        as_postgres(bin_dir / "pg_ctl", "-D", data, "-w", "-m", "fast", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("check", CHECKS, ids=check_id)
async def test_repository(cluster: Cluster, check: Callable[[Store], Awaitable[None]]):
    store = await open_store(cluster.url(await cluster.create_database()))
    assert store.engine.dialect.name == "postgresql"
    try:
        await check(store)
    finally:
        await store.close()


CREATE_RECORD = AuditRecord(datetime.now(UTC), "alice", "127.0.0.1:1", "prod", "POST", "/containers/create",
                            "ContainerCreate", "allow")


@contextlib.asynccontextmanager
async def audit_on_new_database(cluster: Cluster) -> AsyncIterator[tuple[str, AuditLog]]:
    """A fresh database's name, and the audit log on it (its store closed afterwards)."""
    name = await cluster.create_database()
    store = await open_store(cluster.url(name))
    try:
        yield name, AuditLog(store)
    finally:
        await store.close()


async def test_audit_fails_closed_when_the_database_goes_away(cluster: Cluster):
    async with audit_on_new_database(cluster) as (name, log):
        await log.record(CREATE_RECORD)
        await cluster.drop_database(name)
        with pytest.raises(AuditUnavailable, match=rf'the audit store postgresql\+asyncpg://postgres@/{name}'
                                                   rf'.* cannot be written: .*"{name}" does not exist'):
            await log.record(CREATE_RECORD)


async def test_audit_writes_go_on_after_the_server_ends_the_writers_session(cluster: Cluster):
    """The audit trail keeps one connection for its writes: ended by the server, it is replaced
    without a mutating call being refused."""
    async with audit_on_new_database(cluster) as (name, log):
        first = await log.record(CREATE_RECORD)
        assert await cluster.end_sessions(name) >= 1
        second = await log.record(CREATE_RECORD)
        assert second > first
        assert [r.id for r in await log.query(operation="ContainerCreate")] == [first, second]


async def test_unreachable_server_is_named(tmp_path: Path):
    url = f"postgresql://postgres:s3cret@/dockgate?host={tmp_path}&port={PORT}"
    expected = r"cannot open the store postgresql\+asyncpg://postgres:\*\*\*@/dockgate"
    with pytest.raises(StoreUnavailable, match=expected) as caught:
        await open_store(url)
    assert "s3cret" not in str(caught.value)


async def test_a_gateway_on_postgresql_serves_authenticates_and_audits(cluster: Cluster, cli_env, docker1,
                                                                       name, tmp_path: Path):
    """The whole gateway on a PostgreSQL store: first-run admin token, the docker CLI through it, the
    audit trail read back with `dockgate audit`."""
    from tests.conftest import start_gateway, stop_gateway

    url = cluster.url(await cluster.create_database())
    env = {**cli_env, "DOCKGATE_STORE_URL": url, "XDG_DATA_HOME": str(tmp_path)}
    gateway = start_gateway(env, tmp_path, "--no-unix")
    try:
        token = (tmp_path / "dockgate" / "admin-token").read_text().strip()
        config = tmp_path / "docker-config"
        config.mkdir()
        (config / "config.json").write_text(f'{{"HttpHeaders": {{"Authorization": "Bearer {token}"}}}}')
        as_admin = {"DOCKER_CONFIG": str(config)}
        created = gateway.docker("create", "--name", name, "busybox", "true", env=as_admin)
        assert created.returncode == 0, created.stderr
        assert docker1.containers.get(name).labels["dockgate.owner"] == "admin"
        refused = gateway.docker("ps", env={"DOCKER_CONFIG": str(tmp_path / "nobody")})
        assert refused.returncode != 0 and "authentication required" in refused.stderr
    finally:
        stop_gateway(gateway)  # flushes the batched records
    audit = subprocess.run([sys.executable, "-m", "dockgate", "audit", "--format", "jsonl", "--limit", "50"],
                           capture_output=True, text=True, env=env, timeout=60)
    assert audit.returncode == 0, audit.stderr
    records = [json.loads(line) for line in audit.stdout.splitlines()]
    create = [r for r in records if r["operation"] == "ContainerCreate"]
    assert create and create[0]["user"] == "admin" and create[0]["status"] == 201
    assert create[0]["body"]["Image"] == "busybox"
    assert any(r["decision"] == "deny" and r["status"] == 401 for r in records)
