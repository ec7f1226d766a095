"""Who is calling: a bearer token or a TLS client certificate turned into a user and their grants.

Stock clients send ``Authorization: Bearer <token>`` (the docker CLI and docker-py take it from
``HttpHeaders`` in ``$DOCKER_CONFIG/config.json``, which ``dockgate login`` writes). A TLS client
certificate names a user by its subject CN, or through ``cert_map`` (CN → user). A request that
carries an Authorization header is judged by it alone: a bad token is refused, never quietly
replaced by the certificate, so a mistake shows instead of running with other rights.

:class:`Authenticator` caches what it read for a few seconds, so a revoked token, a disabled user
or a changed grant takes effect within ``ttl`` seconds even across gateway replicas, at once in the
process that calls :meth:`Authenticator.invalidate`.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, Literal, TypeVar

from dockgate.access import tokens
from dockgate.engines.endpoint import EndpointError, validate_name
from dockgate.engines.errors import BadParameter
from dockgate.store import tokens as token_store
from dockgate.store import users as user_store
from dockgate.store.database import Store
from dockgate.store.errors import UserExists
from dockgate.store.tokens import Credential, TokenRow
from dockgate.store.users import Grant, UserRow

__all__ = ["ADMIN_ROLE", "ADMIN_USER", "ALL_HOSTS", "AuthenticationFailed", "Authenticator", "Grant",
           "Identity", "authenticate", "ensure_admin", "issue_token", "parse_grant", "validate_user_name"]

T = TypeVar("T")

ADMIN_USER = "admin"
ADMIN_ROLE = "admin"
ALL_HOSTS = "*"
_USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_ROLE = re.compile(r"[a-z][a-z0-9_-]{0,63}")
_GRANT_SYNTAX = "ROLE@HOST[:label=value,...], e.g. operator@staging or viewer@prod:team=payments"


@dataclass(frozen=True)
class Identity:
    """An authenticated caller. ``token_id`` is set when ``via == "token"``."""

    user: str
    grants: tuple[Grant, ...]
    is_admin: bool
    via: Literal["token", "cert", "socket"]  # socket: root on the gateway's unix socket
    token_id: str | None = None


class AuthenticationFailed(Exception):
    """Credentials were presented and are not good; the message is safe to send back (no secrets)."""


def validate_user_name(name: str) -> str:
    if not _USER_NAME.fullmatch(name):
        raise BadParameter("user name", f"{name!r}: use letters, digits, '.', '_', '@' or '-' "
                                        "(at most 64), starting with a letter or digit")
    return name


def parse_grant(text: str) -> Grant:
    """``ROLE@HOST[:label=value,...]``; HOST ``*`` means every host, labels limit it to containers
    carrying all of them. Label values cannot contain commas."""
    role, at, rest = text.partition("@")
    host, colon, selector = rest.partition(":")
    if not at or not role or not host:
        raise BadParameter("grant", f"{text!r}: write {_GRANT_SYNTAX}")
    if not _ROLE.fullmatch(role):
        raise BadParameter("grant", f"{text!r}: role {role!r} must be lower-case letters, digits, "
                                    "'_' or '-', starting with a letter")
    if host != ALL_HOSTS:
        try:
            validate_name(host)
        except EndpointError as exc:
            raise BadParameter("grant", f"{text!r}: {exc}") from None
    scope: dict[str, str] = {}
    for item in selector.split(",") if colon else ():
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise BadParameter("grant", f"{text!r}: label selector {item!r} must be label=value")
        if key in scope:
            raise BadParameter("grant", f"{text!r}: label {key!r} appears twice")
        scope[key] = value
    return Grant(host, role, scope)


async def authenticate(store: Store, authorization: bytes | None, peer_cert_subject_cn: str | None,
                       cert_map: Mapping[str, str], *, now: datetime | None = None) -> Identity | None:
    """The caller's identity; None when no credentials came at all (the caller answers 401).

    Raises :class:`AuthenticationFailed` when a token or certificate came and is not good.
    """
    now = now or datetime.now(UTC)
    if authorization is not None:
        token, token_id = _presented_token(authorization)
        return _token_identity(token, await token_store.find_credential(store, token_id), now)
    if peer_cert_subject_cn is not None:
        name = _cert_user(peer_cert_subject_cn, cert_map)
        return _cert_identity(peer_cert_subject_cn, await user_store.get_user(store, name))
    return None


class Authenticator:
    """:func:`authenticate` with a short cache, and the cheap check that ends streams on revocation.

    What is cached is what the store said (token digest, expiry, revocation, user and grants), never
    a verdict: every call still hashes the presented token and compares, and checks expiry against
    the clock. ``clock`` (monotonic seconds) and ``now`` (wall time) are for tests.
    """

    def __init__(self, store: Store, cert_map: Mapping[str, str] | None = None, *, ttl: float = 3.0,
                 clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.cert_map = dict(cert_map or {})
        self._now = now
        self._credentials: _Recent[Credential] = _Recent(ttl, clock)
        self._users: _Recent[UserRow] = _Recent(ttl, clock)

    async def authenticate(self, authorization: bytes | None,
                           peer_cert_subject_cn: str | None) -> Identity | None:
        """As :func:`authenticate`, reading the store at most once per ``ttl`` per token or user."""
        if authorization is not None:
            token, token_id = _presented_token(authorization)
            return _token_identity(token, await self._credential(token_id), self._now())
        if peer_cert_subject_cn is not None:
            name = _cert_user(peer_cert_subject_cn, self.cert_map)
            return _cert_identity(peer_cert_subject_cn, await self._user(name))
        return None

    async def still_valid(self, identity: Identity) -> bool:
        """Whether ``identity`` may go on: its token unrevoked and unexpired, its user enabled.

        For long streams (logs, events, exec sessions): call it every few seconds and end the stream
        when it turns False. Costs one read per ``ttl`` per token or user.
        """
        if identity.via == "token" and identity.token_id is not None:
            credential = await self._credential(identity.token_id)
            if credential is None:
                return False
            row = credential.token
            return (tokens.state(row.expires_at, row.revoked_at, self._now()) is tokens.TokenState.active
                    and not credential.user.disabled)
        user = await self._user(identity.user)
        return user is not None and not user.disabled

    def invalidate(self, token_id: str | None = None) -> None:
        """Forget ``token_id`` (after revoking it here), or everything when None (after user changes)."""
        if token_id is None:
            self._credentials.forget()
            self._users.forget()
        else:
            self._credentials.forget(token_id)

    async def _credential(self, token_id: str) -> Credential | None:
        return await self._credentials.get(token_id,
                                           lambda: token_store.find_credential(self.store, token_id))

    async def _user(self, name: str) -> UserRow | None:
        return await self._users.get(name, lambda: user_store.get_user(self.store, name))


class _Recent(Generic[T]):
    """What the store said about each key, for ``ttl`` seconds.

    Concurrent misses on one key share a single read: when an entry expires under load, every
    request in flight would otherwise read the store at once, and the reads (ORM queries, about a
    millisecond of CPU each) would outnumber the requests they serve.
    """

    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, T]] = {}
        self._reading: dict[str, asyncio.Task[T | None]] = {}
        self._generation = 0  # bumped by forget(): a read begun before it is not kept

    async def get(self, key: str, fetch: Callable[[], Awaitable[T | None]]) -> T | None:
        hit = self._entries.get(key)
        if hit is not None and self._clock() - hit[0] < self.ttl:
            return hit[1]
        reading = self._reading.get(key)
        if reading is None:
            reading = self._reading[key] = asyncio.ensure_future(self._read(key, fetch))
            reading.add_done_callback(_retrieve)
        return await asyncio.shield(reading)  # one caller cancelled must not cancel the others' read

    async def _read(self, key: str, fetch: Callable[[], Awaitable[T | None]]) -> T | None:
        generation = self._generation
        try:
            found = await fetch()
        finally:
            if self._reading.get(key) is asyncio.current_task():
                del self._reading[key]
        if generation == self._generation:
            # Only what exists is kept: random ids sent by a stranger must not grow the cache.
            if found is None:
                self._entries.pop(key, None)
            else:
                self._entries[key] = (self._clock(), found)
        return found

    def forget(self, key: str | None = None) -> None:
        """Drop ``key`` (or everything), including a read in flight: the next caller reads anew."""
        self._generation += 1
        if key is None:
            self._entries.clear()
            self._reading.clear()
        else:
            self._entries.pop(key, None)
            self._reading.pop(key, None)


def _retrieve(task: asyncio.Task[object]) -> None:
    """Mark a shared read's failure as seen: its callers got it, or all of them were cancelled."""
    if not task.cancelled():
        task.exception()


