"""The gatekeeper as pure logic: fed callers and calls with fake credentials and a fake engine, it
answers who, whether, what the engine gets, and with which status and rule it refuses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, parse_qsl

import pytest

from dockgate.access.audit import REDACTED
from dockgate.access.gatekeeper import ROOT_USER, Admission, Call, Caller, Gatekeeper, Refusal
from dockgate.access.identity import AuthenticationFailed, Grant, Identity
from dockgate.access.policy_table import PolicyEntry, PolicyTable
from dockgate.access.roles import BUILT_IN, Role
from dockgate.access.scope import OWNER_LABEL, ScopeError, in_scope, with_label_filters

PAYMENTS = {"team": "payments"}


def user(name: str, *grants: str, admin: bool = False, via: str = "token") -> Identity:
    """An identity from grants written ROLE@HOST[:k=v,...]."""
    parsed = []
    for text in grants:
        role, _, rest = text.partition("@")
        host, _, selector = rest.partition(":")
        scope = dict(item.split("=", 1) for item in selector.split(",")) if selector else {}
        parsed.append(Grant(host, role, scope))
    return Identity(name, tuple(parsed), admin, via, "0123456789ab" if via == "token" else None)  # type: ignore[arg-type]


OLGA = user("olga", "operator@test1")
VIC = user("vic", "viewer@test1", "viewer@test2")
PAT = user("pat", "operator@test1:team=payments")
NORA = user("nora")
ADMIN = user("tester", "admin@*", admin=True)


class FakeCredentials:
    """Bearer tokens by value; ``revoked`` users are no longer valid."""

    def __init__(self, tokens: Mapping[bytes, Identity], certs: Mapping[str, Identity] | None = None) -> None:
        self.tokens = dict(tokens)
        self.certs = dict(certs or {})
        self.revoked: set[str] = set()

    async def authenticate(self, authorization: bytes | None,
                           peer_cert_subject_cn: str | None) -> Identity | None:
        if authorization is not None:
            found = self.tokens.get(authorization)
            if found is None:
                raise AuthenticationFailed("unknown or wrong token")
            return found
        if peer_cert_subject_cn is not None:
            if peer_cert_subject_cn not in self.certs:
                raise AuthenticationFailed(f"the certificate (CN {peer_cert_subject_cn!r}) names no user")
            return self.certs[peer_cert_subject_cn]
        return None

    async def still_valid(self, identity: Identity) -> bool:
        return identity.user not in self.revoked


@dataclass
class FakeEngine:
    """Containers (reference -> labels) and execs (id -> container) of every host, and what was asked."""

    containers: dict[str, dict[str, str]] = field(default_factory=dict)
    execs: dict[str, str] = field(default_factory=dict)
    asked: list[tuple[str, str]] = field(default_factory=list)
    host_config: dict[str, dict[str, Any]] = field(default_factory=dict)  # reference -> HostConfig
    in_scope: set[str] = field(default_factory=set)  # ids a label-filtered list returns
    volumes: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> inspect answer

    async def volume(self, host: str, name: str) -> Mapping[str, Any] | None:
        return self.volumes.get(name)

    async def containers_in_scope(self, host: str, scope: Mapping[str, str]) -> set[str]:
        return self.in_scope

    async def container(self, host: str, ref: str) -> Mapping[str, Any] | None:
        self.asked.append((host, ref))
        if ref not in self.containers:
            return None
        return {"Config": {"Labels": self.containers[ref]}, "HostConfig": self.host_config.get(ref, {}),
                "Mounts": []}

    async def container_labels(self, host: str, ref: str) -> Mapping[str, str] | None:
        self.asked.append((host, ref))
        return self.containers.get(ref)

    async def exec_container(self, host: str, exec_id: str) -> str | None:
        self.asked.append((host, f"exec:{exec_id}"))
        return self.execs.get(exec_id)


def engine() -> FakeEngine:
    return FakeEngine(
        containers={"pay1": {"team": "payments", "app": "api"}, "web1": {"team": "web"}, "bare": {}},
        execs={"e-pay": "pay1", "e-web": "web1", "e-gone": "vanished"})


def gatekeeper(lookup: FakeEngine | None = None, *, roles: Mapping[str, Role] = BUILT_IN,
               policy: PolicyTable | None = None, body_limit: int = 1024) -> Gatekeeper:
    credentials = FakeCredentials({b"Bearer olga": OLGA, b"Bearer pat": PAT}, {"olga-cert": OLGA})
    return Gatekeeper(credentials, roles, policy or PolicyTable(), lookup or engine(), body_limit=body_limit)


def call(method: str, path: str, query: str = "", host: str = "test1", has_body: bool = False) -> Call:
    return Call(method, path, query, host, has_body)


async def refusal(coro) -> Refusal:
    with pytest.raises(Refusal) as caught:
        await coro
    return caught.value


async def admitted(gate: Gatekeeper, identity: Identity, c: Call,
                   body: bytes | None = None) -> tuple[Admission, bytes]:
    """Admission and, when a body is read, what police() forwards."""
    admission = await gate.admit(identity, c)
    forwarded = b""
    if admission.read_body is not None:
        forwarded = await gate.police(admission, c, body or b"")
    return admission, forwarded


# -- 1. identify -----------------------------------------------------------------------------------

async def test_a_token_or_certificate_names_the_caller():
    gate = gatekeeper()
    assert await gate.identify(Caller("10.0.0.7:5000", authorization=b"Bearer olga")) == OLGA
    assert await gate.identify(Caller("10.0.0.7:5000", cert_cn="olga-cert")) == OLGA


async def test_no_credentials_is_401_with_a_message_saying_what_to_send():
    refused = await refusal(gatekeeper().identify(Caller("10.0.0.7:5000")))
    assert (refused.status, refused.rule) == (401, "unauthenticated")
    assert "authentication required" in refused.message and "dockgate login --token" in refused.message


async def test_a_wrong_token_is_401_and_never_replaced_by_the_certificate_or_the_socket():
    gate = gatekeeper()
    for caller in (Caller("10.0.0.7:5000", authorization=b"Bearer nope"),
                   Caller("10.0.0.7:5000", authorization=b"Bearer nope", cert_cn="olga-cert"),
                   Caller("unix", authorization=b"Bearer nope", peer_uid=0)):
        refused = await refusal(gate.identify(caller))
        assert (refused.status, refused.rule) == (401, "unauthenticated")
        assert refused.message == "authentication failed: unknown or wrong token"


async def test_root_on_the_unix_socket_is_an_admin_without_a_token():
    identity = await gatekeeper().identify(Caller("unix", peer_uid=0))
    assert (identity.user, identity.is_admin, identity.via) == (ROOT_USER, True, "socket")
    assert await gatekeeper().still_valid(identity)  # nothing to revoke


async def test_another_uid_on_the_unix_socket_needs_credentials():
    refused = await refusal(gatekeeper().identify(Caller("unix", peer_uid=1000)))
    assert refused.status == 401
    assert await gatekeeper().identify(Caller("unix", authorization=b"Bearer pat", peer_uid=1000)) == PAT


async def test_still_valid_asks_the_credentials():
    gate = gatekeeper()
    assert await gate.still_valid(OLGA)
    gate.authenticator.revoked.add("olga")  # type: ignore[attr-defined]
    assert not await gate.still_valid(OLGA)


def test_hosts_a_user_may_see():
    gate = gatekeeper()
    assert gate.may_see_host(VIC, "test2") and not gate.may_see_host(OLGA, "test2")
    assert gate.may_see_host(ADMIN, "anything") and not gate.may_see_host(NORA, "test1")
    assert gate.may_see_host(user("w", "viewer@*"), "test2")


# -- 2./3. operation, grant and role ------------------------------------------------------------------

async def test_no_grant_on_the_host_is_403_naming_user_and_host():
    gate = gatekeeper()
    for identity, host in ((NORA, "test1"), (OLGA, "test2")):
        refused = await refusal(gate.admit(identity, call("GET", "/containers/json", host=host)))
        assert (refused.status, refused.rule) == (403, "no-grant")
        assert refused.message == f"user {identity.user} has no access to host {host}"


async def test_a_grant_on_every_host():
    admission = await gatekeeper().admit(user("w", "viewer@*"), call("GET", "/containers/json", host="test2"))
    assert (admission.role, admission.operation_name, admission.scope) == ("viewer", "ContainerList", {})


@pytest.mark.parametrize(("method", "path", "operation"), [
    ("POST", "/containers/create", "ContainerCreate"),
    ("DELETE", "/containers/web1", "ContainerDelete"),
    ("POST", "/containers/web1/exec", "ContainerExec"),
    ("POST", "/containers/web1/attach", "ContainerAttach"),
    ("GET", "/containers/web1/archive", "ContainerArchive"),
])
async def test_a_viewer_is_refused_changes_and_file_reads_and_told_which_operation(method, path, operation):
    refused = await refusal(gatekeeper().admit(VIC, call(method, path)))
    assert (refused.status, refused.rule) == (403, "role")
    assert refused.message == f"user vic (viewer on test1) may not {operation}"


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/swarm/init"), ("POST", "/plugins/pull"), ("POST", "/containers/prune"), ("GET", "/swarm"),
])
async def test_an_operator_is_refused_cluster_and_host_level_operations(method, path):
    refused = await refusal(gatekeeper().admit(OLGA, call(method, path)))
    assert (refused.status, refused.rule) == (403, "role")


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/debug/pprof/"), ("OPTIONS", "/containers/json"), ("GET", "/containers/json/"),
    ("POST", "/containers/web1/checkpoints"), ("HEAD", "/containers/json"),
])
async def test_unknown_routes_are_refused_to_non_admins(method, path):
    refused = await refusal(gatekeeper().admit(OLGA, call(method, path)))
    assert (refused.status, refused.rule) == (403, "unknown-route")
    assert "only admins may call it" in refused.message


async def test_admins_pass_unknown_routes_without_policy():
    admission = await gatekeeper().admit(ADMIN, call("GET", "/debug/pprof/"))
    assert (admission.operation, admission.role, admission.policy, admission.read_body) == (
        None, "admin", None, None)
    assert admission.operation_name == "unknown"


async def test_a_custom_role_including_admin_passes_unknown_routes_but_not_with_a_scope():
    roles = {**BUILT_IN, "debugger": Role("debugger", frozenset({"SystemPing"}), allows_unmatched=True)}
    gate = gatekeeper(roles=roles)
    admission = await gate.admit(user("d", "debugger@test1"), call("GET", "/debug/pprof/"))
    assert (admission.operation, admission.role, admission.policy, admission.read_body) == (
        None, "debugger", None, None)
    scoped = user("d", "debugger@test1:team=payments")
    refused = await refusal(gate.admit(scoped, call("GET", "/debug/pprof/")))
    assert (refused.status, refused.rule) == (403, "unknown-route")
    assert "cannot be narrowed to a label scope" in refused.message


async def test_a_grant_naming_a_role_the_config_no_longer_has_grants_nothing():
    refused = await refusal(gatekeeper().admit(user("g", "deployer@test1"), call("GET", "/containers/json")))
    assert (refused.status, refused.rule) == (403, "role")
    assert "(deployer on test1)" in refused.message


async def test_a_whole_host_grant_wins_over_a_scoped_one():
    both = user("m", "viewer@test1", "operator@test1:team=payments")
    listing = await gatekeeper().admit(both, call("GET", "/containers/json", "limit=1"))
    assert (listing.role, listing.scope, listing.query) == ("viewer", {}, "limit=1")
    # Only the scoped grant allows a create: its scope applies.
    create = await gatekeeper().admit(both, call("POST", "/containers/create"))
    assert (create.role, create.scope) == ("operator", PAYMENTS)


async def test_two_scopes_on_one_host_are_ambiguous():
    two = user("a", "viewer@test1:team=payments", "operator@test1:team=web")
    refused = await refusal(gatekeeper().admit(two, call("GET", "/containers/json")))
    assert (refused.status, refused.rule) == (403, "ambiguous-scope")
    assert "several label scopes on test1" in refused.message
    # The same scope twice (another role) is not ambiguous.
    same = user("a", "viewer@test1:team=payments", "operator@*:team=payments")
    assert (await gatekeeper().admit(same, call("GET", "/containers/json"))).scope == PAYMENTS


# -- 4. scope ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/containers/{c}/json"), ("GET", "/containers/{c}/logs"), ("GET", "/containers/{c}/top"),
    ("POST", "/containers/{c}/attach"), ("GET", "/containers/{c}/archive"),
    ("HEAD", "/containers/{c}/archive"),
    ("DELETE", "/containers/{c}"), ("POST", "/containers/{c}/stop"), ("GET", "/containers/{c}/stats"),
    ("GET", "/containers/{c}/export"), ("POST", "/containers/{c}/rename"),
])
async def test_a_container_outside_the_scope_or_missing_is_404_as_the_engine_says(method, path):
    lookup = engine()
    gate = gatekeeper(lookup)
    admission = await gate.admit(PAT, call(method, path.format(c="pay1")))
    assert admission.scope == PAYMENTS
    for ref in ("web1", "bare", "nothing"):
        refused = await refusal(gate.admit(PAT, call(method, path.format(c=ref))))
        assert (refused.status, refused.rule, refused.message) == (404, "scope", f"No such container: {ref}")
    assert ("test1", "web1") in lookup.asked


async def test_exec_in_a_created_exec_session_needs_its_container_inside_the_scope():
    lookup = engine()
    gate = gatekeeper(lookup)
    exec_create = call("POST", "/containers/pay1/exec", has_body=True)
    assert (await gate.admit(PAT, exec_create)).read_body == "object"
    refused = await refusal(gate.admit(PAT, call("POST", "/containers/web1/exec", has_body=True)))
    assert (refused.status, refused.message) == (404, "No such container: web1")
    for method, path in (("POST", "/exec/{e}/start"), ("POST", "/exec/{e}/resize"),
                         ("GET", "/exec/{e}/json")):
        assert (await gate.admit(PAT, call(method, path.format(e="e-pay")))).scope == PAYMENTS
        for exec_id in ("e-web", "e-gone", "e-nothing"):
            refused = await refusal(gate.admit(PAT, call(method, path.format(e=exec_id))))
            assert (refused.status, refused.rule) == (404, "scope")
            assert refused.message == f"No such exec instance: {exec_id}"


async def test_without_a_scope_the_engine_is_not_asked():
    lookup = engine()
    await gatekeeper(lookup).admit(OLGA, call("GET", "/containers/web1/json"))
    assert lookup.asked == []


async def test_what_shows_every_container_at_once_is_refused_with_a_scope():
    refused = await refusal(gatekeeper().admit(PAT, call("GET", "/system/df")))
    assert (refused.status, refused.rule) == (403, "scope")
    assert "SystemDataUsage shows every container of test1" in refused.message
    roles = {**BUILT_IN, "pruner": Role("pruner", frozenset({"ContainerPrune"}))}
    refused = await refusal(gatekeeper(roles=roles).admit(user("p", "pruner@test1:team=a"),
                                                          call("POST", "/containers/prune")))
    assert (refused.status, refused.rule) == (403, "scope")
    # Without a scope both are fine for roles that grant them.
    await gatekeeper().admit(VIC, call("GET", "/system/df"))


def filters_of(query: str) -> dict[str, object]:
    return json.loads(parse_qs(query)["filters"][0])


@pytest.mark.parametrize(("path", "query"), [
    ("/containers/json", "all=1&limit=1"),
    ("/containers/json", 'all=1&filters={"status":["running"],"label":["app=api"]}'),
    ("/containers/json", 'filters={"label":{"app=api":true}}&limit=3'),
    ("/events", 'since=1700000000&filters={"type":["container"]}'),
    ("/events", ""),
])
async def test_lists_and_events_get_the_scope_as_engine_label_filters(path, query):
    admission = await gatekeeper().admit(PAT, call("GET", path, query))
    sent = dict(parse_qsl(query))
    forwarded = dict(parse_qsl(admission.query))
    assert {k: v for k, v in forwarded.items() if k != "filters"} == {
        k: v for k, v in sent.items() if k != "filters"}  # limit, all, since: as sent
    filters = filters_of(admission.query)
    before = json.loads(sent.get("filters", "{}"))
    labels = before.get("label", [])
    assert filters["label"] == [*labels, "team=payments"]  # the user's own labels narrow further
    assert {k: v for k, v in filters.items() if k != "label"} == {
        k: v for k, v in before.items() if k != "label"}


async def test_without_a_scope_lists_go_as_sent():
    query = 'filters={"label":{"app=api":true}}&limit=3'
    assert (await gatekeeper().admit(OLGA, call("GET", "/containers/json", query))).query == query


@pytest.mark.parametrize(("query", "fragment"), [
    ("filters=notjson", "is not JSON"),
    ("filters=[1,2]", "expected a JSON object"),
    ('filters={"label":"team=web"}', "label must be a list"),
    ("filters=null", "expected a JSON object"),
])
async def test_filters_too_malformed_to_scope_are_400(query, fragment):
    refused = await refusal(gatekeeper().admit(PAT, call("GET", "/containers/json", query)))
    assert (refused.status, refused.rule) == (400, "bad-request")
    assert fragment in refused.message


def test_with_label_filters_keeps_the_first_filters_like_go():
    query = with_label_filters('filters={"label":["a=1"]}&filters={"label":["evil=1"]}', {"t": "x"})
    assert parse_qs(query)["filters"] == ['{"label":["a=1","t=x"]}']
    assert with_label_filters("limit=2", {}) == "limit=2"
    assert parse_qs(with_label_filters("filters=", {"b": "2", "a": "1"}))["filters"] == [
        '{"label":["a=1","b=2"]}']  # an empty filters parameter is no filter
    with pytest.raises(ScopeError):
        with_label_filters("filters={", {"a": "1"})


def test_in_scope_needs_every_pair():
    assert in_scope({"team": "payments", "x": "1"}, PAYMENTS)
    assert not in_scope({"team": "web"}, PAYMENTS) and not in_scope(None, PAYMENTS) and in_scope(None, {})


# -- 5. policy --------------------------------------------------------------------------------------

async def test_a_create_body_is_policed_for_non_admins_and_names_rule_and_field():
    gate = gatekeeper()
    c = call("POST", "/containers/create", "name=x", has_body=True)
    admission = await gate.admit(OLGA, c)
    assert admission.read_body == "object"
    body = json.dumps({"Image": "busybox", "HostConfig": {"Privileged": True}}).encode()
    refused = await refusal(gate.police(admission, c, body))
    assert (refused.status, refused.rule) == (403, "no-privileged")
    assert "HostConfig.Privileged=true" in refused.message and "allow_privileged" in refused.message


async def test_a_policy_entry_relaxes_a_rule_for_its_role_and_host():
    table = PolicyTable([PolicyEntry(role="operator", host="test1", allow_bind_mounts=["/srv/data"])])
    gate = gatekeeper(policy=table)
    c = call("POST", "/containers/create", has_body=True)
    ok = json.dumps({"Image": "busybox", "HostConfig": {"Binds": ["/srv/data/x:/x"]}}).encode()
    admission, _ = await admitted(gate, OLGA, c, ok)
    assert admission.policy is not None and admission.policy.allow_bind_mounts == ["/srv/data"]
    outside = json.dumps({"Image": "busybox", "HostConfig": {"Binds": ["/etc:/x"]}}).encode()
    refused = await refusal(admitted(gate, OLGA, c, outside))
    assert (refused.status, refused.rule) == (403, "no-bind-mounts")


async def test_admins_bodies_are_not_policed():
    gate = gatekeeper()
    c = call("POST", "/containers/create", has_body=True)
    body = json.dumps({"Image": "busybox", "HostConfig": {"Privileged": True}}).encode()
    admission, forwarded = await admitted(gate, ADMIN, c, body)
    assert admission.policy is None
    assert json.loads(forwarded)["HostConfig"] == {"Privileged": True}


@pytest.mark.parametrize(("body", "status", "fragment"), [
    (b'{"Image": "busybox",', 400, "invalid JSON body"),
    (b'{"Image": "a", "Image": "b"}', 400, "ambiguous body"),
    (b'{"Image": "a", "image": "b"}', 400, "ambiguous body"),
    (b'["busybox"]', 400, "expected an object"),
    (b'{"Image": "' + b"x" * 2000 + b'"}', 413, "exceeds the limit of 1024 bytes"),
])
async def test_bodies_that_cannot_be_decided_are_refused_with_their_status(body, status, fragment):
    gate = gatekeeper()
    c = call("POST", "/containers/create", has_body=True)
    refused = await refusal(admitted(gate, OLGA, c, body))
    assert (refused.status, refused.rule) == (status, "body")
    assert fragment in refused.message


def test_check_size_refuses_a_declared_length_over_the_limit():
    gate = gatekeeper()
    gate.check_size(1024)
    with pytest.raises(Refusal) as caught:
        gate.check_size(1025)
    assert (caught.value.status, caught.value.rule) == (413, "body-too-large")
    assert "setting body_limit" in caught.value.message


async def test_a_body_on_a_call_that_takes_none_is_read_and_denied():
    gate = gatekeeper()
    c = call("POST", "/containers/web1/start", has_body=True)
    admission = await gate.admit(OLGA, c)
    assert admission.read_body == "none"
    refused = await refusal(gate.police(admission, c, b'{"Privileged": true}'))
    assert (refused.status, refused.rule) == (403, "unexpected-body")
    # Without a body it is decided at once and nothing is read.
    assert (await gate.admit(OLGA, call("POST", "/containers/web1/start"))).read_body is None


async def test_binary_bodies_are_not_read_and_the_query_is_decided_at_admission():
    gate = gatekeeper()
    archive = await gate.admit(OLGA, call("PUT", "/containers/web1/archive", "path=/tmp", has_body=True))
    assert archive.read_body is None
    refused = await refusal(gate.admit(OLGA, call("POST", "/build", "networkmode=host", has_body=True)))
    assert (refused.status, refused.rule) == (403, "no-host-namespaces")
    assert "query parameter networkmode=\"host\"" in refused.message


async def test_an_exec_body_is_policed():
    gate = gatekeeper()
    c = call("POST", "/containers/web1/exec", has_body=True)
    refused = await refusal(admitted(gate, OLGA, c, b'{"Cmd": ["sh"], "Privileged": true}'))
    assert (refused.status, refused.rule) == (403, "no-privileged")


@pytest.mark.parametrize(("field_body", "where"), [
    ({"HostConfig": {"VolumesFrom": ["web1:ro"]}}, "HostConfig.VolumesFrom[0]"),
    ({"HostConfig": {"NetworkMode": "container:web1"}}, "HostConfig.NetworkMode"),
    ({"HostConfig": {"PidMode": "container:nothing"}}, "HostConfig.PidMode"),
    ({"HostConfig": {"Links": ["/web1:db"]}}, "HostConfig.Links[0]"),
])
async def test_containers_a_body_refers_to_must_be_in_the_scope(field_body, where):
    gate = gatekeeper()
    c = call("POST", "/containers/create", has_body=True)
    body = json.dumps({"Image": "busybox", **field_body}).encode()
    refused = await refusal(admitted(gate, PAT, c, body))
    assert (refused.status, refused.rule) == (403, "container-scope")
    assert refused.message.startswith(f'policy rule "container-scope" denies {where}: no container ')
    inside = json.dumps({"Image": "busybox", "HostConfig": {"VolumesFrom": ["pay1"]}}).encode()
    await admitted(gate, PAT, c, inside)


async def test_a_commit_of_a_foreign_container_is_refused_by_its_query():
    refused = await refusal(admitted(gatekeeper(), PAT, call("POST", "/commit", "container=web1&repo=x")))
    assert (refused.status, refused.rule) == (403, "container-scope")


# -- 6. rewrite: the owner and scope labels ---------------------------------------------------------

def labels_of(forwarded: bytes) -> dict[str, str]:
    body = json.loads(forwarded)
    assert [k for k in body if k.lower() == "labels"] == ["Labels"]  # exactly one spelling left
    return body["Labels"]


async def test_a_created_container_gets_the_owner_and_scope_labels_over_any_spoofed_ones():
    gate = gatekeeper()
    c = call("POST", "/containers/create", has_body=True)
    body = json.dumps({"Image": "busybox", "Cmd": ["true"],
                       "Labels": {"app": "api", OWNER_LABEL: "someone-else", "team": "web"}}).encode()
    _, forwarded = await admitted(gate, PAT, c, body)
    assert labels_of(forwarded) == {"app": "api", OWNER_LABEL: "pat", "team": "payments"}
    sent = json.loads(forwarded)
    assert (sent["Image"], sent["Cmd"]) == ("busybox", ["true"])


async def test_labels_spelt_in_lower_case_are_replaced_not_doubled():
    gate = gatekeeper()
    c = call("POST", "/containers/create", has_body=True)
    body = json.dumps({"Image": "busybox", "labels": {"x": "1", OWNER_LABEL: "mallory"}}).encode()
    _, forwarded = await admitted(gate, OLGA, c, body)
    assert labels_of(forwarded) == {"x": "1", OWNER_LABEL: "olga"}


async def test_labels_that_are_not_an_object_become_ours():
    _, forwarded = await admitted(gatekeeper(), ADMIN, call("POST", "/containers/create", has_body=True),
                                  b'{"Image": "busybox", "Labels": null}')
    assert labels_of(forwarded) == {OWNER_LABEL: "tester"}


async def test_an_empty_create_body_is_forwarded_as_is_for_the_engine_to_refuse():
    _, forwarded = await admitted(gatekeeper(), OLGA, call("POST", "/containers/create"), b"")
    assert forwarded == b""


async def test_an_admin_body_other_than_a_create_is_forwarded_untouched():
    gate = gatekeeper()
    c = call("POST", "/volumes/create", has_body=True)
    body = b'{"Name": "v",  "Driver": "local"}'
    admission, forwarded = await admitted(gate, ADMIN, c, body)
    assert admission.read_body == "object" and forwarded == body


# -- the audit record ---------------------------------------------------------------------------------

def test_records_of_mutating_calls_keep_the_body_with_secrets_redacted():
    gate = gatekeeper()
    body = json.dumps({"Image": "busybox", "Env": ["DB_PASSWORD=hunter2", "MODE=fast"]}).encode()
    rec = gate.record(Caller("10.0.0.7:5000"), user="olga", host="test1", method="POST",
                      path="/containers/create", operation="ContainerCreate", decision="allow", body=body)
    assert json.loads(rec.body or "") == {"Image": "busybox", "Env": [f"DB_PASSWORD={REDACTED}", "MODE=fast"]}
    assert (rec.user, rec.source, rec.host, rec.kind) == ("olga", "10.0.0.7:5000", "test1", None)
    read = gate.record(Caller("unix"), user=None, host="test1", method="GET", path="/containers/json",
                       operation="ContainerList", decision="deny", rule="unauthenticated", body=b'{"a":1}')
    assert read.body is None and read.rule == "unauthenticated"



async def test_entering_a_privileged_container_is_refused_to_operators_but_not_to_admins():
    fake = engine()
    fake.host_config["web1"] = {"Privileged": True}
    gate = gatekeeper(fake)
    refused = await refusal(gate.admit(OLGA, call("POST", "/containers/web1/exec", has_body=True)))
    assert (refused.status, refused.rule) == (403, "no-privileged")
    put = call("PUT", "/containers/web1/archive", "path=/", has_body=True)
    refused = await refusal(gate.admit(OLGA, put))
    assert refused.rule == "no-privileged"
    admission = await gate.admit(ADMIN, call("POST", "/containers/web1/exec", has_body=True))
    assert admission.operation_name == "ContainerExec"


async def test_starting_an_exec_in_a_host_network_container_is_refused():
    fake = engine()
    fake.host_config["web1"] = {"NetworkMode": "host"}
    refused = await refusal(gatekeeper(fake).admit(OLGA, call("POST", "/exec/e-web/start", has_body=True)))
    assert (refused.status, refused.rule) == (403, "no-host-namespaces")


async def test_sharing_the_namespaces_of_a_host_network_container_is_refused():
    fake = engine()
    fake.host_config["web1"] = {"NetworkMode": "host"}
    gate = gatekeeper(fake)
    create = call("POST", "/containers/create", has_body=True)
    body = b'{"Image": "busybox", "HostConfig": {"NetworkMode": "container:web1"}}'
    refused = await refusal(admitted(gate, OLGA, create, body))
    assert (refused.status, refused.rule) == (403, "no-host-namespaces")
    plain = b'{"Image": "busybox", "HostConfig": {"NetworkMode": "container:bare"}}'
    _, forwarded = await admitted(gate, OLGA, create, plain)
    assert json.loads(forwarded)["Labels"][OWNER_LABEL] == "olga"


async def test_a_scoped_caller_sees_only_its_containers_in_a_network():
    fake = engine()
    fake.in_scope = {"pay1-id"}
    admission = await gatekeeper(fake).admit(PAT, call("GET", "/networks/bridge"))
    assert admission.reshape is not None
    body = json.dumps({"Name": "bridge", "Containers": {"pay1-id": {"Name": "pay1"},
                                                        "web1-id": {"Name": "web1"}}}).encode()
    seen = json.loads(await admission.reshape(200, body))
    assert seen == {"Name": "bridge", "Containers": {"pay1-id": {"Name": "pay1"}}}
    missing = b'{"message": "no such network"}'
    assert await admission.reshape(404, missing) == missing
    unscoped = await gatekeeper(fake).admit(OLGA, call("GET", "/networks/bridge"))
    assert unscoped.reshape is None


async def test_a_name_conflict_does_not_name_the_foreign_container_holding_it():
    admission = await gatekeeper().admit(PAT, call("POST", "/containers/create", "name=web1", has_body=True))
    engine_says = (b'{"message":"Conflict. The container name \\"/web1\\" is already in use by container '
                   b'\\"3f2a9c0d1e2b3f2a9c0d1e2b\\". You have to remove (or rename) that container."}')
    assert admission.reshape is not None
    shown = json.loads(await admission.reshape(409, engine_says))["message"]
    assert shown == ('Conflict. The container name "/web1" is already in use. '
                     "You have to remove (or rename) that container.")


@pytest.mark.parametrize("body", [
    {"Image": "busybox", "HostConfig": {"Binds": ["etc-bound:/data"]}},
    {"Image": "busybox",
     "HostConfig": {"Mounts": [{"Type": "volume", "Source": "etc-bound", "Target": "/d"}]}},
])
async def test_a_named_volume_that_binds_a_host_path_is_a_bind_mount(body):
    fake = engine()
    fake.volumes["etc-bound"] = {"Name": "etc-bound", "Driver": "local",
                                 "Options": {"type": "none", "o": "bind", "device": "/etc"}}
    fake.volumes["plain"] = {"Name": "plain", "Driver": "local", "Options": None}
    gate = gatekeeper(fake)
    create = call("POST", "/containers/create", has_body=True)
    refused = await refusal(admitted(gate, OLGA, create, json.dumps(body).encode()))
    assert (refused.status, refused.rule) == (403, "no-bind-mounts")
    assert "etc-bound" in refused.message
    plain = json.loads(json.dumps(body).replace("etc-bound", "plain"))
    _, forwarded = await admitted(gate, OLGA, create, json.dumps(plain).encode())
    assert json.loads(forwarded)["Labels"][OWNER_LABEL] == "olga"
