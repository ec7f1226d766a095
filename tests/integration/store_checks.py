"""Repository checks shared by the SQLite and PostgreSQL tests: each takes a fresh, empty store.

test_store_sqlite.py and test_store_postgres.py run every check in CHECKS against their backend.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from dockgate.access.audit import AuditLog, AuditRecord
from dockgate.access.identity import (
    AuthenticationFailed,
    Authenticator,
    Grant,
    authenticate,
    ensure_admin,
    issue_token,
    parse_grant,
)
from dockgate.access.tokens import token_id_of
from dockgate.store import tokens as token_store
from dockgate.store import users as user_store
from dockgate.store.database import Store, open_store
from dockgate.store.errors import LastAdmin, UnknownGrant, UnknownToken, UnknownUser, UserExists

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def bearer(token: str) -> bytes:
    return f"Bearer {token}".encode()


async def check_users_and_grants(store: Store) -> None:
    added = await user_store.add_user(store, "alice", grants=[
        parse_grant("operator@staging"), parse_grant("viewer@prod:team=payments")])
    assert added.grants == (Grant("staging", "operator"), Grant("prod", "viewer", {"team": "payments"}))
    assert added.created_at.tzinfo is not None and not added.disabled and not added.is_admin
    await user_store.add_user(store, "bob")
    with pytest.raises(UserExists, match="user 'alice' already exists"):
        await user_store.add_user(store, "alice")
    assert [u.name for u in await user_store.list_users(store)] == ["alice", "bob"]

    # One role per (host, scope): a new role there replaces the old; another scope is another grant.
    await user_store.set_grant(store, "alice", parse_grant("operator@prod:team=payments"))
    user = await user_store.set_grant(store, "alice", parse_grant("viewer@prod"))
    assert [str(g) for g in user.grants] == ["operator@staging", "operator@prod:team=payments", "viewer@prod"]
    with pytest.raises(UnknownGrant, match=r"no grant viewer@staging \(grants: operator@staging, "):
        await user_store.remove_grant(store, "alice", parse_grant("viewer@staging"))
    user = await user_store.remove_grant(store, "alice", parse_grant("operator@prod:team=payments"))
    assert [str(g) for g in user.grants] == ["operator@staging", "viewer@prod"]
    assert (await user_store.get_user(store, "alice")) == user

    assert (await user_store.set_disabled(store, "bob", True)).disabled
    assert not (await user_store.set_disabled(store, "bob", False)).disabled
    for call in (user_store.set_disabled(store, "carol", True),
                 user_store.set_grant(store, "carol", Grant("*", "viewer")),
                 user_store.remove_users(store, ["carol"])):
        with pytest.raises(UnknownUser, match="no user named 'carol'"):
            await call
    assert await user_store.get_user(store, "carol") is None


async def check_remove_is_all_or_nothing_and_takes_tokens(store: Store) -> None:
    await user_store.add_user(store, "alice", grants=[Grant("*", "viewer")])
    token, row = await issue_token(store, "alice")
    with pytest.raises(UnknownUser):
        await user_store.remove_users(store, ["alice", "nobody"])
    assert await user_store.get_user(store, "alice") is not None  # nothing removed
    await user_store.remove_users(store, ["alice"])
    assert await user_store.list_users(store) == []
    assert await token_store.find_credential(store, row.token_id) is None
    with pytest.raises(AuthenticationFailed):
        await authenticate(store, bearer(token), None, {})


async def check_the_last_admin_stays(store: Store) -> None:
    await user_store.add_user(store, "root", is_admin=True)
    for call in (user_store.set_disabled(store, "root", True), user_store.remove_users(store, ["root"])):
        with pytest.raises(LastAdmin, match="only enabled admin"):
            await call
    await user_store.add_user(store, "second", is_admin=True)
    with pytest.raises(LastAdmin):
        await user_store.remove_users(store, ["root", "second"])
    await user_store.set_disabled(store, "second", True)  # a disabled admin does not count
    with pytest.raises(LastAdmin):
        await user_store.remove_users(store, ["root"])
    await user_store.set_disabled(store, "second", False)
    await user_store.remove_users(store, ["root"])
    assert [u.name for u in await user_store.list_users(store)] == ["second"]


async def check_tokens_are_stored_hashed_and_revocable(store: Store) -> None:
    await user_store.add_user(store, "alice")
    await user_store.add_user(store, "bob")
    token, row = await issue_token(store, "alice", name="laptop", lifetime=timedelta(days=30))
    await issue_token(store, "bob", name="ci")
    assert row.token_id == token_id_of(token) and row.user == "alice" and row.name == "laptop"
    assert row.expires_at is not None
    assert timedelta(days=29) < row.expires_at - row.created_at <= timedelta(days=30)
    async with store.session() as session:
        stored = [tuple(r) for r in await session.execute(text("SELECT * FROM tokens"))]
    assert stored and not any(token.split("_", 2)[2] in str(cell) for r in stored for cell in r)

    assert [r.name for r in await token_store.list_tokens(store)] == ["laptop", "ci"]
    assert [r.name for r in await token_store.list_tokens(store, "bob")] == ["ci"]
    with pytest.raises(UnknownUser):
        await token_store.list_tokens(store, "carol")
    with pytest.raises(UnknownUser):
        await issue_token(store, "carol")

    with pytest.raises(UnknownToken, match="no token with id 'feedfeedfeed'"):
        await token_store.revoke_tokens(store, [row.token_id, "feedfeedfeed"])
    assert (await token_store.list_tokens(store, "alice"))[0].revoked_at is None  # all or none
    first = (await token_store.revoke_tokens(store, [row.token_id]))[0]
    again = (await token_store.revoke_tokens(store, [row.token_id]))[0]
    assert first.revoked_at is not None and again.revoked_at == first.revoked_at


async def check_ended_sessions_are_removed_and_nothing_else(store: Store) -> None:
    await user_store.add_user(store, "alice")
    await user_store.add_user(store, "bob")
    gone = timedelta(microseconds=1)
    await issue_token(store, "alice", name="dashboard session from 10.0.0.1", lifetime=gone)
    _, revoked = await issue_token(store, "alice", name="dashboard session from 10.0.0.2")
    await token_store.revoke_tokens(store, [revoked.token_id])
    _, live = await issue_token(store, "alice", name="dashboard session from 10.0.0.3",
                                lifetime=timedelta(hours=1))
    _, other = await issue_token(store, "alice", name="laptop", lifetime=timedelta(microseconds=1))
    _, bobs = await issue_token(store, "bob", name="dashboard session from 10.0.0.4",
                                lifetime=timedelta(microseconds=1))
    await asyncio.sleep(0.01)
    assert await token_store.remove_ended_tokens(store, "alice", "dashboard session", datetime.now(UTC)) == 2
    left = {r.token_id for r in await token_store.list_tokens(store)}
    assert left == {live.token_id, other.token_id, bobs.token_id}


async def check_authenticate(store: Store) -> None:
    await user_store.add_user(store, "alice", grants=[parse_grant("viewer@prod:team=payments")])
    await user_store.add_user(store, "Build-Bot")
    token, row = await issue_token(store, "alice", lifetime=timedelta(hours=1))

    identity = await authenticate(store, bearer(token), None, {})
    assert identity is not None
    assert (identity.user, identity.via, identity.token_id, identity.is_admin) == (
        "alice", "token", row.token_id, False)
    assert identity.grants == (Grant("prod", "viewer", {"team": "payments"}),)
    assert await authenticate(store, f"bearer   {token} ".encode(), None, {}) == identity
    assert await authenticate(store, None, None, {}) is None

    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    for header, fragment in ((bearer(wrong), "unknown or wrong token"),
                             (b"Bearer dgt_nope", "not a dockgate token"),
                             (f"Basic {token}".encode(), "must be 'Bearer <token>'"),
                             (b"Bearer", "must be 'Bearer <token>'"),
                             (b"", "must be 'Bearer <token>'")):
        with pytest.raises(AuthenticationFailed, match=fragment):
            await authenticate(store, header, None, {})
    with pytest.raises(AuthenticationFailed, match=f"token {row.token_id} expired"):
        await authenticate(store, bearer(token), None, {}, now=datetime.now(UTC) + timedelta(hours=2))

    # Certificates: the CN is the user name, unless cert_map says otherwise.
    by_cert = await authenticate(store, None, "alice", {})
    assert by_cert is not None and (by_cert.user, by_cert.via, by_cert.token_id) == ("alice", "cert", None)
    mapped = await authenticate(store, None, "build-bot.example.com", {"build-bot.example.com": "Build-Bot"})
    assert mapped is not None and mapped.user == "Build-Bot"
    with pytest.raises(AuthenticationFailed, match=r"\(CN 'mallory'\) names no dockgate user"):
        await authenticate(store, None, "mallory", {})
    # A bad token is not rescued by a good certificate.
    with pytest.raises(AuthenticationFailed):
        await authenticate(store, bearer(wrong), "alice", {})

    await user_store.set_disabled(store, "alice", True)
    for args in ((bearer(token), None), (None, "alice")):
        with pytest.raises(AuthenticationFailed, match="user 'alice' is disabled"):
            await authenticate(store, *args, {})
    await user_store.set_disabled(store, "alice", False)
    await token_store.revoke_tokens(store, [row.token_id])
    with pytest.raises(AuthenticationFailed, match="has been revoked"):
        await authenticate(store, bearer(token), None, {})


async def check_authenticator_cache_and_revocation(store: Store) -> None:
    await user_store.add_user(store, "alice", grants=[Grant("*", "viewer")])
    token, row = await issue_token(store, "alice")
    clock = [1000.0]
    auth = Authenticator(store, ttl=3.0, clock=lambda: clock[0])
    identity = await auth.authenticate(bearer(token), None)
    assert identity is not None and identity.user == "alice"
    assert await auth.still_valid(identity)

    # Revoked elsewhere (the CLI, another replica): refused once the cache entry is older than ttl.
    await token_store.revoke_tokens(store, [row.token_id])
    assert await auth.authenticate(bearer(token), None) == identity
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(AuthenticationFailed, match="wrong token"):  # the cache holds no verdicts
        await auth.authenticate(bearer(wrong), None)
    clock[0] += 3.0
    with pytest.raises(AuthenticationFailed, match="revoked"):
        await auth.authenticate(bearer(token), None)
    assert not await auth.still_valid(identity)

    # Revoked here: invalidate makes it immediate.
    token2, row2 = await issue_token(store, "alice")
    identity2 = await auth.authenticate(bearer(token2), None)
    assert identity2 is not None and await auth.still_valid(identity2)
    await token_store.revoke_tokens(store, [row2.token_id])
    assert await auth.still_valid(identity2)  # cached: within ttl
    auth.invalidate(row2.token_id)
    assert not await auth.still_valid(identity2)

    # A certificate user disabled: streams end within ttl, or at once after invalidate().
    by_cert = await auth.authenticate(None, "alice")
    assert by_cert is not None and await auth.still_valid(by_cert)
    await user_store.set_disabled(store, "alice", True)
    assert await auth.still_valid(by_cert)
    auth.invalidate()
    assert not await auth.still_valid(by_cert)
    with pytest.raises(AuthenticationFailed, match="disabled"):
        await auth.authenticate(None, "alice")


async def check_authenticator_reads_once_for_concurrent_misses(store: Store) -> None:
    """Fifty requests arriving as a token's entry expires read the store once, not fifty times; a
    revocation made here while that read is in flight is not undone by its (older) answer."""
    await user_store.add_user(store, "alice", grants=[Grant("*", "viewer")])
    token, row = await issue_token(store, "alice")
    reads = []
    have_read, answer = asyncio.Event(), asyncio.Event()
    answer.set()

    async def counted(store_: Store, token_id: str) -> token_store.Credential | None:
        reads.append(token_id)
        found = await find_credential(store_, token_id)
        have_read.set()
        await answer.wait()  # a slow store: the answer is on its way while others arrive
        return found

    find_credential = token_store.find_credential
    token_store.find_credential = counted  # type: ignore[assignment]
    try:
        clock = [1000.0]
        auth = Authenticator(store, ttl=3.0, clock=lambda: clock[0])
        identities = await asyncio.gather(*(auth.authenticate(bearer(token), None) for _ in range(50)))
        assert len(reads) == 1 and {i.user for i in identities if i} == {"alice"}
        clock[0] += 3.0
        await asyncio.gather(*(auth.authenticate(bearer(token), None) for _ in range(50)))
        assert len(reads) == 2

        clock[0] += 3.0
        have_read.clear()
        answer.clear()
        pending = asyncio.ensure_future(auth.authenticate(bearer(token), None))
        await have_read.wait()  # the read has seen the token active; its answer is held back
        await token_store.revoke_tokens(store, [row.token_id])
        auth.invalidate(row.token_id)
        answer.set()
        assert (await pending).user == "alice"  # it asked before the revocation
        with pytest.raises(AuthenticationFailed, match="revoked"):
            await auth.authenticate(bearer(token), None)
        assert len(reads) == 4
    finally:
        token_store.find_credential = find_credential  # type: ignore[assignment]


async def check_first_run_creates_admin_once(store: Store) -> None:
    token = await ensure_admin(store)
    assert token is not None
    identity = await authenticate(store, bearer(token), None, {})
    assert identity is not None and identity.user == "admin" and identity.is_admin
    assert identity.grants == (Grant("*", "admin"),)
    assert await ensure_admin(store) is None
    assert [u.name for u in await user_store.list_users(store)] == ["admin"]
    assert [t.name for t in await token_store.list_tokens(store)] == ["first run"]


def _record(minutes: int, **fields: object) -> AuditRecord:
    base: dict[str, object] = {
        "time": T0 + timedelta(minutes=minutes), "user": "alice", "source": "127.0.0.1:40000",
        "host": "prod", "method": "GET", "path": "/containers/json", "operation": "ContainerList",
        "decision": "allow", "rule": "viewer@prod", "status": 200, "duration_ms": 1.5,
        "bytes_in": 0, "bytes_out": 321}
    return AuditRecord(**{**base, **fields})  # type: ignore[arg-type]


async def check_audit_write_complete_query_export(store: Store) -> None:
    log = AuditLog(store)
    await log.record(_record(0))
    await log.record(_record(1, user="bob", host="staging", decision="deny", rule="no grant", status=403))
    pending = await log.record(_record(2, method="POST", path="/containers/create",
                                       operation="ContainerCreate", status=None, duration_ms=None,
                                       body='{"Env":["PASSWORD=***"]}'))
    exec_id = await log.record(_record(3, method="POST", path="/exec/abc/start", operation="ExecStart",
                                       kind="exec", status=None, duration_ms=None))
    await log.record(_record(4, user=None, host=None, path="/_ping", operation="SystemPing",
                             decision="deny", rule="unauthenticated", status=401))

    # Written before forwarding, completed once the answer is known.
    await log.complete(pending, status=201, duration_ms=12.5, bytes_in=90, bytes_out=88)
    started, ended = T0 + timedelta(minutes=3, seconds=1), T0 + timedelta(minutes=9)
    await log.complete(exec_id, status=101, duration_ms=359000.0, bytes_in=17, bytes_out=4096,
                       started=started, ended=ended)

    everything = await log.query()
    assert [r.time for r in everything] == [T0 + timedelta(minutes=m) for m in range(5)]
    assert all(r.time.tzinfo is not None for r in everything)
    create = everything[2]
    assert (create.status, create.duration_ms, create.bytes_in, create.bytes_out, create.body) == (
        201, 12.5, 90, 88, '{"Env":["PASSWORD=***"]}')
    session = everything[3]
    assert (session.kind, session.started, session.ended, session.bytes_out) == ("exec", started, ended, 4096)

    def paths(records: list[AuditRecord]) -> list[str]:
        return [r.path for r in records]

    assert paths(await log.query(user="bob")) == ["/containers/json"]
    assert [r.user for r in await log.query(host="prod")] == ["alice", "alice", "alice"]
    assert paths(await log.query(operation="ContainerCreate")) == ["/containers/create"]
    assert [r.status for r in await log.query(decision="deny")] == [403, 401]
    assert paths(await log.query(since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4))) == [
        "/containers/create", "/exec/abc/start"]  # since inclusive, until exclusive
    assert paths(await log.query(limit=2)) == ["/exec/abc/start", "/_ping"]  # the newest, oldest first
    assert await log.query(user="alice", decision="deny") == []

    out = io.StringIO()
    assert await log.export_jsonl(out, user="alice") == 3
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["operation"] for line in lines] == ["ContainerList", "ContainerCreate", "ExecStart"]
    assert lines[1]["body"] == {"Env": ["PASSWORD=***"]} and lines[1]["status"] == 201
    assert lines[2]["started"] == started.isoformat()


async def check_batched_audit_records_read_back_like_durable_ones(store: Store) -> None:
    """Reads' records go in batches by another path than the durable ones: both must store times
    (and every field) the same way, or time-window queries would miss some."""
    log = AuditLog(store)
    await log.record(_record(0))
    session = {"kind": "exec", "started": T0 + timedelta(minutes=1, seconds=1),
               "ended": T0 + timedelta(minutes=1, seconds=2, microseconds=5)}
    written = [_record(1, path="/later/1", **session), _record(2, path="/later/2", body='{"A":1}'),
               _record(3, path="/later/3", duration_ms=None, status=None, user=None)]
    for rec in written:
        log.later(rec)
    await log.flush()
    assert await log.record(_record(4)) > 0
    window = await log.query(since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=3))
    assert [r.path for r in window] == ["/later/1", "/later/2"]
    read = await log.query(since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=4))
    assert [replace(r, id=None) for r in read] == written


async def check_audit_records_are_visible_to_a_new_connection(store: Store) -> None:
    """What record() returned for is committed: another store (another replica) reads it at once."""
    record_id = await AuditLog(store).record(_record(0, method="DELETE", operation="ContainerDelete"))
    other = await open_store(store.url)
    try:
        found = await AuditLog(other).query(operation="ContainerDelete")
    finally:
        await other.close()
    assert [r.id for r in found] == [record_id]


async def check_removing_a_user_keeps_their_audit_records(store: Store) -> None:
    await user_store.add_user(store, "alice")
    await AuditLog(store).record(_record(0))
    await user_store.remove_users(store, ["alice"])
    assert [r.user for r in await AuditLog(store).query(user="alice")] == ["alice"]


CHECKS: list[Callable[[Store], Awaitable[None]]] = [
    check_users_and_grants,
    check_remove_is_all_or_nothing_and_takes_tokens,
    check_the_last_admin_stays,
    check_tokens_are_stored_hashed_and_revocable,
    check_ended_sessions_are_removed_and_nothing_else,
    check_authenticate,
    check_authenticator_cache_and_revocation,
    check_authenticator_reads_once_for_concurrent_misses,
    check_first_run_creates_admin_once,
    check_audit_write_complete_query_export,
    check_batched_audit_records_read_back_like_durable_ones,
    check_audit_records_are_visible_to_a_new_connection,
    check_removing_a_user_keeps_their_audit_records,
]


def check_id(check: Callable[[Store], Awaitable[None]]) -> str:
    return check.__name__.removeprefix("check_")