async def issue_token(store: Store, user: str, *, name: str = "",
                      lifetime: timedelta | None = None) -> tuple[str, TokenRow]:
    """A new token for ``user``: the token (to show once) and its stored row."""
    new = tokens.generate()
    expires_at = datetime.now(UTC) + lifetime if lifetime else None
    row = await token_store.add_token(store, token_id=new.token_id, user=user, name=name,
                                      digest=new.digest, expires_at=expires_at)
    return new.token, row


async def ensure_admin(store: Store) -> str | None:
    """On first run (no users at all), create ``admin`` with full rights and return its new token.

    The caller prints the token once; later runs return None. Two replicas starting together on one
    PostgreSQL store cannot both create it: the second finds the name taken and returns None.
    """
    if await user_store.count_users(store):
        return None
    try:
        await user_store.add_user(store, ADMIN_USER, is_admin=True, grants=[Grant(ALL_HOSTS, ADMIN_ROLE)])
    except UserExists:
        return None
    token, _ = await issue_token(store, ADMIN_USER, name="first run")
    return token


def _presented_token(authorization: bytes) -> tuple[str, str]:
    """The token of an ``Authorization: Bearer`` header, and its id."""
    scheme, _, value = authorization.decode("latin-1").strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthenticationFailed("the Authorization header must be 'Bearer <token>' with a dockgate "
                                   "token (dockgate login writes it for the docker CLI)")
    token = value.strip()
    try:
        return token, tokens.token_id_of(token)
    except tokens.TokenFormatError as exc:
        raise AuthenticationFailed(str(exc)) from None


