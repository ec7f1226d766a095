"""Request policy: what a request may ask of an engine's host, decided on the parsed body (and, for
builds, the query) before anything reaches the engine.

Everything that reaches the host is denied unless a setting allows it: privileged containers and
execs, host paths (binds, bind mounts, local volumes whose options bind or mount host storage),
host namespaces, added capabilities, devices, unconfined security options, a cgroup parent,
sysctls, plugin privileges, network drivers that put containers on the host's own segment
(macvlan, ipvlan) and bridges named by the request (which may be the host's). Fields the Engine
API specs do not name are denied too (a newer engine may give them host access): the known fields
come from body_fields.json, generated from the specs by scripts/gen-body-fields. Denials name the
rule, the field and the setting that would allow it.

``container:<ref>`` namespaces, ``VolumesFrom``, links and the like are not decided here: they are
fine inside the caller's scope, which only the caller can resolve; they are reported in
:attr:`PolicyResult.container_refs`. This module does no I/O.

Image patterns (``allowed_images``) are matched, as globs, against the normalised reference the
engine resolves: ``busybox`` is ``docker.io/library/busybox:latest``, ``me/app`` is
``docker.io/me/app:latest``. A pattern without glob characters is normalised the same way, so
``busybox`` allows exactly ``busybox:latest``; ``docker.io/library/*`` allows every official image.

URLs the engine fetches itself (a build's ``remote`` context, an import's ``fromSrc``) are denied
unless ``allow_remote_sources``: the engine would reach, from the host, addresses the caller may not
(metadata services, the host's own ports).

Not decided here, for want of state: networks named by ID (a service's ``Networks[].Target`` may
be the host network's ID; containers need the literal ``host``, the engine refuses the ID).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal, NoReturn

from pydantic import BaseModel, ConfigDict, field_validator

from dockgate.access.body import BodyError, GoObject, fold_name

BodyKind = Literal["object", "array", "binary", "none"]

# Rule name -> the setting that relaxes it (named in every denial so an admin knows what to change).
RULE_SETTINGS: dict[str, str | None] = {
    "no-privileged": "allow_privileged",
    "no-bind-mounts": "allow_bind_mounts",
    "no-host-namespaces": "allow_host_namespaces",
    "no-added-capabilities": "allow_capabilities",
    "no-devices": "allow_devices",
    "no-unconfined": "allow_unconfined",
    "no-cgroup-parent": "allow_cgroup_parent",
    "no-sysctls": "allow_sysctls",
    "allowed-volume-drivers": "allow_volume_drivers",
    "allowed-network-drivers": "allow_network_drivers",
    "allowed-log-drivers": "allow_log_drivers",
    "no-remote-sources": "allow_remote_sources",
    "no-plugin-privileges": "allow_plugin_privileges",
    "required-limits": "require_limits",
    "allowed-images": "allowed_images",
    "unknown-field": "allow_unknown_fields",
    "unknown-value": "allow_unknown_fields",
    "unexpected-body": None,
    "unknown-operation": None,
}

# The engine's default capability set (moby's oci/caps): asking for these adds nothing.
DEFAULT_CAPABILITIES = frozenset(
    "CAP_" + name for name in (
        "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
        "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"))

_NAMESPACE_MODES = ("NetworkMode", "PidMode", "IpcMode", "UTSMode", "UsernsMode", "CgroupnsMode", "Cgroup")
_NETWORK_FILESYSTEMS = frozenset({"nfs", "nfs4", "cifs", "smb3"})
_HARMLESS_MOUNT_TYPES = frozenset({"tmpfs", "image", "cluster"})
_GLOB = re.compile(r"[*?\[]")
_HEX = re.compile(r"[0-9a-f]+")
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:|\\")


def _normalise_capability(name: str) -> str:
    """As moby does: case-insensitive, ``CAP_`` optional; ``ALL`` stays ``ALL``."""
    name = name.strip().upper()
    return name if name == "ALL" or name.startswith("CAP_") else "CAP_" + name


def normalise_image(reference: str) -> str:
    """``busybox`` -> ``docker.io/library/busybox:latest``, as the engine resolves a reference."""
    name, at, digest = reference.partition("@")
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        domain, path = first, rest
    else:
        domain, path = "docker.io", name
    if domain == "index.docker.io":
        domain = "docker.io"
    if domain == "docker.io" and "/" not in path:
        path = "library/" + path
    if ":" not in path.rsplit("/", 1)[-1] and not at:
        path += ":latest"
    return f"{domain}/{path}{at}{digest}"


class PolicySettings(BaseModel):
    """What a role (or a role on a host) may ask beyond an ordinary, confined container.

    Field names are TOML keys (a ``[policy]`` table, per role or per host). The defaults deny
    everything that reaches the host.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow_privileged: bool = False
    allow_bind_mounts: list[str] = []
    """Host path prefixes that may be bind-mounted (``/srv/data`` allows ``/srv/data/x``)."""
    allow_host_namespaces: bool = False
    allow_capabilities: list[str] = []
    """Capabilities that may be added (``NET_ADMIN`` or ``CAP_NET_ADMIN``; ``ALL`` for any)."""
    allow_devices: bool = False
    allow_unconfined: bool = False
    allow_cgroup_parent: bool = False
    allow_sysctls: bool = False
    allow_volume_drivers: list[str] = []
    """Volume drivers besides ``local`` (whose options are checked for host paths)."""
    allow_network_drivers: list[str] = []
    """Network (and IPAM) drivers besides bridge and overlay: macvlan and ipvlan put containers on the
    host's own network segment, past its firewall; plugins do what they do."""
    allow_log_drivers: list[str] = []
    """Log drivers besides json-file, local, journald and none: the others send logs to an address
    the request names, which the engine (on the host) connects to, its own sockets included."""
    allow_plugin_privileges: bool = False
    allow_remote_sources: bool = False
    """Builds from a URL or git repository (``remote``) and imports from a URL (``fromSrc``): the
    engine fetches them from the host's network position."""
    allow_unknown_fields: bool = False
    require_limits: list[Literal["memory", "cpu"]] = []
    allowed_images: list[str] = []
    """Glob patterns over normalised references; empty allows any image."""

    @field_validator("allow_bind_mounts")
    @classmethod
    def _absolute_prefixes(cls, prefixes: list[str]) -> list[str]:
        normalised = []
        for prefix in prefixes:
            parts = prefix.split("/")
            if not prefix.startswith("/") or ".." in parts:
                raise ValueError(f"{prefix!r} is not an absolute host path without '..'")
            normalised.append("/" + "/".join(part for part in parts if part not in ("", ".")))
        return normalised

    @field_validator("allow_capabilities")
    @classmethod
    def _capability_names(cls, names: list[str]) -> list[str]:
        return [_normalise_capability(name) for name in names]

    @field_validator("allowed_images")
    @classmethod
    def _image_patterns(cls, patterns: list[str]) -> list[str]:
        if any(not pattern.strip() for pattern in patterns):
            raise ValueError("an image pattern is empty")
        return [pattern if _GLOB.search(pattern) else normalise_image(pattern) for pattern in patterns]


