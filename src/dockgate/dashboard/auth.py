"""Signing in to the dashboard, the session cookie, and what every other request must carry.

A session is a dockgate token of the user's, made at sign-in with a lifetime of its own and kept
only in the browser's cookie (``HttpOnly``, ``SameSite=Strict``, ``Secure`` over TLS and on loopback
addresses, where browsers allow it over plain HTTP). So everything that ends a token ends a session:
``dockgate tokens revoke``, disabling the user, sign-out (which revokes it); ``dockgate tokens ls``
lists sessions as tokens named "dashboard session ...". The store keeps only the token's hash.

Forged requests: a state-changing request must come from our own pages (its ``Origin``, when sent,
is this address) and carry the session's CSRF token, an HMAC of the session token that a page
from another site cannot compute or read. Sign-in failures are counted per address and per user
name and slow down brute force; each sign-in, good or bad, is an audit record.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from aiohttp import web

from dockgate.access import passwords
from dockgate.access.audit import AuditUnavailable
from dockgate.access.gatekeeper import Caller, Refusal
from dockgate.access.identity import Identity, issue_token
from dockgate.dashboard.render import page
from dockgate.dashboard.services import Services, services
from dockgate.gateway.server import is_loopback
from dockgate.store import passwords as password_store
from dockgate.store import tokens as token_store
from dockgate.store import users as user_store
from dockgate.store.audit_records import AuditRecord, Decision

COOKIE = "dockgate_session"
CSRF_HEADER = "X-CSRF-Token"
LOGIN_PATH = "/ui/login"
SESSION_TOKEN_NAME = "dashboard session"  # the tokens made at sign-in, as `dockgate tokens ls` shows them
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Session:
    identity: Identity
    token: str
    csrf: str
    source: str  # the browser's address, for audit records

    @property
    def user(self) -> str:
        return self.identity.user


SESSION = web.RequestKey("session", Session)


def csrf_for(token: str) -> str:
    """The CSRF token of a session: derived, so nothing is stored and a restart keeps pages working."""
    return hmac.new(token.encode(), b"dockgate dashboard csrf", hashlib.sha256).hexdigest()


def client_address(request: web.Request) -> str:
    """The browser's address, as the gateway saw it (only the gateway reaches this app's socket)."""
    return request.headers.get("X-Forwarded-For", "unix")


def is_secure_context(request: web.Request) -> bool:
    """Whether the browser keeps a ``Secure`` cookie here: over TLS, or plain HTTP to a loopback
    address (browsers treat those as secure)."""
    if request.headers.get("X-Forwarded-Proto") == "https":
        return True
    return is_loopback((urlsplit(f"//{request.host}").hostname or "").strip("[]"))


def same_origin(request: web.Request) -> bool:
    """An ``Origin`` header (browsers send it on POSTs and WebSockets) naming this very address."""
    origin = request.headers.get("Origin")
    if origin is None:
        return request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")
    return urlsplit(origin).netloc == request.host


class LoginThrottle:
    """Failed sign-ins per user name and per address. After ``free`` failures within ``window``
    seconds, the next attempt waits: 2 s, doubling with each further failure, at most ``cap``.

    An address gets more free failures than a user name (``address_free``): many people may share
    one (a proxy, a NAT, everyone on loopback), and a stranger's guesses must not lock them all out.
    """

    def __init__(self, *, free: int = 5, address_free: int = 25, window: float = 900.0, cap: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.address_free, self.window, self.cap = free, address_free, window, cap
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    @staticmethod
    def _keys(user: str | None, address: str) -> list[tuple[str, bool]]:
        return [(f"address:{address}", True)] + ([(f"user:{user.lower()}", False)] if user else [])

    def wait(self, user: str | None, address: str) -> float:
        """Seconds before this user name, from this address, may try again (0: now)."""
        now = self._clock()
        longest = 0.0
        for key, is_address in self._keys(user, address):
            free = self.address_free if is_address else self.free
            times = self._recent(key, now)
            if len(times) >= free:
                delay = min(self.cap, 2.0 ** (len(times) - free + 1))
                longest = max(longest, times[-1] + delay - now)
        return max(0.0, longest)

    def failed(self, user: str | None, address: str) -> None:
        now = self._clock()
        for key, _ in self._keys(user, address):
            self._recent(key, now).append(now)

    def succeeded(self, user: str | None, address: str) -> None:
        for key, _ in self._keys(user, address):
            self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque(maxlen=64))
        while times and now - times[0] > self.window:
            times.popleft()
        if not times and len(self._failures) > 10_000:  # a flood of names must not grow memory
            self._failures.clear()
            times = self._failures.setdefault(key, deque(maxlen=64))
        return times


THROTTLE = web.AppKey("login_throttle", LoginThrottle)


def _next_page(value: str | None) -> str:
    """Where to go after signing in: only a path of the dashboard (no open redirect)."""
    if value and value.startswith("/ui/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/ui/"


async def login_page(request: web.Request) -> web.Response:
    return page(request, "login.html", next=_next_page(request.query.get("next")), error=None, user="")


async def login(request: web.Request) -> web.StreamResponse:
    """``POST /ui/login``: a user name and password, or a token, for a session cookie."""
    form = await request.post()
    target = _next_page(str(form.get("next", "")))
    name, secret = str(form.get("user", "")).strip(), str(form.get("password", ""))
    token_given = str(form.get("token", "")).strip()
    source = client_address(request)

    def again(message: str, status: int) -> web.Response:
        return page(request, "login.html", status=status, next=target, error=message, user=name)

    if not same_origin(request):
        return again("This sign-in did not come from this page; reload it and try again.", 403)
    srv = services(request)
    throttle = request.app[THROTTLE]
    who = None if token_given else name or None
    wait = throttle.wait(who, source)
    if wait > 0:
        await _audit_login(request, name or None, "deny", "throttled")
        return again(f"Too many failed sign-ins: try again in {math.ceil(wait)} s.", 429)
    if token_given:
        user = await _check_token(request, token_given)
    else:
        user = await _check_password(srv, name, secret)
    if user is None:
        throttle.failed(who, source)
        await _audit_login(request, name or None, "deny", "bad-token" if token_given else "bad-password")
        return again("Wrong token." if token_given else "Wrong user name or password.", 401)
    throttle.succeeded(who, source)
    await token_store.remove_ended_tokens(srv.store, user, SESSION_TOKEN_NAME, datetime.now(UTC))
    token, _ = await issue_token(srv.store, user, name=f"{SESSION_TOKEN_NAME} from {source}",
                                 lifetime=srv.session_lifetime)
    try:
        await _audit_login(request, user, "allow", "", durable=True)
    except AuditUnavailable:
        return again("The audit trail cannot be written, so sign-ins are refused; try again later.", 503)
    response = web.HTTPSeeOther(target)
    response.set_cookie(COOKIE, token, path="/", httponly=True, samesite="Strict",
                        secure=is_secure_context(request),
                        max_age=int(srv.session_lifetime.total_seconds()))
    return response


async def _check_password(srv: Services, name: str, secret: str) -> str | None:
    """The user whose password this is, enabled; None otherwise (always after one hash)."""
    digest = await password_store.password_digest(srv.store, name) if name else None
    if not await passwords.verify_async(secret, digest):
        return None
    row = await user_store.get_user(srv.store, name)
    return row.name if row is not None and not row.disabled else None


async def _check_token(request: web.Request, token: str) -> str | None:
    try:
        identity = await services(request).gatekeeper.identify(
            Caller(client_address(request), f"Bearer {token}".encode("latin-1", "replace")))
    except Refusal:
        return None
    return identity.user if identity.via == "token" else None


async def _audit_login(request: web.Request, user: str | None, decision: Decision, rule: str, *,
                       durable: bool = False) -> None:
    record = AuditRecord(datetime.now(UTC), user, client_address(request), None, "POST", LOGIN_PATH,
                         "DashboardLogin", decision, rule, 303 if decision == "allow" else None)
    audit = services(request).audit
    if durable:
        await audit.record(record)
    else:
        audit.later(record)


async def logout(request: web.Request) -> web.Response:
    """``POST /ui/logout``: the session's token is revoked, so a copy of the cookie is worthless."""
    session = request[SESSION]
    srv = services(request)
    token_id = session.identity.token_id
    if token_id is not None:
        await token_store.revoke_tokens(srv.store, [token_id])
        srv.gateway.access.authenticator.invalidate(token_id)
    response = web.HTTPSeeOther(LOGIN_PATH)
    response.del_cookie(COOKIE, path="/")
    return response