def _token_identity(token: str, credential: Credential | None, now: datetime) -> Identity:
    if credential is None or not tokens.matches(token, credential.token.digest):
        raise AuthenticationFailed("unknown or wrong token")
    row = credential.token
    state = tokens.state(row.expires_at, row.revoked_at, now)
    if state is tokens.TokenState.expired:
        raise AuthenticationFailed(f"token {row.token_id} expired at {row.expires_at:%Y-%m-%d %H:%M} UTC; "
                                   "ask for a new one (dockgate tokens create)")
    if state is tokens.TokenState.revoked:
        raise AuthenticationFailed(f"token {row.token_id} has been revoked")
    user = credential.user
    if user.disabled:
        raise AuthenticationFailed(f"user {user.name!r} is disabled")
    return Identity(user.name, user.grants, user.is_admin, "token", row.token_id)


def _cert_user(common_name: str, cert_map: Mapping[str, str]) -> str:
    return cert_map.get(common_name, common_name)


def _cert_identity(common_name: str, user: UserRow | None) -> Identity:
    if user is None:
        raise AuthenticationFailed(f"the client certificate (CN {common_name!r}) names no dockgate user")
    if user.disabled:
        raise AuthenticationFailed(f"user {user.name!r} is disabled")
    return Identity(user.name, user.grants, user.is_admin, "cert")