@dataclass(frozen=True)
class Denial:
    """Why a request is refused (answer 403 with ``message``)."""

    rule: str
    field: str
    message: str


@dataclass(frozen=True)
class PolicyResult:
    """``denial`` is None when the body may go on; ``container_refs`` are (field, reference) pairs
    the caller must find inside the user's scope before forwarding."""

    denial: Denial | None = None
    container_refs: list[tuple[str, str]] = field(default_factory=list)
    volume_refs: list[tuple[str, str]] = field(default_factory=list)  # (field, name) of named volumes

    @property
    def allowed(self) -> bool:
        return self.denial is None


Operations = dict[str, tuple[BodyKind, str | None]]  # operationId -> (body kind, body type)
Types = dict[str, dict[str, tuple[str, str | None]]]  # type -> folded field -> (field, field type)


def _load_schema() -> tuple[Operations, Types]:
    document = json.loads(resources.files("dockgate.access").joinpath("body_fields.json").read_text())
    operations = {name: (entry["body"], entry.get("type")) for name, entry in document["operations"].items()}
    types = {name: {fold_name(key): (key, ref) for key, ref in fields.items()}
             for name, fields in document["types"].items()}
    return operations, types


_OPERATIONS, _TYPES = _load_schema()
# HostConfig fields that old engines read at the top level of a create body (those that are not
# also Config fields: Go drops names that two embedded structs share).
_TOP_LEVEL_HOST = frozenset(_TYPES["HostConfig"]) - frozenset(_TYPES["ContainerConfig"])


def body_kind(operation: str) -> BodyKind | None:
    """What body ``operation`` takes, so the caller knows whether (and as what) to parse it;
    None for an operation the Engine API does not have."""
    entry = _OPERATIONS.get(operation)
    return entry[0] if entry else None


class _Denied(Exception):
    def __init__(self, denial: Denial) -> None:
        self.denial = denial


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=lambda o: dict(o.pairs()))
    return text if len(text) <= 80 else text[:77] + "..."