async def _session(request: web.Request) -> Session | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    source = client_address(request)
    try:
        identity = await services(request).gatekeeper.identify(
            Caller(source, f"Bearer {token}".encode("latin-1", "replace")))
    except Refusal:
        return None
    return Session(identity, token, csrf_for(token), source)


def _is_public(path: str) -> bool:
    return path == LOGIN_PATH or path.startswith("/ui/static/")


def _wants_page(request: web.Request) -> bool:
    return request.method == "GET" and not request.path.startswith("/ui/api/") and \
        not request.headers.get("Upgrade")


@web.middleware
async def require_session(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every page and call but sign-in and static files needs a live session; state-changing ones
    (and WebSockets) also need our origin and the CSRF token."""
    if _is_public(request.path):
        return await handler(request)
    session = await _session(request)
    if session is None:
        if _wants_page(request):
            raise web.HTTPSeeOther(f"{LOGIN_PATH}?next={quote(request.path_qs)}")
        response = web.json_response({"message": "signed out: sign in again"}, status=401)
        response.del_cookie(COOKIE, path="/")
        return response
    changes = request.method not in _SAFE_METHODS or request.headers.get("Upgrade")
    if changes:
        sent = request.headers.get(CSRF_HEADER) or request.query.get("csrf") or ""
        if not sent and request.content_type == "application/x-www-form-urlencoded":
            sent = str((await request.post()).get("csrf", ""))
        if not same_origin(request) or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
            return web.json_response({"message": "refused: this request did not come from a dashboard "
                                                 "page (missing or wrong CSRF token); reload the page"},
                                     status=403)
    request[SESSION] = session
    return await handler(request)
