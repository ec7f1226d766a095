"""The requests of test_access_adversarial.py: raw bytes a non-admin sends to the gateway to reach
the host or someone else's containers, and what the gateway must answer and record for each.

Every request is written by hand, byte for byte (header case, duplicate headers, framing, escapes
in paths and JSON keys), because a client library would normalise exactly what is under test.
Bodies are JSON text, not ``json.dumps`` output, for the same reason: duplicate keys, ``\\u``
escapes and Go's case folding (U+017F LATIN SMALL LETTER LONG S is ``s``, U+212A KELVIN SIGN is
``k``) must reach the gateway as written.

Everything a request could create carries the test's name (``dgt-<test id>``) or its
``dockgate.test`` label, so the engine can be searched for it afterwards.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from string import Template

TEST_LABEL = "dockgate.test"
ONE_MIB = 1024 * 1024


@dataclass(frozen=True)
class Ctx:
    """What a request is written against: the test's id and the containers of the module."""

    tid: str
    foreign: str  # a running container olga started: outside pat's scope (team=payments)
    foreign_name: str
    foreign_exec: str  # an exec olga created in it and never started
    pat_box: str  # pat's own running container
    olga_idle: str  # olga's own container, created and never started
    host_box: str  # an admin's container with host access (host network and pid namespaces, a host
    # folder bound read-write at /hostdir), labelled team=payments: inside pat's scope too

    @property
    def name(self) -> str:
        return f"dgt-{self.tid}"

    @property
    def create_target(self) -> str:
        return f"/v1.41/containers/create?name={self.name}"


@dataclass(frozen=True)
class Expect:
    """One answer and its audit record: ``status`` (one of several when the engine's own
    refusal and ours are both acceptable), the record's decision and, when given, its rule."""

    status: int | tuple[int, ...]
    decision: str = "deny"
    rule: str | tuple[str, ...] | None = None
    head: bool = False  # answer to a HEAD request: no body follows its head

    def allows_status(self, status: int) -> bool:
        return status in self.status if isinstance(self.status, tuple) else status == self.status

    def allows_rule(self, rule: str) -> bool:
        if self.rule is None:
            return True
        return rule in self.rule if isinstance(self.rule, tuple) else rule == self.rule


# A request: the context and the caller's Authorization line in, the bytes to send out (a list:
# parts sent one after the other from a thread, for bodies the gateway may stop reading).
Build = Callable[[Ctx, bytes], "bytes | list[bytes]"]


@dataclass(frozen=True)
class Case:
    id: str
    who: str  # a person of the `people` fixture, "anon" (no token), "forged" (an unknown token),
    # "basic" (the admin's token as a Basic password), "nora-then-admin" (two Authorization headers)
    build: Build
    expect: tuple[Expect, ...]


def request(method: str, target: str, auth: bytes, body: bytes | None = None, *,
            headers: tuple[str, ...] = (), close: bool = True, version: str = "1.1",
            json_body: bool = True) -> bytes:
    """A request head (Host, the caller's Authorization, Content-Type and Content-Length for a
    body, ``Connection: close`` unless ``close`` is False) and the body, as bytes."""
    lines = [f"{method} {target} HTTP/{version}", "Host: dockgate", *headers]
    if body is not None:
        if json_body:
            lines.append("Content-Type: application/json")
        if not any(h.lower().startswith(("content-length:", "transfer-encoding:")) for h in headers):
            lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    head = "\r\n".join(lines).encode("latin-1") + b"\r\n" + auth + b"\r\n"
    return head + (body or b"")