class _Check:
    """One evaluation: the settings, the references found so far, and how to deny."""

    def __init__(self, settings: PolicySettings) -> None:
        self.settings = settings
        self.refs: list[tuple[str, str]] = []
        self.volumes: list[tuple[str, str]] = []

    def deny(self, rule: str, where: str, reason: str, value: Any = ..., *, query: bool = False) -> NoReturn:
        subject = f"query parameter {where}" if query else where
        shown = "" if value is ... else f"={_show(value)}"
        setting = RULE_SETTINGS[rule]
        hint = f" (setting {setting})" if setting else ""
        raise _Denied(Denial(rule, where, f'policy rule "{rule}" denies {subject}{shown}: {reason}{hint}'))

    def ref(self, where: str, reference: str) -> None:
        self.refs.append((where, reference))

    def volume(self, where: str, name: str) -> None:
        self.volumes.append((where, name))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


_EMPTY = GoObject([])


def _obj(value: Any) -> GoObject:
    """A struct-valued field; empty when absent or not an object (which the engine refuses to
    decode, so it asks for nothing)."""
    return value if isinstance(value, GoObject) else _EMPTY


def _strings(value: Any) -> list[str]:
    """A list-of-strings field; a bare string counts as one (moby's StrSlice accepts both)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _set(value: Any) -> bool:
    """Whether a field asks for something: not absent, null, false, zero or empty."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str | list | GoObject):
        return len(value) > 0
    return value != 0


# --- the schema walk: unknown fields and ambiguous spellings, for every body --------------------

def _walk(check: _Check, value: Any, ref: str | None, path: str) -> None:
    if ref is None or value is None:
        return
    if ref.startswith("[]"):
        if isinstance(value, list):
            for position, item in enumerate(value):
                _walk(check, item, ref[2:], f"{path}[{position}]")
        return
    if ref.startswith("{}"):
        if isinstance(value, GoObject):
            for key, item in value.pairs():
                _walk(check, item, ref[2:], f"{path}[{key}]")
        return
    if not isinstance(value, GoObject):
        return
    fields = _TYPES[ref]
    seen: dict[str, str] = {}
    for key, item in value.pairs():
        folded = fold_name(key)
        known = fields.get(folded)
        where = _join(path, known[0] if known else key)
        if folded in seen:
            raise BodyError(400, f"ambiguous body: {where} is given twice ({json.dumps(seen[folded])} and "
                                 f"{json.dumps(key)}); the engine would silently keep the last one")
        seen[folded] = key
        if known is None:
            if not check.settings.allow_unknown_fields:
                label = ref.rsplit(".", 1)[-1]
                check.deny("unknown-field", where, f"the Engine API has no such field in {label}")
            continue
        _walk(check, item, known[1], where)


# --- host paths, mounts and volumes ----------------------------------------------------------

def _host_path_allowed(path: str, prefixes: list[str]) -> bool:
    if not path.startswith("/") or "\\" in path:
        return False
    parts = path.split("/")
    if ".." in parts:
        return False
    clean = "/" + "/".join(part for part in parts if part not in ("", "."))
    return any(prefix == "/" or clean == prefix or clean.startswith(prefix + "/") for prefix in prefixes)


def _host_path(check: _Check, where: str, path: str, value: Any) -> None:
    if not _host_path_allowed(path, check.settings.allow_bind_mounts):
        check.deny("no-bind-mounts", where, f"host path {path!r} is not under an allowed prefix", value)


def _bind_source(spec: str) -> str | None:
    """The host path a ``Binds`` entry mounts (``src:dst[:opts]`` with an absolute ``src``), or
    None for a volume (named, or anonymous: a container path alone). Windows paths count as host
    paths and are never allowed: the Linux prefixes cannot vouch for them."""
    if _WINDOWS_PATH.search(spec):
        return spec
    parts = spec.split(":")
    if len(parts) < 2:
        return None
    return parts[0] if parts[0].startswith("/") else None


_HOST_LOG_DRIVERS = frozenset({"json-file", "local", "journald", "none"})  # write on the host, to no address


def _log_driver(check: _Check, host: GoObject, where: str) -> None:
    driver = _text(_obj(host.get("LogConfig")).get("Type"))
    if driver and driver not in _HOST_LOG_DRIVERS and driver not in check.settings.allow_log_drivers:
        check.deny("allowed-log-drivers", where + "LogConfig.Type", "this log driver connects to an "
                   "address of the request's choosing (the host's own sockets included)", driver)


def _volume_driver(check: _Check, where: str, driver: str) -> None:
    if driver not in ("", "local") and driver not in check.settings.allow_volume_drivers:
        check.deny("allowed-volume-drivers", where, "volume driver is not allowed", driver)


