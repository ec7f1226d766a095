"""The one decision point: who is calling, may they do this, on what, and what the engine then gets.

Every request the gateway serves (and, later, every action in the dashboard) comes through
:class:`Gatekeeper` as plain data. In order:

1. **identify**: a bearer token, a TLS client certificate, or root on the unix socket; nothing: 401.
2. **operation**: the route is matched to an Engine API operation (operations.py, from the specs).
3. **grant**: the caller's grants on this host and a role that allows the operation; else 403.
   A route no table knows is allowed to admins only (deny by default).
4. **scope**: a container (or exec) named in the path must carry the grant's labels; else 404, the
   engine's own answer for a missing one, so existence does not leak.
5. **policy**: the body (parsed as the engine parses it) and the query, for non-admins; 400/403/413.
6. **rewrite**: lists and event streams get the scope as label filters; created containers get the
   owner label (and the scope's labels, so their creator still sees them).

Refusals are :class:`Refusal` exceptions carrying the status, the message a docker client prints,
and the rule for the audit record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qs

from dockgate.access import operations
from dockgate.access.audit import DEFAULT_SECRET_PATTERNS, AuditRecord, redact_body
from dockgate.access.body import (
    DEFAULT_LIMIT,
    BodyError,
    Expect,
    GoObject,
    ensure_within_limit,
    fold_name,
    parse_body,
)
from dockgate.access.engine_lookup import labels_of
from dockgate.access.identity import AuthenticationFailed, Identity
from dockgate.access.operations import Operation, all_operations
from dockgate.access.policy import (
    ENTERING,
    BodyKind,
    PolicySettings,
    body_kind,
    evaluate,
    existing_volume,
    inherited_access,
)
from dockgate.access.policy_table import PolicyTable
from dockgate.access.roles import Role
from dockgate.access.scope import OWNER_LABEL, ScopeError, in_scope, with_label_filters
from dockgate.store.audit_records import Decision

ROOT_USER = "root"
# Operations that show every container of a host at once: no way to narrow them to a scope.
UNSCOPABLE = frozenset({"SystemDataUsage", "ContainerPrune"})
SCOPED_LISTS = frozenset({"ContainerList", "SystemEvents"})
# The engine's name conflict names the container holding the name: ' by container \"3f2a...\"'.
_CONFLICT_ID = re.compile(rb' by container \\?"[0-9a-f]{12,64}\\?"')
# Body fields that give a new container another's namespaces or volumes (not Links, not a commit).
SHARING = ("networkmode", "pidmode", "ipcmode", "utsmode", "usernsmode", "cgroupnsmode", "volumesfrom")


class Refusal(Exception):
    def __init__(self, status: int, message: str, rule: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.rule = rule


@dataclass(frozen=True)
class Caller:
    """What the transport knows about the other end."""

    source: str  # "10.0.0.7:51234", or "unix"
    authorization: bytes | None = None
    cert_cn: str | None = None  # subject CN of a verified TLS client certificate
    peer_uid: int | None = None  # unix socket peer's uid (SO_PEERCRED)


@dataclass(frozen=True)
class Call:
    """One request, as the engine will see it."""

    method: str
    path: str  # decoded and clean, without /hosts/NAME or the version, e.g. "/containers/x/json"
    query: str
    host: str
    has_body: bool = False


@dataclass
class Admission:
    """A request let through, and what to forward."""

    identity: Identity
    operation: Operation | None
    role: str
    scope: Mapping[str, str]
    policy: PolicySettings | None  # None for admins: no body policy
    query: str  # the query to forward (the scope pushed into its filters)
    read_body: BodyKind | None = None  # the body must be read whole and given to police()
    # A short answer to rewrite before the caller sees it (status, body -> body): a scoped caller's
    # view of a network, or a conflict that would name a foreign container.
    reshape: Callable[[int, bytes], Awaitable[bytes]] | None = None

    @property
    def operation_name(self) -> str:
        return self.operation.name if self.operation else "unknown"


class EngineLookup(Protocol):
    """What the gatekeeper must ask an engine to decide on a scope."""

    async def container(self, host: str, ref: str) -> Mapping[str, Any] | None:
        """The engine's inspect answer for container ``ref`` (id, name or id prefix); None when
        there is none."""
        ...

    async def container_labels(self, host: str, ref: str) -> Mapping[str, str] | None:
        """The labels of container ``ref``; None when there is none."""
        ...

    async def exec_container(self, host: str, exec_id: str) -> str | None:
        """The id of the container exec ``exec_id`` runs in; None when there is none."""
        ...

    async def containers_in_scope(self, host: str, scope: Mapping[str, str]) -> set[str]:
        """The ids of the containers that carry every label of ``scope``."""
        ...

    async def volume(self, host: str, name: str) -> Mapping[str, Any] | None:
        """The engine's inspect answer for volume ``name``; None when there is none (yet)."""
        ...