def chunked(*parts: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def create_body(ctx: Ctx, host_config: str = "{}", top: str = "") -> bytes:
    """A container create body with ``host_config`` (JSON text) and ``top`` (more top-level
    members, JSON text ending with a comma), labelled for this test."""
    labels = json.dumps({TEST_LABEL: ctx.tid})
    return f'{{"Image":"busybox","Cmd":["true"],"Labels":{labels},{top}"HostConfig":{host_config}}}'.encode()


def create(host_config: str, top: str = "", *, at: str = "/v1.41/containers/create",
           headers: tuple[str, ...] = ()) -> Build:
    """A container create with this HostConfig (``$`` placeholders, see :func:`fill`), sent to the
    path ``at`` with the test's container name as the query."""
    def build(ctx: Ctx, auth: bytes) -> bytes:
        body = create_body(ctx, fill(host_config, ctx), top)
        return request("POST", f"{at}?name={ctx.name}", auth, body, headers=headers)
    return build


def raw_create(body: Callable[[Ctx], bytes]) -> Build:
    def build(ctx: Ctx, auth: bytes) -> bytes:
        return request("POST", ctx.create_target, auth, body(ctx))
    return build


def fill(template: str, ctx: Ctx) -> str:
    """``template`` with ``$name``, ``$tid``, ``$foreign``... of the context put in."""
    return Template(template).substitute(asdict(ctx), name=ctx.name)


Body = str | bytes | Callable[[Ctx], bytes]


def call(method: str, target: str, body: Body | None = None, *, headers: tuple[str, ...] = (),
         json_body: bool = True) -> Build:
    """A request to ``target`` (``$`` placeholders, see :func:`fill`) with ``body`` (a template,
    bytes, or a function of the context); one asking for an upgrade keeps its own Connection header."""
    upgrade = any(h.lower().startswith("upgrade:") for h in headers)

    def build(ctx: Ctx, auth: bytes) -> bytes:
        data = body(ctx) if callable(body) else fill(body, ctx).encode() if isinstance(body, str) else body
        return request(method, fill(target, ctx), auth, data, headers=headers, json_body=json_body,
                       close=not upgrade)
    return build


def tar_of(name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    return out.getvalue()


BUILD_CONTEXT = tar_of("Dockerfile", b"FROM busybox\nRUN touch /built\n")
PRIV = '{"Privileged":true}'


def deny(status: int | tuple[int, ...], rule: str | tuple[str, ...] | None = None, *,
         head: bool = False) -> tuple[Expect, ...]:
    return (Expect(status, "deny", rule, head),)


REDIRECT = (Expect(301, "allow", ""),)
BODY_400 = deny(400, "body")
NO_ROUTE = deny(403, "unknown-route")
NO_PRIVILEGED = deny(403, "no-privileged")
NO_BINDS = deny(403, "no-bind-mounts")
NO_HOST_NS = deny(403, "no-host-namespaces")
NO_DEVICES = deny(403, "no-devices")
NO_CAPS = deny(403, "no-added-capabilities")
NO_UNCONFINED = deny(403, "no-unconfined")
DRIVERS = deny(403, "allowed-volume-drivers")
NETWORK_DRIVERS = deny(403, "allowed-network-drivers")
REMOTE = deny(403, "no-remote-sources")
NOT_IN_SCOPE = deny(404, "scope")
OUT_OF_SCOPE_REF = deny(403, "container-scope")
ROLE = deny(403, "role")
TOO_LARGE = deny(413, ("body", "body-too-large"))


def _smuggled_after(first: Callable[[Ctx, bytes], bytes]) -> Build:
    """``first`` (kept alive) and then a privileged create in the same write."""
    def build(ctx: Ctx, auth: bytes) -> bytes:
        return first(ctx, auth) + request("POST", ctx.create_target, auth, create_body(ctx, PRIV))
    return build


def _framed(headers: tuple[str, ...], body: Callable[[Ctx], bytes], *, version: str = "1.1") -> Build:
    """A privileged create whose framing headers are written by the case."""
    def build(ctx: Ctx, auth: bytes) -> bytes:
        return request("POST", ctx.create_target, auth, body(ctx), headers=headers, version=version)
    return build


def _huge_chunked(ctx: Ctx, auth: bytes) -> list[bytes]:
    head = request("POST", ctx.create_target, auth, b"", headers=("Transfer-Encoding: chunked",))
    pad = b" " * 65536
    parts = [head] + [b"%x\r\n%s\r\n" % (len(pad), pad)] * 20
    return [*parts, chunked(create_body(ctx, PRIV))]


def _huge_declared(ctx: Ctx, auth: bytes) -> bytes:
    """Only the head: the gateway must refuse on the declared length, before reading the body."""
    return request("POST", ctx.create_target, auth, None,
                   headers=(f"Content-Length: {ONE_MIB + 100}", "Content-Type: application/json"))


def _padded(ctx: Ctx) -> bytes:
    return b" " * (ONE_MIB + 10) + create_body(ctx, PRIV)


def _attach(target: str) -> Build:
    return call("POST", target, headers=("Connection: Upgrade", "Upgrade: tcp"))


def _build(query: str) -> Build:
    return call("POST", f"/v1.41/build?t=$name&{query}", BUILD_CONTEXT, json_body=False,
                headers=("Content-Type: application/x-tar",))


def _service_body(ctx: Ctx) -> bytes:
    return json.dumps({"Name": ctx.name, "Labels": {TEST_LABEL: ctx.tid}, "TaskTemplate": {"ContainerSpec": {
        "Image": "busybox", "Command": ["sleep", "60"],
        "Mounts": [{"Type": "bind", "Source": "/", "Target": "/host"}]}}}).encode()


def _encoded_name(ctx: Ctx) -> str:
    return "".join(f"%{b:02x}" for b in ctx.foreign_name.encode())


def _exec_in(ref: Callable[[Ctx], str]) -> Build:
    """pat asks for an exec in the container ``ref`` names."""
    def build(ctx: Ctx, auth: bytes) -> bytes:
        return request("POST", f"/v1.41/containers/{ref(ctx)}/exec", auth, b'{"Cmd":["touch","/pwned"]}')
    return build


def _network(body: dict[str, object]) -> Build:
    """A network create; ``$name`` in the body's strings is the test's name."""
    return call("POST", "/v1.41/networks/create", json.dumps(body))


def _volume(body: dict[str, object]) -> Build:
    """A volume create; ``$name`` in the body's strings is the test's name."""
    return call("POST", "/v1.41/volumes/create", json.dumps(body))


def _chunks(body: Callable[[Ctx], bytes], cut: int, extension: bytes) -> Callable[[Ctx], bytes]:
    """``body`` in two chunks cut at ``cut`` (a key split across them), with chunk extensions."""
    def framed(ctx: Ctx) -> bytes:
        data = body(ctx)
        parts = (data[:cut], data[cut:])
        return b"".join(b"%x;%s\r\n%s\r\n" % (len(p), extension, p) for p in parts) + b"0;last\r\n\r\n"
    return framed


def _privileged(ctx: Ctx) -> bytes:
    return create_body(ctx, PRIV)


def _legacy(member: str) -> Callable[[Ctx], bytes]:
    """A create body with a HostConfig field at the top level (what API 1.18 clients sent)."""
    return lambda ctx: f'{{"Image":"busybox","Labels":{{"{TEST_LABEL}":"{ctx.tid}"}},{member}}}'.encode()


HOST_ENDPOINT = '"NetworkingConfig":{"EndpointsConfig":{"host":{}}},'
FOREIGN_EXEC = '{"Cmd":["touch","/pwned"]}'
DEVICES = '{"Devices":[{"PathOnHost":"/dev/mem","PathInContainer":"/dev/mem","CgroupPermissions":"rwm"}]}'
CHUNKED = ("Transfer-Encoding: chunked",)
C = "/v1.41/containers"  # the start of most paths below

CASES: list[Case] = [
    # --- paths and versions: decided on the path the engine acts on -----------------------------
    Case("path-percent-encoded", "olga", create(PRIV, at=f"{C}/%63reate"), NO_PRIVILEGED),
    Case("path-encoded-slash", "olga", create(PRIV, at="/v1.41/containers%2Fcreate"), NO_PRIVILEGED),
    Case("path-double-slash", "olga", create(PRIV, at="/v1.41//containers/create"), REDIRECT),
    Case("path-leading-double-slash", "olga", create(PRIV, at=f"/{C}/create"), REDIRECT),
    Case("path-dot-segment", "olga", create(PRIV, at="/v1.41/./containers/create"), REDIRECT),
    Case("path-dot-dot", "olga", create(PRIV, at="/v1.41/images/../containers/create"), REDIRECT),
    Case("path-encoded-dot-dot", "olga", create(PRIV, at="/v1.41/images/%2e%2E/containers/create"), REDIRECT),
    Case("path-encoded-double-slash", "olga", create(PRIV, at="/v1.41/%2Fcontainers/create"), REDIRECT),
    Case("path-trailing-slash", "olga", create(PRIV, at=f"{C}/create/"), NO_ROUTE),
    Case("path-upper-case-route", "olga", create(PRIV, at=f"{C}/CREATE"), NO_ROUTE),
    Case("path-nul-byte", "olga", create(PRIV, at=f"{C}/create%00"), deny(400, "bad-request")),
    Case("path-invalid-utf8-escape", "olga", create(PRIV, at=f"{C}/create%ff"), deny(400, "bad-request")),
    Case("path-fragment", "olga", create(PRIV, at=f"{C}/create#x"), deny((400, 403))),
    Case("version-upper-case-v", "olga", create(PRIV, at="/V1.41/containers/create"), NO_ROUTE),
    Case("version-leading-zero", "olga", create(PRIV, at="/v01.41/containers/create"), NO_PRIVILEGED),
    Case("version-padded-minor", "olga", create(PRIV, at="/v1.041/containers/create"), NO_PRIVILEGED),
    Case("version-three-parts", "olga", create(PRIV, at="/v1.41.0/containers/create"), NO_PRIVILEGED),
    Case("version-dots-only", "olga", create(PRIV, at="/v./containers/create"), deny((400, 403))),
    Case("version-twice", "olga", create(PRIV, at="/v1.41/v1.41/containers/create"), NO_ROUTE),
    Case("unversioned", "olga", create(PRIV, at="/containers/create"), NO_PRIVILEGED),
    Case("absolute-form-target", "olga", create(PRIV, at=f"http://127.0.0.1:2375{C}/create"),
         NO_PRIVILEGED),
    Case("hosts-prefix-default-host", "olga", create(PRIV, at=f"/hosts/test1{C}/create"),
         NO_PRIVILEGED),
    Case("hosts-prefix-ungranted-host", "olga", create("{}", at=f"/hosts/test2{C}/create"),
         deny((403, 404), ("no-grant", "no-host"))),
    Case("hosts-prefix-encoded-host", "olga", create("{}", at=f"/hosts/%74est2{C}/create"),
         deny((403, 404), ("no-grant", "no-host"))),
    Case("hosts-prefix-dot-dot", "olga", create("{}", at=f"/hosts/test1/../test2{C}/create"), REDIRECT),
    Case("hosts-after-version", "olga", create("{}", at="/v1.41/hosts/test2/containers/create"), NO_ROUTE),

    # --- bodies parsed as Go parses them ------------------------------------------------------------
    Case("key-lower-case", "olga", create('{"privileged":true}'), NO_PRIVILEGED),
    Case("key-upper-case", "olga", create('{"PRIVILEGED":true}'), NO_PRIVILEGED),
    Case("key-escaped", "olga", create('{"\\u0050rivileged":true}'), NO_PRIVILEGED),
    Case("hostconfig-lower-case", "olga", raw_create(
        lambda ctx: create_body(ctx, PRIV).replace(b'"HostConfig"', b'"hostconfig"')), NO_PRIVILEGED),
    Case("hostconfig-escaped", "olga", raw_create(
        lambda ctx: create_body(ctx, PRIV).replace(b'"HostConfig"', b'"\\u0048ostConfig"')),
         NO_PRIVILEGED),
    Case("key-long-s-raw-utf8", "olga", create('{"\u017fecurityOpt":["seccomp=unconfined"]}'),
         NO_UNCONFINED),
    Case("key-long-s-escaped", "olga", create('{"Bind\\u017f":["/:/host"]}'), NO_BINDS),
    Case("key-kelvin-sign", "pat", create('{"Lin\\u212as":["$foreign:peer"]}'), OUT_OF_SCOPE_REF),
    Case("duplicate-key-exact", "olga", create('{"Privileged":false,"Privileged":true}'), BODY_400),
    Case("duplicate-key-folded", "olga", create('{"Privileged":false,"privileged":true}'), BODY_400),
    Case("duplicate-key-after-escape", "olga", create('{"Privileged":false,"\\u0050rivileged":true}'),
         BODY_400),
    Case("hostconfig-twice-other-case", "olga", create('{"Memory":0}', top=f'"hostConfig":{PRIV},'),
         BODY_400),
    Case("legacy-top-level-privileged", "olga", create("{}", top='"Privileged":true,'), deny(403)),
    Case("legacy-top-level-binds", "olga", raw_create(_legacy('"Binds":["/:/host"]')), deny(403)),
    Case("legacy-top-level-network-mode", "olga", raw_create(_legacy('"NetworkMode":"host"')), deny(403)),
    Case("nested-junk", "olga", create('{"Privileged":true,"Junk":{"a":[1,{"b":null}]}}'), deny(403)),
    Case("privileged-as-string", "olga", create('{"Privileged":"true"}'), deny((400, 403))),
    Case("privileged-as-number", "olga", create('{"Privileged":1}'), deny((400, 403))),
    Case("invalid-utf8", "olga", raw_create(
        lambda ctx: create_body(ctx, PRIV).replace(b'"Cmd":["true"]', b'"Cmd":["\xff"]')), BODY_400),
    Case("lone-surrogate", "olga", create('{"Privileged":true,"CgroupParent":"\\ud800"}'), BODY_400),
    Case("second-json-value", "olga", raw_create(lambda ctx: _legacy('"Cmd":["true"]')(ctx) + b" " + (
        b'{"HostConfig":%s}' % PRIV.encode())), BODY_400),
    Case("nan-number", "olga", create('{"Memory":NaN,"Privileged":true}'), BODY_400),
    Case("byte-order-mark", "olga", raw_create(lambda ctx: b"\xef\xbb\xbf" + _privileged(ctx)), BODY_400),
    Case("array-body", "olga", raw_create(lambda ctx: b"[" + _privileged(ctx) + b"]"), BODY_400),
    Case("nested-too-deep", "olga", raw_create(lambda ctx: b"[" * 200_000 + b"]" * 200_000), BODY_400),
    Case("oversized-declared-length", "olga", _huge_declared, TOO_LARGE),
    Case("oversized-whitespace-padding", "olga", raw_create(_padded), TOO_LARGE),
    Case("oversized-chunked", "olga", _huge_chunked, TOO_LARGE),

    # --- host access in a container create -------------------------------------------------------
    Case("binds-root", "olga", create('{"Binds":["/:/host"]}'), NO_BINDS),
    Case("binds-etc-read-only", "olga", create('{"Binds":["/etc:/x:ro"]}'), NO_BINDS),
    Case("binds-docker-socket", "olga", create('{"Binds":["/var/run/docker.sock:/s"]}'),
         NO_BINDS),
    Case("mounts-bind", "olga", create('{"Mounts":[{"Type":"bind","Source":"/","Target":"/host"}]}'),
         NO_BINDS),
    Case("mounts-bind-lower-case-keys", "olga",
         create('{"mounts":[{"type":"bind","source":"/etc","target":"/x"}]}'), NO_BINDS),
    Case("mounts-volume-local-bind-options", "olga", create(
        '{"Mounts":[{"Type":"volume","Target":"/host","VolumeOptions":{"DriverConfig":{"Name":"local",'
        '"Options":{"type":"none","o":"bind","device":"/"}}}}]}'), NO_BINDS),
    Case("mounts-volume-plugin-driver", "olga", create(
        '{"Mounts":[{"Type":"volume","Target":"/x","VolumeOptions":{"DriverConfig":{"Name":"vieux/sshfs"}}}]}'),
         DRIVERS),
    Case("volume-driver", "olga", create('{"VolumeDriver":"vieux/sshfs"}'), DRIVERS),
    Case("privileged", "olga", create(PRIV), NO_PRIVILEGED),
    Case("cap-add-sys-admin", "olga", create('{"CapAdd":["SYS_ADMIN"]}'), NO_CAPS),
    Case("cap-add-all-lower-case", "olga", create('{"CapAdd":["all"]}'), NO_CAPS),
    Case("capabilities-field", "olga", create('{"Capabilities":["CAP_SYS_ADMIN"]}'),
         NO_CAPS),
    Case("devices", "olga", create(DEVICES), NO_DEVICES),
    Case("device-requests", "olga", create('{"DeviceRequests":[{"Driver":"nvidia","Count":-1,'
                                           '"Capabilities":[["gpu"]]}]}'), NO_DEVICES),
    Case("device-cgroup-rules", "olga", create('{"DeviceCgroupRules":["a *:* rwm"]}'), NO_DEVICES),
    Case("pid-mode-host", "olga", create('{"PidMode":"host"}'), NO_HOST_NS),
    Case("network-mode-host", "olga", create('{"NetworkMode":"host"}'), NO_HOST_NS),
    Case("ipc-mode-host", "olga", create('{"IpcMode":"host"}'), NO_HOST_NS),
    Case("uts-mode-host", "olga", create('{"UTSMode":"host"}'), NO_HOST_NS),
    Case("userns-mode-host", "olga", create('{"UsernsMode":"host"}'), NO_HOST_NS),
    Case("cgroupns-mode-host", "olga", create('{"CgroupnsMode":"host"}'), NO_HOST_NS),
    Case("endpoints-config-host", "olga", create("{}", top=HOST_ENDPOINT), NO_HOST_NS),
    Case("pid-mode-foreign-container", "pat", create('{"PidMode":"container:$foreign"}'),
         OUT_OF_SCOPE_REF),
    Case("network-mode-foreign-container", "pat", create('{"NetworkMode":"container:$foreign_name"}'),
         OUT_OF_SCOPE_REF),
    Case("ipc-mode-foreign-container", "pat", create('{"IpcMode":"container:$foreign"}'),
         OUT_OF_SCOPE_REF),
    Case("endpoint-links-foreign-container", "pat", create(
        "{}", top='"NetworkingConfig":{"EndpointsConfig":{"bridge":{"Links":["/$foreign_name:peer"]}}},'),
         OUT_OF_SCOPE_REF),
    Case("volumes-from-foreign-container", "pat", create('{"VolumesFrom":["$foreign:ro"]}'),
         OUT_OF_SCOPE_REF),
    Case("security-opt-seccomp-unconfined", "olga", create('{"SecurityOpt":["seccomp=unconfined"]}'),
         NO_UNCONFINED),
    Case("security-opt-apparmor-colon", "olga", create('{"SecurityOpt":["apparmor:unconfined"]}'),
         NO_UNCONFINED),
    Case("security-opt-label-disable", "olga", create('{"SecurityOpt":["label=disable"]}'),
         NO_UNCONFINED),
    Case("masked-paths-empty", "olga", create('{"MaskedPaths":[],"ReadonlyPaths":[]}'),
         NO_UNCONFINED),
    Case("cgroup-parent", "olga", create('{"CgroupParent":"/"}'), deny(403, "no-cgroup-parent")),
    Case("sysctls", "olga", create('{"Sysctls":{"net.ipv4.ip_forward":"1"}}'), deny(403, "no-sysctls")),

    # --- an admin's container with host access: joining or entering it reaches the host ----------
    Case("network-mode-of-host-network-container", "olga", create('{"NetworkMode":"container:$host_box"}'),
         deny(403)),
    Case("pid-mode-of-host-pid-container", "pat", create('{"PidMode":"container:$host_box"}'), deny(403)),
    Case("volumes-from-container-with-host-bind", "olga", create('{"VolumesFrom":["$host_box"]}'), deny(403)),
    Case("exec-in-host-access-container", "olga", call("POST", f"{C}/$host_box/exec", FOREIGN_EXEC),
         deny(403)),
    Case("exec-in-host-access-container-in-scope", "pat", call("POST", f"{C}/$host_box/exec", FOREIGN_EXEC),
         deny(403)),
    Case("attach-to-host-access-container", "olga", _attach(f"{C}/$host_box/attach?stream=1&stdin=1"),
         deny(403)),
    Case("archive-put-into-host-bind", "olga", call(
        "PUT", f"{C}/$host_box/archive?path=/hostdir", tar_of("pwned", b"x"), json_body=False), deny(403)),
    Case("archive-get-from-host-bind", "olga", call("GET", f"{C}/$host_box/archive?path=/hostdir"),
         deny(403)),

    # --- other users' containers and execs (pat's scope is team=payments) -------------------------
    Case("exec-foreign-by-id", "pat", _exec_in(lambda c: c.foreign), NOT_IN_SCOPE),
    Case("exec-foreign-by-name", "pat", _exec_in(lambda c: c.foreign_name), NOT_IN_SCOPE),
    Case("exec-foreign-by-id-prefix", "pat", _exec_in(lambda c: c.foreign[:12]), NOT_IN_SCOPE),
    Case("exec-foreign-percent-encoded-name", "pat", _exec_in(_encoded_name), NOT_IN_SCOPE),
    Case("exec-start-foreign-exec", "pat", _attach("/v1.41/exec/$foreign_exec/start"), NOT_IN_SCOPE),
    Case("exec-privileged-own-container", "pat", call(
        "POST", f"{C}/$pat_box/exec", '{"Cmd":["true"],"privileged":true}'), NO_PRIVILEGED),
    Case("exec-privileged-whole-host-operator", "olga", call(
        "POST", f"{C}/$foreign/exec", '{"Cmd":["true"],"Privileged":true}'), NO_PRIVILEGED),
    Case("attach-foreign", "pat", _attach(f"{C}/$foreign/attach?stream=1&stdin=1"), NOT_IN_SCOPE),
    Case("attach-websocket-foreign", "pat", call(
        "GET", f"{C}/$foreign/attach/ws?stream=1&stdin=1",
        headers=("Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13",
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==")), NOT_IN_SCOPE),
    Case("archive-get-foreign", "pat", call("GET", f"{C}/$foreign/archive?path=/etc"), NOT_IN_SCOPE),
    Case("archive-head-foreign", "pat", call("HEAD", f"{C}/$foreign/archive?path=/"),
         deny(404, "scope", head=True)),
    Case("archive-put-foreign", "pat", call("PUT", f"{C}/$foreign/archive?path=/tmp", tar_of("pwned", b"x"),
                                            json_body=False), NOT_IN_SCOPE),
    Case("logs-foreign", "pat", call("GET", f"{C}/$foreign/logs?stdout=1"), NOT_IN_SCOPE),
    Case("export-foreign", "pat", call("GET", f"{C}/$foreign/export"), NOT_IN_SCOPE),
    Case("inspect-foreign", "pat", call("GET", f"{C}/$foreign/json"), NOT_IN_SCOPE),
    Case("kill-foreign", "pat", call("POST", f"{C}/$foreign/kill"), NOT_IN_SCOPE),
    Case("stop-foreign", "pat", call("POST", f"{C}/$foreign/stop?t=0"), NOT_IN_SCOPE),
    Case("remove-foreign", "pat", call("DELETE", f"{C}/$foreign?force=1"), NOT_IN_SCOPE),
    Case("rename-foreign", "pat", call("POST", f"{C}/$foreign/rename?name=$name"), NOT_IN_SCOPE),
    Case("update-foreign", "pat", call("POST", f"{C}/$foreign/update", '{"Memory":8000000}'), NOT_IN_SCOPE),
    Case("commit-foreign", "pat", call("POST", "/v1.41/commit?container=$foreign&repo=$name", "{}"),
         OUT_OF_SCOPE_REF),
    Case("exec-inspect-foreign-exec", "pat", call("GET", "/v1.41/exec/$foreign_exec/json"), NOT_IN_SCOPE),
    Case("exec-resize-foreign-exec", "pat", call("POST", "/v1.41/exec/$foreign_exec/resize?h=1&w=1"),
         NOT_IN_SCOPE),
    Case("wait-foreign", "pat", call("POST", f"{C}/$foreign/wait?condition=removed"), NOT_IN_SCOPE),
    Case("commit-foreign-by-name", "pat", call(
        "POST", "/v1.41/commit?container=$foreign_name&repo=$name", "{}"), OUT_OF_SCOPE_REF),
    Case("network-disconnect-foreign", "pat", call(
        "POST", "/v1.41/networks/bridge/disconnect", '{"Container":"$foreign","Force":true}'),
         OUT_OF_SCOPE_REF),
    Case("network-connect-foreign", "pat", call("POST", "/v1.41/networks/bridge/connect",
                                                '{"container":"$foreign"}'), OUT_OF_SCOPE_REF),

    # --- volumes, plugins, swarm, builds and old-style starts ----------------------------------------
    Case("volume-local-bind", "olga", _volume(
        {"Name": "$name", "Driver": "local", "DriverOpts": {"type": "none", "o": "bind", "device": "/"}}),
         NO_BINDS),
    Case("volume-local-rbind-lower-case-keys", "olga", _volume(
        {"name": "$name", "driveropts": {"type": "none", "o": "ro,rbind", "device": "/etc"}}),
         NO_BINDS),
    Case("volume-local-block-device", "olga", _volume(
        {"Name": "$name", "DriverOpts": {"type": "ext4", "device": "/dev/sda1"}}), NO_BINDS),
    Case("volume-plugin-driver", "olga", _volume(
        {"Name": "$name", "Driver": "vieux/sshfs", "DriverOpts": {"sshcmd": "root@localhost:/"}}),
         DRIVERS),
    Case("network-macvlan-on-the-host-interface", "olga", _network(
        {"Name": "$name", "Driver": "macvlan", "Options": {"parent": "lo"}}), NETWORK_DRIVERS),
    Case("network-ipvlan-lower-case-keys", "olga", _network({"name": "$name", "driver": "ipvlan"}),
         NETWORK_DRIVERS),
    Case("network-ipam-plugin", "olga", _network({"Name": "$name", "IPAM": {"Driver": "vendor/ipam"}}),
         NETWORK_DRIVERS),
    Case("network-joins-the-hosts-bridge", "olga", _network(
        {"Name": "$name", "Options": {"com.docker.network.bridge.name": "docker0"}}), NO_HOST_NS),
    Case("build-from-a-remote-context", "olga",
         call("POST", "/v1.41/build?t=$name&remote=http://169.254.169.254/latest/user-data"), REMOTE),
    Case("import-from-a-url", "olga",
         call("POST", "/v1.41/images/create?fromSrc=http://127.0.0.1:9/rootfs.tar&repo=$name"), REMOTE),
    Case("import-from-a-url-encoded-key", "olga",
         call("POST", "/v1.41/images/create?fromS%72c=http://127.0.0.1:9/rootfs.tar&repo=$name"), REMOTE),
    Case("plugin-pull", "olga", call("POST", "/v1.41/plugins/pull?remote=vieux/sshfs",
                                     '[{"Name":"mount","Value":["/"]}]'), ROLE),
    Case("plugin-set", "olga", call("POST", "/v1.41/plugins/vieux/sshfs/set", '["mnt.source=/"]'),
         ROLE),
    Case("swarm-init", "olga", call("POST", "/v1.41/swarm/init", '{"ListenAddr":"127.0.0.1:2377"}'),
         ROLE),
    Case("service-create-bind", "olga", call("POST", "/v1.41/services/create", _service_body), ROLE),
    Case("build-network-host", "olga", _build("networkmode=host"), NO_HOST_NS),
    Case("build-network-host-encoded-key", "olga", _build("network%6Dode=%68ost"),
         NO_HOST_NS),
    Case("build-network-host-second-value", "olga", _build("networkmode=default&networkmode=host"),
         NO_HOST_NS),
    Case("build-network-foreign-container", "pat", _build("networkmode=container:$foreign"),
         OUT_OF_SCOPE_REF),
    Case("build-cgroup-parent", "olga", _build("cgroupparent=/"), deny(403, "no-cgroup-parent")),
    Case("buildkit-grpc", "olga", call("POST", "/v1.41/grpc",
         headers=("Connection: Upgrade", "Upgrade: h2c")),
         ROLE),
    Case("start-v1.18-with-hostconfig", "olga", call(
        "POST", "/v1.18/containers/$olga_idle/start", '{"Privileged":true,"Binds":["/:/host"]}'),
         deny(403, "unexpected-body")),
    Case("start-v1.18-with-wrapped-hostconfig-chunked", "olga", call(
        "POST", "/v1.18/containers/$olga_idle/start", chunked(b'{"HostConfig":', b'{"PidMode":"host"}}'),
        headers=CHUNKED), deny(403, "unexpected-body")),
    Case("update-devices", "olga", call("POST", f"{C}/$olga_idle/update", DEVICES), NO_DEVICES),

    # --- HTTP framing and smuggling --------------------------------------------------------------------
    Case("length-and-chunked", "olga", _framed(
        ("Content-Length: 4", *CHUNKED), lambda c: chunked(_privileged(c))), deny(400)),
    Case("transfer-encoding-identity", "olga", _framed(("Transfer-Encoding: identity",), _privileged),
         deny((400, 501))),
    Case("transfer-encoding-list", "olga", _framed(
        ("Transfer-Encoding: chunked, identity",), lambda c: chunked(_privileged(c))), deny((400, 501))),
    Case("transfer-encoding-twice", "olga", _framed(
        (*CHUNKED, *CHUNKED), lambda c: chunked(_privileged(c))), deny((400, 403, 501))),
    Case("content-length-twice", "olga", _framed(
        ("Content-Length: 2", "Content-Length: 400"), lambda c: b"{}" + _privileged(c)), deny(400)),
    Case("content-length-signed", "olga", _framed(("Content-Length: +2",), lambda c: b"{}"), deny(400)),
    Case("header-obs-fold", "olga", _framed(
        ("Transfer-Encoding:", " chunked"), lambda c: chunked(_privileged(c))), deny((400, 403))),
    Case("header-space-before-colon", "olga", _framed(
        ("Transfer-Encoding : chunked",), lambda c: chunked(_privileged(c))), deny(400)),
    Case("chunk-extensions-and-split-key", "olga", _framed(
        CHUNKED, _chunks(_privileged, -12, b"ext=1")), NO_PRIVILEGED),
    Case("chunk-size-hex-prefix", "olga", _framed(
        CHUNKED, lambda c: b"0x%x\r\n%s\r\n0\r\n\r\n" % (len(_privileged(c)), _privileged(c))),
         deny((400, 403))),
    Case("http10-chunked", "olga", _framed(CHUNKED, lambda c: chunked(_privileged(c)), version="1.0"),
         deny((400, 403))),
    Case("expect-continue", "olga", create(PRIV, headers=("Expect: 100-continue",)), NO_PRIVILEGED),
    Case("pipelined-after-ping", "olga", _smuggled_after(
        lambda c, auth: request("GET", "/_ping", auth, close=False)),
         (Expect(200, "allow"), Expect(403, "deny", "no-privileged"))),
    Case("pipelined-after-chunked-ping", "olga", _smuggled_after(
        lambda c, auth: request("GET", "/_ping", auth, b"0\r\n\r\n", close=False, json_body=False,
                                headers=CHUNKED)),
         (Expect(200, "allow"), Expect(403, "deny", "no-privileged"))),
    Case("pipelined-inside-a-body", "olga", lambda c, auth: request(
        "GET", "/_ping", auth, request("POST", c.create_target, b"", _privileged(c))), deny(400, "body")),
    Case("lower-case-method", "olga", lambda c, auth: request("post", c.create_target, auth, _privileged(c)),
         deny((400, 405))),
    Case("http-version-2", "olga", _framed((), _privileged, version="2.0"), deny((400, 505))),

    # --- who is calling ----------------------------------------------------------------------------------
    Case("no-token", "anon", create(PRIV), deny(401, "unauthenticated")),
    Case("forged-token", "forged", create("{}"), deny(401, "unauthenticated")),
    Case("basic-auth-scheme", "basic", create("{}"), deny(401, "unauthenticated")),
    Case("user-without-grants", "nora", create("{}"), deny(403, "no-grant")),
    Case("viewer-creates", "vic", create("{}"), ROLE),
    Case("second-authorization-header", "nora-then-admin", create("{}"), deny(403, "no-grant")),
]


@dataclass(frozen=True)
class Control:
    """A harmless twin of an attack: allowed, and the engine shows its effect."""

    id: str
    who: str
    build: Build
    expect: tuple[Expect, ...]
    effect: str  # "container", "volume", "exec-pat-box" or "exec-foreign"


CONTROLS: list[Control] = [
    Control("create-percent-encoded-path", "olga", create("{}", at=f"{C}/%63reate"),
            (Expect(201, "allow"),), "container"),
    Control("create-lower-case-keys-chunked-with-extensions", "pat", _framed(
        CHUNKED, _chunks(lambda c: create_body(c, '{"memory":0,"privileged":false}'), -12, b"e=1")),
            (Expect(201, "allow"),), "container"),
    Control("create-after-pipelined-ping", "olga", lambda c, auth: request("GET", "/_ping", auth, close=False)
            + request("POST", c.create_target, auth, create_body(c, '{"Privileged":false}')),
            (Expect(200, "allow"), Expect(201, "allow")), "container"),
    Control("volume-local-without-options", "olga", _volume(
        {"Name": "$name", "Driver": "local", "Labels": {TEST_LABEL: "$tid"}}),
            (Expect(201, "allow"),), "volume"),
    Control("network-bridge-as-compose-makes-it", "olga", _network(
        {"Name": "$name", "Driver": "bridge", "Labels": {TEST_LABEL: "$tid"},
         "Options": {"com.docker.network.driver.mtu": "1400"}}), (Expect(201, "allow"),), "network"),
    Control("exec-in-own-container", "pat", call("POST", f"{C}/$pat_box/exec", '{"Cmd":["true"]}'),
            (Expect(201, "allow"),), "exec-pat-box"),
    Control("exec-whole-host-operator", "olga", call("POST", f"{C}/$foreign/exec", '{"Cmd":["true"]}'),
            (Expect(201, "allow"),), "exec-foreign"),
]