def _local_volume_options(check: _Check, options: Any, where: str) -> None:
    """The local driver mounts what its options say: ``o=bind``/``type=none`` binds ``device``
    (a host path), other filesystem types mount host storage; tmpfs and network filesystems
    reach no host path."""
    values = {key: _text(value) for key, value in _obj(options).pairs()}
    if not values:
        return
    kind, device = values.get("type", ""), values.get("device", "")
    flags = {flag.strip() for flag in values.get("o", "").split(",")}
    if flags & {"bind", "rbind"} or kind in ("none", "bind", "rbind"):
        _host_path(check, f"{where}[device]", device, device)
    elif kind not in _NETWORK_FILESYSTEMS and kind != "tmpfs":
        check.deny("no-bind-mounts", f"{where}[type]",
                   "a local volume of this type mounts host storage (only tmpfs, nfs, cifs and "
                   "binds under allowed prefixes are understood)", kind)


def _mount(check: _Check, mount: Any, where: str, default_driver: str) -> None:
    mount = _obj(mount)
    kind = _text(mount.get("Type"))
    if kind.lower() in ("bind", "npipe"):
        _host_path(check, f"{where}.Source", _text(mount.get("Source")), mount.get("Source"))
    elif kind.lower() == "volume":
        if _text(mount.get("Source")):
            check.volume(f"{where}.Source", _text(mount.get("Source")))
        config = _obj(_obj(mount.get("VolumeOptions")).get("DriverConfig"))
        driver = _text(config.get("Name")) or default_driver
        _volume_driver(check, f"{where}.VolumeOptions.DriverConfig.Name", driver)
        if driver in ("", "local"):
            _local_volume_options(check, config.get("Options"), f"{where}.VolumeOptions.DriverConfig.Options")
    elif kind.lower() not in _HARMLESS_MOUNT_TYPES and not check.settings.allow_unknown_fields:
        check.deny("unknown-value", f"{where}.Type", "not a mount type this gateway understands", kind)


# --- fields shared by containers and services ------------------------------------------------

def _capabilities(check: _Check, where: str, names: list[str], *, beyond_defaults: bool = False) -> None:
    allowed = check.settings.allow_capabilities
    for position, name in enumerate(names):
        capability = _normalise_capability(name)
        if beyond_defaults and capability in DEFAULT_CAPABILITIES:
            continue
        if "ALL" not in allowed and capability not in allowed:
            check.deny("no-added-capabilities", f"{where}[{position}]", "capability is not allowed", name)


def _sysctls(check: _Check, where: str, value: Any) -> None:
    if _set(value) and not check.settings.allow_sysctls:
        check.deny("no-sysctls", where, "sysctls change kernel settings", value)


def _image(check: _Check, where: str, value: Any) -> None:
    patterns = check.settings.allowed_images
    reference = _text(value)
    if not patterns or not reference:
        return
    if reference.startswith("sha256:") or _HEX.fullmatch(reference):
        check.deny("allowed-images", where, "an image ID (or what may be read as one) cannot be matched "
                                            "against image patterns: give the image's name", reference)
    normalised = normalise_image(reference)
    if not any(fnmatch.fnmatchcase(normalised, pattern) for pattern in patterns):
        check.deny("allowed-images", where, f"{normalised} matches no allowed image pattern", reference)


def _require_limits(check: _Check, memory: tuple[str, Any], cpus: list[tuple[str, Any]], *,
                    update: bool) -> None:
    """On create a required limit must be positive; on update, where 0 means "unchanged", it may
    not be lifted with a negative value."""
    def limited(value: Any) -> bool:
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        return (not is_number or value >= 0) if update else (is_number and value > 0)

    def shown(value: Any) -> Any:
        return ... if value is None else value

    required = check.settings.require_limits
    if "memory" in required and not limited(memory[1]):
        check.deny("required-limits", memory[0], "a memory limit is required", shown(memory[1]))
    if "cpu" in required:
        unlimited = [cpu for cpu in cpus if not limited(cpu[1])]
        if unlimited if update else len(unlimited) == len(cpus):
            names = " or ".join(where.rsplit(".", 1)[-1] for where, _ in cpus)
            check.deny("required-limits", unlimited[0][0], f"a CPU limit is required ({names})",
                       shown(unlimited[0][1]))


def _devices(check: _Check, resources_: GoObject, where: str) -> None:
    for name in ("Devices", "DeviceRequests", "DeviceCgroupRules"):
        value = resources_.get(name)
        if _set(value) and not check.settings.allow_devices:
            check.deny("no-devices", where + name, "host devices are not allowed", value)


def _cgroup_parent(check: _Check, resources_: GoObject, where: str) -> None:
    value = resources_.get("CgroupParent")
    if _set(value) and not check.settings.allow_cgroup_parent:
        check.deny("no-cgroup-parent", where + "CgroupParent", "a cgroup parent places the container "
                                                               "in the host's cgroup tree", value)