class Credentials(Protocol):
    """Who a token or certificate belongs to (identity.Authenticator)."""

    async def authenticate(self, authorization: bytes | None,
                           peer_cert_subject_cn: str | None) -> Identity | None: ...

    async def still_valid(self, identity: Identity) -> bool: ...


class Gatekeeper:
    def __init__(self, authenticator: Credentials, roles: Mapping[str, Role], policies: PolicyTable,
                 lookup: EngineLookup, *, body_limit: int = DEFAULT_LIMIT,
                 secret_patterns: Sequence[str] = DEFAULT_SECRET_PATTERNS) -> None:
        self.authenticator = authenticator
        self.secret_patterns = tuple(secret_patterns)
        self.roles = roles
        self.policies = policies
        self.lookup = lookup
        self.body_limit = body_limit

    async def identify(self, caller: Caller) -> Identity:
        try:
            identity = await self.authenticator.authenticate(caller.authorization, caller.cert_cn)
        except AuthenticationFailed as exc:
            raise Refusal(401, f"authentication failed: {exc}", "unauthenticated") from None
        if identity is not None:
            return identity
        if caller.peer_uid == 0:  # root on the host already: the unix socket is root-only
            return Identity(ROOT_USER, (), True, "socket")
        raise Refusal(401, "authentication required: send a dockgate token (dockgate login --token ...) "
                      "or a TLS client certificate", "unauthenticated")

    async def admit(self, identity: Identity, call: Call) -> Admission:
        operation = operations.match(call.method, call.path)
        if identity.is_admin:
            admission = Admission(identity, operation, "admin", {}, None, call.query)
            kind = body_kind(operation.name) if operation is not None else None
            if call.method not in ("GET", "HEAD") and kind in ("object", "array"):
                admission.read_body = kind  # for the audit record (and a create's owner label)
            return admission
        role, scope = self._grant(identity, call, operation)
        policy = self.policies.settings(role.name, call.host)
        admission = Admission(identity, operation, role.name, scope, policy, call.query)
        if operation is None:  # a custom role that includes admin's unmatched routes
            if scope:
                raise Refusal(403, f"{call.method} {call.path} is not an Engine API operation dockgate "
                              "knows: it cannot be narrowed to a label scope", "unknown-route")
            admission.policy = None  # no body policy knows such a route: trusted as the role says
            return admission
        if scope:
            await self._check_scope(operation, call, scope)
            admission.reshape = self._reshaper(operation.name, call.host, scope)
            if operation.name in SCOPED_LISTS:
                try:
                    admission.query = with_label_filters(call.query, scope)
                except ScopeError as exc:
                    raise Refusal(400, str(exc), "bad-request") from None
        if operation.name in ENTERING and policy is not None:
            await self._check_entering(operation, call, policy)
        kind = body_kind(operation.name)
        if kind in ("object", "array") or (call.has_body and kind == "none"):
            admission.read_body = kind if kind != "none" else "none"
        else:  # no JSON body to wait for: the query alone is decided now
            await self._apply_policy(admission, call, None)
        return admission

    async def police(self, admission: Admission, call: Call, body: bytes) -> bytes:
        """Decide on the whole body; returns the bytes to forward (the checked body, or the same
        body with the owner label added to a container create)."""
        creating = admission.operation is not None and admission.operation.name == "ContainerCreate"
        if admission.policy is None and not creating:
            return body  # an admin's body, read for the audit record only
        expects: dict[str, Expect] = {"object": "object", "array": "array"}
        expect = expects.get(admission.read_body or "", "any")
        try:
            parsed = parse_body(body, expect=expect, limit=self.body_limit) if body else None
        except BodyError as exc:
            raise Refusal(exc.status, str(exc), "body") from None
        if admission.policy is not None:
            await self._apply_policy(admission, call, parsed)
        if creating and isinstance(parsed, GoObject):
            return _with_labels(parsed, {**admission.scope, OWNER_LABEL: admission.identity.user})
        return body

    async def check_list_references(self, admission: Admission, host: str,
                                    references: Mapping[str, str]) -> None:
        """since/before of a container list (reference -> parameter) must name containers in the
        caller's scope; one outside it is answered as one that does not exist (existence must not
        leak)."""
        if not admission.scope:
            return
        for ref, param in references.items():
            labels = await self.lookup.container_labels(host, ref)
            if labels is None or not in_scope(labels, admission.scope):
                raise Refusal(400, f"invalid {param}: no such container: {ref}", "scope")

    def check_size(self, size: int) -> None:
        try:
            ensure_within_limit(size, self.body_limit)
        except BodyError as exc:
            raise Refusal(exc.status, str(exc), "body-too-large") from None

    async def still_valid(self, identity: Identity) -> bool:
        if identity.via == "socket":
            return True
        return await self.authenticator.still_valid(identity)

    def may_see_host(self, identity: Identity, host: str) -> bool:
        return identity.is_admin or any(g.host in (host, "*") for g in identity.grants)

    def operations_on(self, identity: Identity, host: str) -> frozenset[str]:
        """The operations some grant of ``identity`` lets it call on ``host``, before label scope and
        body policy have their say: what a person is offered (the dashboard's buttons). The call
        itself is still decided by :meth:`admit` and :meth:`police`."""
        if identity.is_admin:
            return all_operations()
        held = [self.roles[g.role] for g in identity.grants if g.host in (host, "*") and g.role in self.roles]
        return frozenset().union(*(role.operations for role in held))

    def record(self, caller: Caller, *, user: str | None, host: str | None, method: str, path: str,
               operation: str, decision: Decision, rule: str = "", body: bytes | None = None,
               time: datetime | None = None, status: int | None = None, duration_ms: float | None = None,
               bytes_in: int = 0, bytes_out: int = 0, kind: str | None = None,
               started: datetime | None = None, ended: datetime | None = None) -> AuditRecord:
        """The audit record of a call (``time``: when it came, by default now); the body (mutating
        calls only) with its secrets taken out. The outcome (status, duration, bytes; a session's
        kind and bounds) when known. Built positionally: one per request, and keyword plumbing
        through three calls was a tenth of the gateway's CPU per listing."""
        redacted = redact_body(operation, body, self.secret_patterns) \
            if body and method not in ("GET", "HEAD") else None
        return AuditRecord(time or datetime.now(UTC), user, caller.source, host, method, path, operation,
                           decision, rule, status, duration_ms, bytes_in, bytes_out, redacted, kind,
                           started, ended)

    # -- steps ----------------------------------------------------------------------------------
    def _grant(self, identity: Identity, call: Call,
               operation: Operation | None) -> tuple[Role, Mapping[str, str]]:
        """The role and scope under which ``identity`` may call ``operation`` on the host: a
        whole-host grant first, else one scope (two different scopes on one host are refused,
        since a list cannot be narrowed to either-of)."""
        grants = [g for g in identity.grants if g.host in (call.host, "*")]
        if not grants:
            raise Refusal(403, f"user {identity.user} has no access to host {call.host}", "no-grant")
        allowing = [(self.roles[g.role], g.scope) for g in grants
                    if g.role in self.roles and self.roles[g.role].allows(operation)]
        if not allowing:
            held = ", ".join(sorted({g.role for g in grants}))
            if operation is None:
                raise Refusal(403, f"{call.method} {call.path} is not an Engine API operation dockgate "
                              "knows; only admins may call it", "unknown-route")
            raise Refusal(403, f"user {identity.user} ({held} on {call.host}) may not {operation.name}",
                          "role")
        for role, scope in allowing:
            if not scope:
                return role, {}
        scopes = {tuple(sorted(scope.items())) for _, scope in allowing}
        if len(scopes) > 1:
            raise Refusal(403, f"user {identity.user} has several label scopes on {call.host}; "
                          "keep one grant per host", "ambiguous-scope")
        return allowing[0]

    async def _check_scope(self, operation: Operation, call: Call, scope: Mapping[str, str]) -> None:
        if operation.name in UNSCOPABLE:
            raise Refusal(403, f"{operation.name} shows every container of {call.host}: not available "
                          "with a label scope", "scope")
        resource = operation.resource
        if resource is None:
            return
        if operation.resource_kind == "container":
            labels = await self.lookup.container_labels(call.host, resource)
            if labels is None or not in_scope(labels, scope):
                raise Refusal(404, f"No such container: {resource}", "scope")
        elif operation.resource_kind == "exec":
            container = await self.lookup.exec_container(call.host, resource)
            labels = await self.lookup.container_labels(call.host, container) if container else None
            if labels is None or not in_scope(labels, scope):
                raise Refusal(404, f"No such exec instance: {resource}", "scope")

    def _reshaper(self, operation: str, host: str,
                  scope: Mapping[str, str]) -> Callable[[int, bytes], Awaitable[bytes]] | None:
        """What a scoped caller must not read in an answer: the containers of a network outside the
        scope, the id of a foreign container whose name a create conflicts with."""
        if operation == "NetworkInspect":
            async def network(status: int, body: bytes) -> bytes:
                data = json.loads(body) if status == 200 and body else None
                if not isinstance(data, dict) or not isinstance(data.get("Containers"), dict):
                    return body
                visible = await self.lookup.containers_in_scope(host, scope)
                data["Containers"] = {cid: c for cid, c in data["Containers"].items() if cid in visible}
                return json.dumps(data).encode() + b"\n"
            return network
        if operation in ("ContainerCreate", "ContainerRename"):
            async def conflict(status: int, body: bytes) -> bytes:
                return _CONFLICT_ID.sub(b"", body) if status == 409 else body
            return conflict
        return None

    async def _check_entering(self, operation: Operation, call: Call, policy: PolicySettings) -> None:
        """exec, attach and copy reach whatever the container reaches: one with host access
        (privileged, host namespaces, bind mounts...) is the host, created by someone allowed to."""
        resource = operation.resource
        if resource is None:
            return
        ref = await self.lookup.exec_container(call.host, resource) \
            if operation.resource_kind == "exec" else resource
        container = await self.lookup.container(call.host, ref) if ref else None
        if container is None:
            return  # the engine answers its own 404
        denial = inherited_access(container, f"{operation.name} into {resource}", policy)
        if denial is not None:
            raise Refusal(403, denial.message, denial.rule)

    async def _apply_policy(self, admission: Admission, call: Call, parsed: Any) -> None:
        assert admission.operation is not None and admission.policy is not None
        query = parse_qs(call.query, keep_blank_values=True)
        try:
            result = evaluate(admission.operation.name, parsed, query, admission.policy)
        except BodyError as exc:
            raise Refusal(exc.status, str(exc), "body") from None
        if result.denial is not None:
            raise Refusal(403, result.denial.message, result.denial.rule)
        for where, ref in result.container_refs:
            container = await self.lookup.container(call.host, ref)
            if container is None or not in_scope(labels_of(container), admission.scope):
                raise Refusal(403, f'policy rule "container-scope" denies {where}: no container {ref} '
                              "in your scope", "container-scope")
            if where.rpartition(".")[2].lower().startswith(SHARING):  # namespaces or volumes of another
                denial = inherited_access(container, f"{where}={ref}", admission.policy)
                if denial is not None:
                    raise Refusal(403, denial.message, denial.rule)
        for where, name in result.volume_refs:
            volume = await self.lookup.volume(call.host, name)
            denial = existing_volume(volume, f"{where}={name}", admission.policy) if volume else None
            if denial is not None:
                raise Refusal(403, denial.message, denial.rule)


def _with_labels(body: GoObject, labels: Mapping[str, str]) -> bytes:
    """The checked body again, with ``labels`` set in its Labels (replacing any spelling of them)."""
    out: dict[str, Any] = {}
    current: dict[str, Any] = {}
    for key, value in body.pairs():
        if fold_name(key) == fold_name("Labels"):
            current = dict(value.pairs()) if isinstance(value, GoObject) else {}
            continue
        out[key] = value
    out["Labels"] = {**current, **labels}
    return json.dumps(out, default=_plain, separators=(",", ":")).encode()


def _plain(value: object) -> object:
    if isinstance(value, GoObject):
        return dict(value.pairs())
    raise TypeError(f"cannot encode {type(value).__name__}")