def _security_opt(check: _Check, where: str, option: str) -> None:
    """Parsed as moby's parseSecurityOpt does: ``key=value``, or ``key:value``, or a bare flag."""
    if check.settings.allow_unconfined or option == "no-new-privileges":
        return
    if option in ("disable", "writable-cgroups"):
        check.deny("no-unconfined", where, "it lifts confinement", option)
    separator = "=" if "=" in option else ":"
    key, _, value = option.partition(separator)
    lowered = value.lower()
    if key == "no-new-privileges" or (key == "seccomp" and lowered == "builtin"):
        return
    if key == "apparmor" and value == "docker-default":
        return
    if key == "writable-cgroups" and lowered in ("0", "f", "false"):
        return
    if key == "label" and value.startswith("level:"):
        return
    check.deny("no-unconfined", where, "only the engine's default confinement is allowed "
                                       "(seccomp and AppArmor defaults, label=level:...)", option)


def _host_config(check: _Check, host: GoObject, where: str) -> None:
    """The host-reaching fields of a HostConfig; ``where`` prefixes field names in denials."""
    settings = check.settings
    if _set(host.get("Privileged")) and not settings.allow_privileged:
        check.deny("no-privileged", where + "Privileged", "a privileged container controls the host",
                   host.get("Privileged"))
    for position, spec in enumerate(_strings(host.get("Binds"))):
        source = _bind_source(spec)
        if source is not None:
            _host_path(check, f"{where}Binds[{position}]", source, spec)
        elif ":" in spec:  # a named volume: it may be one whose options bind a host path
            check.volume(f"{where}Binds[{position}]", spec.split(":", 1)[0])
    _log_driver(check, host, where)
    volume_driver = _text(host.get("VolumeDriver"))  # also creates the image's anonymous volumes
    _volume_driver(check, where + "VolumeDriver", volume_driver)
    mounts = host.get("Mounts")
    for position, mount in enumerate(mounts if isinstance(mounts, list) else []):
        _mount(check, mount, f"{where}Mounts[{position}]", volume_driver)
    for name in _NAMESPACE_MODES:
        mode = _text(host.get(name))
        if mode.lower() == "host" and not settings.allow_host_namespaces:
            check.deny("no-host-namespaces", where + name, "host namespaces are not allowed", mode)
        if mode.lower().startswith("container:"):
            check.ref(where + name, mode.split(":", 1)[1])
    _capabilities(check, where + "CapAdd", _strings(host.get("CapAdd")), beyond_defaults=True)
    _capabilities(check, where + "Capabilities", _strings(host.get("Capabilities")), beyond_defaults=True)
    _devices(check, host, where)
    for position, option in enumerate(_strings(host.get("SecurityOpt"))):
        _security_opt(check, f"{where}SecurityOpt[{position}]", option)
    for name in ("MaskedPaths", "ReadonlyPaths"):
        if host.get(name) is not None and not settings.allow_unconfined:
            check.deny("no-unconfined", where + name, "it replaces the engine's protection of /proc and /sys "
                                                      "paths", host.get(name))
    _cgroup_parent(check, host, where)
    _sysctls(check, where + "Sysctls", host.get("Sysctls"))
    for position, source in enumerate(_strings(host.get("VolumesFrom"))):
        check.ref(f"{where}VolumesFrom[{position}]", source.split(":", 1)[0])
    _links(check, where + "Links", host.get("Links"))


def _links(check: _Check, where: str, links: Any) -> None:
    for position, link in enumerate(_strings(links)):
        check.ref(f"{where}[{position}]", link.split(":", 1)[0].lstrip("/"))


def _endpoint(check: _Check, where: str, endpoint: Any) -> None:
    _links(check, f"{where}.Links", _obj(endpoint).get("Links"))


# --- operations --------------------------------------------------------------------------------

def _container_create(check: _Check, body: Any, query: Mapping[str, list[str]]) -> None:
    body = _obj(body)
    _image(check, "Image", body.get("Image"))
    host = _obj(body.get("HostConfig"))
    _host_config(check, host, "HostConfig.")
    # Older engines (20.10 among them) also read HostConfig fields at the top level: runconfig's
    # wrapper embeds a HostConfig "to read attributes from json that are not in the inner host
    # config". They are unknown fields, and stay policed when allow_unknown_fields lets them by.
    legacy = [(key, value) for key, value in body.pairs() if fold_name(key) in _TOP_LEVEL_HOST]
    _host_config(check, GoObject(legacy), "")
    _require_limits(check, ("HostConfig.Memory", host.get("Memory")),
                    [("HostConfig.NanoCpus", host.get("NanoCpus")),
                     ("HostConfig.CpuQuota", host.get("CpuQuota"))], update=False)
    for name, endpoint in _obj(_obj(body.get("NetworkingConfig")).get("EndpointsConfig")).pairs():
        where = f"NetworkingConfig.EndpointsConfig[{name}]"
        if name.lower() == "host" and not check.settings.allow_host_namespaces:
            check.deny("no-host-namespaces", where, "the host network is not allowed")
        _endpoint(check, where, endpoint)


def _container_update(check: _Check, body: Any, query: Mapping[str, list[str]]) -> None:
    body = _obj(body)
    _devices(check, body, "")
    _cgroup_parent(check, body, "")
    _require_limits(check, ("Memory", body.get("Memory")),
                    [("NanoCpus", body.get("NanoCpus")), ("CpuQuota", body.get("CpuQuota"))], update=True)


def _container_exec(check: _Check, body: Any, query: Mapping[str, list[str]]) -> None:
    privileged = _obj(body).get("Privileged")
    if _set(privileged) and not check.settings.allow_privileged:
        check.deny("no-privileged", "Privileged", "a privileged exec controls the host", privileged)


def _volume_create(check: _Check, body: Any, query: Mapping[str, list[str]]) -> None:
    body = _obj(body)
    driver = _text(body.get("Driver"))
    _volume_driver(check, "Driver", driver)
    if driver in ("", "local"):
        _local_volume_options(check, body.get("DriverOpts"), "DriverOpts")


_NETWORK_DRIVERS = frozenset({"", "bridge", "overlay"})
_BRIDGE_NAME = "com.docker.network.bridge.name"


def _network_create(check: _Check, body: Any, query: Mapping[str, list[str]]) -> None:
    body = _obj(body)
    driver = _text(body.get("Driver"))
    if driver not in _NETWORK_DRIVERS and driver not in check.settings.allow_network_drivers:
        check.deny("allowed-network-drivers", "Driver", "network driver is not allowed", driver)
    ipam = _text(_obj(body.get("IPAM")).get("Driver"))
    if ipam not in ("", "default") and ipam not in check.settings.allow_network_drivers:
        check.deny("allowed-network-drivers", "IPAM.Driver", "IPAM driver is not allowed", ipam)
    for key, value in _obj(body.get("Options")).pairs():
        if key == _BRIDGE_NAME and not check.settings.allow_host_namespaces:
            check.deny("no-host-namespaces", f"Options[{key}]", "a bridge named by the request may be one "
                       "of the host's own, which the engine then joins", value)


def _service(check: _Check, body: Any, query: Mapping[str, list[str]]) -> None:
    body = _obj(body)
    task = _obj(body.get("TaskTemplate"))
    for base, networks in (("Networks", body.get("Networks")),
                           ("TaskTemplate.Networks", task.get("Networks"))):
        for position, network in enumerate(networks if isinstance(networks, list) else []):
            target = _text(_obj(network).get("Target"))
            if target.lower() == "host" and not check.settings.allow_host_namespaces:
                check.deny("no-host-namespaces", f"{base}[{position}].Target", "the host network is not "
                                                                               "allowed", target)
    attached = _text(_obj(task.get("NetworkAttachmentSpec")).get("ContainerID"))
    if attached:
        check.ref("TaskTemplate.NetworkAttachmentSpec.ContainerID", attached)
    _plugin_privileges(check, _obj(task.get("PluginSpec")).get("PluginPrivilege"),
                       "TaskTemplate.PluginSpec.PluginPrivilege")
    limits = _obj(_obj(task.get("Resources")).get("Limits"))
    where = "TaskTemplate.Resources.Limits."
    _require_limits(check, (where + "MemoryBytes", limits.get("MemoryBytes")),
                    [(where + "NanoCPUs", limits.get("NanoCPUs"))], update=False)
    spec = _obj(task.get("ContainerSpec"))
    where = "TaskTemplate.ContainerSpec."
    _image(check, where + "Image", spec.get("Image"))
    mounts = spec.get("Mounts")
    for position, mount in enumerate(mounts if isinstance(mounts, list) else []):
        _mount(check, mount, f"{where}Mounts[{position}]", "")
    _capabilities(check, where + "CapabilityAdd", _strings(spec.get("CapabilityAdd")), beyond_defaults=True)
    _sysctls(check, where + "Sysctls", spec.get("Sysctls"))
    _service_privileges(check, _obj(spec.get("Privileges")), where + "Privileges.")


def _service_privileges(check: _Check, privileges: GoObject, where: str) -> None:
    if check.settings.allow_unconfined:
        return
    selinux = _obj(privileges.get("SELinuxContext"))
    for name in ("Disable", "User", "Role", "Type"):
        if _set(selinux.get(name)):
            check.deny("no-unconfined", f"{where}SELinuxContext.{name}", "only the SELinux level may be set",
                       selinux.get(name))
    seccomp = _text(_obj(privileges.get("Seccomp")).get("Mode"))
    if seccomp.lower() not in ("", "default"):
        check.deny("no-unconfined", f"{where}Seccomp.Mode", "only the default seccomp profile is allowed",
                   seccomp)
    apparmor = _text(_obj(privileges.get("AppArmor")).get("Mode"))
    if apparmor.lower() not in ("", "default"):
        check.deny("no-unconfined", f"{where}AppArmor.Mode", "only the default AppArmor profile is allowed",
                   apparmor)


def _plugin_privileges(check: _Check, privileges: Any, where: str = "body") -> None:
    if check.settings.allow_plugin_privileges:
        return
    for position, privilege in enumerate(privileges if isinstance(privileges, list) else []):
        check.deny("no-plugin-privileges", f"{where}[{position}]", "plugin privileges reach the host",
                   privilege)


def _plugin_pull(check: _Check, body: Any, query: Mapping[str, list[str]]) -> None:
    _plugin_privileges(check, body)


def _plugin_set(check: _Check, body: Any, query: Mapping[str, list[str]]) -> None:
    """``name.source=PATH`` sets a plugin mount's host path, ``name.path=PATH`` a device's (moby's
    plugin settables); plain ``NAME=value`` sets an environment variable or the args."""
    for position, setting in enumerate(_strings(body)):
        name = setting.split("=", 1)[0]
        value = setting.split("=", 1)[1] if "=" in setting else ""
        field_name = name.split(".", 1)[1] if "." in name else ""
        if field_name == "source":
            _host_path(check, f"body[{position}]", value, setting)
        elif field_name == "path" and not check.settings.allow_devices:
            check.deny("no-devices", f"body[{position}]", "host devices are not allowed", setting)


def _network_connect(check: _Check, body: Any, query: Mapping[str, list[str]]) -> None:
    body = _obj(body)
    check.ref("Container", _text(body.get("Container")))
    _endpoint(check, "EndpointConfig", body.get("EndpointConfig"))


def _remote_source(check: _Check, key: str, value: str, what: str) -> None:
    if not check.settings.allow_remote_sources:
        check.deny("no-remote-sources", key, f"{what} makes the engine fetch it from the host's network",
                   value, query=True)


def _image_create(check: _Check, body: Any, query: Mapping[str, list[str]]) -> None:
    for key, values in query.items():
        for value in values:
            if key.lower() == "fromsrc" and value not in ("", "-"):  # "-": the archive is the body
                _remote_source(check, key, value, "importing from a URL")


def _image_build(check: _Check, body: Any, query: Mapping[str, list[str]]) -> None:
    for key, values in query.items():
        for value in values:
            if key.lower() == "remote" and value:
                _remote_source(check, key, value, "building from a remote context")
            if key.lower() == "networkmode":
                if value.lower() == "host" and not check.settings.allow_host_namespaces:
                    check.deny("no-host-namespaces", key, "builds on the host network are not allowed",
                               value, query=True)
                if value.lower().startswith("container:"):
                    check.ref(key, value.split(":", 1)[1])
            elif key.lower() == "cgroupparent" and value and not check.settings.allow_cgroup_parent:
                check.deny("no-cgroup-parent", key, "a cgroup parent places the build in the host's "
                                                    "cgroup tree", value, query=True)


def _grpc(check: _Check, body: Any, query: Mapping[str, list[str]]) -> None:
    if not check.settings.allow_host_namespaces:
        check.deny("no-host-namespaces", "/grpc", "BuildKit's gRPC API can ask the engine for host "
                                                  "networking (the network.host entitlement), out of sight")


def _image_commit(check: _Check, body: Any, query: Mapping[str, list[str]]) -> None:
    for value in query.get("container", []):
        check.ref("container", value)


_RULES: dict[str, Callable[[_Check, Any, Mapping[str, list[str]]], None]] = {
    "ContainerCreate": _container_create,
    "ContainerUpdate": _container_update,
    "ContainerExec": _container_exec,
    "VolumeCreate": _volume_create,
    "NetworkCreate": _network_create,
    "ServiceCreate": _service,
    "ServiceUpdate": _service,
    "PluginPull": _plugin_pull,
    "PluginUpgrade": _plugin_pull,
    "PluginSet": _plugin_set,
    "NetworkConnect": _network_connect,
    "NetworkDisconnect": _network_connect,
    "ImageBuild": _image_build,
    "ImageCreate": _image_create,
    "Grpc": _grpc,
    "ImageCommit": _image_commit,
}


def evaluate(operation: str, body: Any, query: Mapping[str, list[str]],
             settings: PolicySettings) -> PolicyResult:
    """Decide whether ``operation`` (an Engine API operationId) with this parsed body and query may
    go to the engine.

    ``body`` is what :func:`dockgate.access.body.parse_body` returned, None for no body. When
    :func:`body_kind` is "none" and the request still carries a non-empty body, parse it with
    ``expect="any"`` and pass it: it is denied. Binary bodies (build contexts, archives) are not
    JSON: pass None. ``query`` maps each parameter to its values. Raises :class:`BodyError` (400)
    for a struct field spelt twice under case folding.
    """
    check = _Check(settings)
    try:
        entry = _OPERATIONS.get(operation)
        if entry is None:
            check.deny("unknown-operation", operation, "not an Engine API operation this gateway knows")
        kind, ref = entry
        if body is not None:
            if kind not in ("object", "array"):
                # Not harmless: before API 1.24 an engine read a HostConfig from a start body.
                check.deny("unexpected-body", "body", f"{operation} takes no JSON body")
            _walk(check, body, ref, "body" if kind == "array" else "")
        rule = _RULES.get(operation)
        if rule is not None:
            rule(check, body, query)
    except _Denied as denied:
        return PolicyResult(denied.denial, check.refs, check.volumes)
    return PolicyResult(None, check.refs, check.volumes)


# Operations that put the caller inside a container, or its files in the caller's hands: through a
# container with host access they reach the host as surely as creating one would.
ENTERING = frozenset({"ContainerExec", "ExecStart", "ContainerAttach", "ContainerAttachWebsocket",
                      "ContainerArchive", "ContainerArchiveInfo", "PutContainerArchive"})


def inherited_access(container: Mapping[str, Any], what: str, settings: PolicySettings) -> Denial | None:
    """Whether entering an existing container (an :data:`ENTERING` operation) or sharing from it
    (the container named in a ``container:<ref>`` namespace or ``VolumesFrom``, as reported in
    :attr:`PolicyResult.container_refs`) reaches the host in a way ``settings`` do not allow.

    ``container`` is the engine's inspect answer for it; ``what`` names the request in the denial
    ("exec into web", "HostConfig.PidMode container:web"). The rules of a create, read from what the
    engine reports: privileged, host namespaces, bind mounts outside the allowed prefixes,
    capabilities beyond the defaults, devices, unconfined security options and unmasked /proc
    paths. Not the cgroup namespace (cgroup v1 engines put every container in the host's), nor named
    volumes (whose local options are the volume's, not in this answer).
    """
    host = container.get("HostConfig") or {}
    check = _Check(settings)
    try:
        if host.get("Privileged") and not settings.allow_privileged:
            check.deny("no-privileged", what, "the container is privileged")
        for name in ("NetworkMode", "PidMode", "IpcMode", "UTSMode", "UsernsMode"):
            if _text(host.get(name)).lower() == "host" and not settings.allow_host_namespaces:
                check.deny("no-host-namespaces", what, f"the container uses the host's ({name}=host)")
        for mount in container.get("Mounts") or []:
            source = _text(mount.get("Source"))
            if _text(mount.get("Type")).lower() == "bind" and not _host_path_allowed(
                    source, settings.allow_bind_mounts):
                check.deny("no-bind-mounts", what, f"the container binds host path {source!r}")
        allowed = settings.allow_capabilities
        for name in _strings(host.get("CapAdd")):
            capability = _normalise_capability(name)
            if capability not in DEFAULT_CAPABILITIES and "ALL" not in allowed and capability not in allowed:
                check.deny("no-added-capabilities", what, f"the container has capability {name}")
        for name in ("Devices", "DeviceRequests", "DeviceCgroupRules"):
            if _set(host.get(name)) and not settings.allow_devices:
                check.deny("no-devices", what, f"the container has host devices ({name})")
        for option in _strings(host.get("SecurityOpt")):
            _security_opt(check, what, option)
        for name in ("MaskedPaths", "ReadonlyPaths"):
            if host.get(name) == [] and not settings.allow_unconfined:
                check.deny("no-unconfined", what, f"the container's /proc and /sys are unprotected ({name})")
    except _Denied as denied:
        return denied.denial
    return None


def existing_volume(volume: Mapping[str, Any], what: str, settings: PolicySettings) -> Denial | None:
    """Whether mounting an existing named volume (reported in :attr:`PolicyResult.volume_refs`)
    reaches the host: one made (by an admin) with the local driver's bind or device options is a
    bind mount under another name. ``volume`` is the engine's inspect answer for it."""
    check = _Check(settings)
    try:
        driver = _text(volume.get("Driver"))
        _volume_driver(check, what, driver)
        if driver in ("", "local"):
            options = volume.get("Options")
            pairs = list(options.items()) if isinstance(options, dict) else []
            _local_volume_options(check, GoObject(pairs), what)
    except _Denied as denied:
        return denied.denial
    return None
