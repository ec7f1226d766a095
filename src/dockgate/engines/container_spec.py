"""docker run's options (``-p 8080:80``, ``-v data:/data:ro``, ``--restart on-failure:3``, ``-m 256m``,
``--cpus 1.5``, ...) turned into a ``POST /containers/create`` body, alone or on top of a given body.

Pure logic, no I/O, shared by ``dockgate create`` and the dashboard's create page, so that one set of
options makes one body whichever way it is asked for. Every value is checked here, before anything
reaches an engine, with the docker CLI's formats so that commands can be copied over; a bad value
raises :class:`BadParameter` naming the option as docker run spells it (``--publish``), which callers
may map to their own field names.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from dockgate.engines.errors import BadParameter

# The engine's own patterns: container names (daemon/names) and local volume names (volume/local).
_CONTAINER_NAME = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
# RFC 1123 host name, as the docker CLI checks it.
_HOSTNAME = re.compile(r"^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\.)*"
                       r"([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$")
_PORTS = re.compile(r"^(\d+)(?:-(\d+))?$")
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?) ?([kmgtp])?(i?b)?$", re.IGNORECASE)
_MEMORY_UNITS = {None: 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
_PROTOCOLS = ("tcp", "udp", "sctp")
_RESTART = ("no", "always", "unless-stopped", "on-failure")
_BIND_MODES = {"ro", "rw"}
_BIND_LABELS = {"z", "Z"}
_BIND_PROPAGATION = {"shared", "slave", "private", "rshared", "rslave", "rprivate"}
_BIND_OPTIONS = _BIND_MODES | _BIND_LABELS | _BIND_PROPAGATION | {"nocopy"}
# What docker run sends when no body is given: a detached container with its output attached.
DEFAULTS: dict[str, Any] = {"AttachStdin": False, "AttachStdout": True, "AttachStderr": True,
                            "Tty": False, "OpenStdin": False, "StdinOnce": False}


@dataclass
class CreateFlags:
    """docker run's options as given (``dockgate create``'s flags, the dashboard's form fields);
    False/None/empty means "not given"."""

    image: str | None = None
    command: list[str] = field(default_factory=list)
    name: str | None = None
    env: list[str] = field(default_factory=list)
    env_files: list[tuple[str, str]] = field(default_factory=list)  # (path, contents)
    labels: list[str] = field(default_factory=list)
    publish: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    restart: str | None = None
    memory: str | None = None
    cpus: str | None = None
    entrypoint: str | None = None
    workdir: str | None = None
    user: str | None = None
    hostname: str | None = None
    tty: bool = False
    interactive: bool = False


def build_body(flags: CreateFlags, base: Mapping[str, Any] | None = None,
               environ: Mapping[str, str] | None = None, *, require_image: bool = True) -> dict[str, Any]:
    """The create body: ``base`` (a given body, left untouched) overridden/extended by flags.

    Lists and maps in the base (Env, Labels, ports, Binds) are extended; single values are replaced.
    Keys of the base are matched case-insensitively, as the engine reads them, so a flag never ends
    up as a second key that the engine would read instead of (or after) the base's. A base whose
    fields have the wrong type for a flag to extend is refused as ``--config`` (``dockgate create``'s
    name for it). ``environ`` supplies values for ``-e KEY`` without a value, as the docker CLI does.
    ``require_image=False`` is for drafts (a half-filled form shown as JSON), not for sending.
    """
    environ = environ if environ is not None else {}
    body: dict[str, Any] = json.loads(json.dumps(dict(base))) if base is not None else dict(DEFAULTS)
    if flags.name is not None:
        validate_name(flags.name)
    if flags.image is not None:
        if not flags.image or any(c.isspace() for c in flags.image):
            raise BadParameter("IMAGE", f"{flags.image!r} is not an image reference")
        body[_key(body, "Image")] = flags.image
    image = body.get(_key(body, "Image"))
    if require_image and (not isinstance(image, str) or not image):
        raise BadParameter("IMAGE", "no image given (name one, or set \"Image\" in the JSON body)")
    if flags.command:
        body[_key(body, "Cmd")] = list(flags.command)

    env = [item for path, text in flags.env_files for item in parse_env_file(text, path, environ)]
    env += [parse_env(item, environ) for item in flags.env]
    if env:
        _list(body, "Env").extend(env)
    if flags.labels:
        _map(body, "Labels").update(parse_label(item) for item in flags.labels)

    host_config = _host_config(body)
    for spec in flags.publish:
        for port, binding in parse_publish(spec):
            _map(body, "ExposedPorts")[port] = {}
            _map(host_config, "PortBindings").setdefault(port, []).append(binding)
    for spec in flags.volumes:
        bind, anonymous = parse_volume(spec)
        if bind is not None:
            _list(host_config, "Binds").append(bind)
        if anonymous is not None:
            _map(body, "Volumes")[anonymous] = {}
    if flags.restart is not None:
        host_config[_key(host_config, "RestartPolicy")] = parse_restart(flags.restart)
    if flags.memory is not None:
        host_config[_key(host_config, "Memory")] = parse_memory(flags.memory)
    if flags.cpus is not None:
        host_config[_key(host_config, "NanoCpus")] = parse_cpus(flags.cpus)

    if flags.entrypoint is not None:
        # As in the docker CLI: an empty --entrypoint resets the image's entrypoint.
        body[_key(body, "Entrypoint")] = [flags.entrypoint]
    if flags.workdir is not None:
        if not flags.workdir.startswith("/"):
            raise BadParameter("--workdir", f"{flags.workdir!r} is not an absolute path")
        body[_key(body, "WorkingDir")] = flags.workdir
    if flags.user is not None:
        if not flags.user or any(c.isspace() for c in flags.user) or flags.user.startswith(":"):
            raise BadParameter("--user", f"{flags.user!r} is not a user[:group] (name or id)")
        body[_key(body, "User")] = flags.user
    if flags.hostname is not None:
        if len(flags.hostname) > 64 or not _HOSTNAME.match(flags.hostname):
            raise BadParameter("--hostname", f"{flags.hostname!r} is not a valid host name (RFC 1123, "
                               "at most 64 characters)")
        body[_key(body, "Hostname")] = flags.hostname
    if flags.tty:
        body[_key(body, "Tty")] = True
    if flags.interactive:
        body[_key(body, "OpenStdin")] = True
        body[_key(body, "AttachStdin")] = True
    if host_config:
        body[_key(body, "HostConfig")] = host_config
    return body


def validate_name(name: str, param: str = "--name") -> None:
    if not _CONTAINER_NAME.match(name):
        raise BadParameter(param, f"{name!r} is not a valid container name (at least 2 characters: "
                           "letters, digits, '_', '.', '-'; starting with a letter or digit)")


def parse_env(item: str, environ: Mapping[str, str]) -> str:
    """``-e KEY=VALUE``, or ``-e KEY`` to pass the local value on (sent bare when it is unset)."""
    key, sep, _ = item.partition("=")
    _check_env_key(key, "--env", item)
    if sep:
        return item
    return f"{key}={environ[key]}" if key in environ else key


def parse_env_file(text: str, path: str, environ: Mapping[str, str]) -> list[str]:
    """docker's env-file format: KEY=VALUE lines taken verbatim, # comments, blank lines, and KEY alone
    to pass on the local value (left out when it is unset)."""
    items = []
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.lstrip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        _check_env_key(key, "--env-file", f"{path} line {number}")
        if sep:
            items.append(f"{key}={value}")
        elif key in environ:
            items.append(f"{key}={environ[key]}")
    return items


def _check_env_key(key: str, flag: str, where: str) -> None:
    if not key:
        raise BadParameter(flag, f"{where!r}: no variable name before '='")
    if any(c.isspace() for c in key):
        raise BadParameter(flag, f"{where!r}: variable name {key!r} contains whitespace")


def parse_label(item: str) -> tuple[str, str]:
    """``-l key=value``, or ``-l key`` for an empty value."""
    key, _, value = item.partition("=")
    if not key or any(c.isspace() for c in key):
        raise BadParameter("--label", f"{item!r} is not key=value")
    return key, value


def parse_publish(spec: str) -> list[tuple[str, dict[str, str]]]:
    """``-p [ip:][host_port:]container_port[/proto]``, ports may be ranges; IPv6 in brackets.

    Returns (``"80/tcp"``, ``{"HostIp": ..., "HostPort": ...}``) pairs for ExposedPorts and
    HostConfig.PortBindings; an empty HostPort lets the engine pick one.
    """
    def bad(why: str) -> BadParameter:
        return BadParameter("--publish", f"{spec!r}: {why} (format: [ip:][host_port:]container_port"
                            "[/tcp|udp|sctp])")

    text, slash, proto = spec.partition("/")
    if slash and proto not in _PROTOCOLS:
        raise bad(f"unknown protocol {proto!r}")
    proto = proto or "tcp"
    ip = ""
    if text.startswith("["):
        ip, bracket, text = text[1:].partition("]")
        if not bracket or not text.startswith(":"):
            raise bad("an IPv6 address in brackets must be followed by :host_port:container_port")
        parts = [ip, *text[1:].split(":")]
    else:
        parts = text.split(":")
    if len(parts) > 3:
        raise bad("too many ':' (write IPv6 addresses in brackets)")
    container = parts[-1]
    host = parts[-2] if len(parts) >= 2 else ""
    ip = parts[0] if len(parts) == 3 else ""
    if ip:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise bad(f"{ip!r} is not an IP address") from None
    if not container:
        raise bad("no container port")
    first, last = _port_range(container, bad)
    if not host:
        return [(f"{p}/{proto}", {"HostIp": ip, "HostPort": ""}) for p in range(first, last + 1)]
    host_first, host_last = _port_range(host, bad)
    if first == last:
        # One container port on a host range: the engine picks a free port in the range.
        return [(f"{first}/{proto}", {"HostIp": ip, "HostPort": host})]
    if last - first != host_last - host_first:
        raise bad("host and container port ranges differ in size")
    return [(f"{first + i}/{proto}", {"HostIp": ip, "HostPort": str(host_first + i)})
            for i in range(last - first + 1)]


def _port_range(text: str, bad: Callable[[str], BadParameter]) -> tuple[int, int]:
    match = _PORTS.match(text)
    if not match:
        raise bad(f"{text!r} is not a port or a port range")
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) else first
    for port in (first, last):
        if not 1 <= port <= 65535:
            raise bad(f"port {port} is out of range 1-65535")
    if last < first:
        raise bad(f"port range {text!r} ends before it starts")
    return first, last


def parse_volume(spec: str) -> tuple[str | None, str | None]:
    """``-v [src:]dst[:opts]``: (a HostConfig.Binds entry, or an anonymous volume's path for Volumes).

    ``src`` is an absolute host path or a volume name; a relative path is refused rather than guessed
    at, since the engine may be on another machine than the one the command runs on.
    """
    def bad(why: str) -> BadParameter:
        return BadParameter("--volume", f"{spec!r}: {why} (format: [host_path|volume_name:]"
                            "container_path[:ro|rw|z|Z|nocopy|propagation,...])")

    parts = spec.split(":")
    if len(parts) > 3 or not all(parts):
        raise bad("expected 1 to 3 non-empty parts separated by ':'")
    if len(parts) == 1:
        _check_destination(parts[0], bad)
        return None, parts[0]
    src, dst = parts[0], parts[1]
    if not src.startswith("/") and not _VOLUME_NAME.match(src):
        raise bad(f"{src!r} is neither an absolute host path nor a volume name")
    _check_destination(dst, bad)
    if len(parts) == 3:
        options = parts[2].split(",")
        unknown = [o for o in options if o not in _BIND_OPTIONS]
        if unknown:
            raise bad(f"unknown option {unknown[0]!r}")
        for group in (_BIND_MODES, _BIND_LABELS, _BIND_PROPAGATION):
            if len([o for o in options if o in group]) > 1:
                raise bad(f"conflicting options {parts[2]!r}")
    return spec, None


def _check_destination(path: str, bad: Callable[[str], BadParameter]) -> None:
    if not path.startswith("/"):
        raise bad(f"container path {path!r} is not absolute")
    if path.rstrip("/") == "":
        raise bad("the container path cannot be '/'")


def parse_restart(text: str) -> dict[str, Any]:
    """``no``, ``always``, ``unless-stopped``, ``on-failure[:max_retries]`` → RestartPolicy."""
    name, sep, count = text.partition(":")
    if name not in _RESTART:
        raise BadParameter("--restart", f"{text!r} is not one of no, always, unless-stopped, "
                           "on-failure[:N]")
    if not sep:
        return {"Name": "" if name == "no" else name, "MaximumRetryCount": 0}
    if name != "on-failure":
        raise BadParameter("--restart", f"{text!r}: a retry count applies only to on-failure")
    if not count.isdigit():
        raise BadParameter("--restart", f"{text!r}: the retry count must be a non-negative integer")
    return {"Name": name, "MaximumRetryCount": int(count)}


def parse_memory(text: str) -> int:
    """``512``, ``256m``, ``1.5g``, ``1GiB``: bytes, with binary units as in the docker CLI."""
    match = _MEMORY.match(text.strip())
    if not match:
        raise BadParameter("--memory", f"{text!r} is not a size (e.g. 512m, 1g, 268435456)")
    unit = match.group(2).lower() if match.group(2) else None
    return int(Decimal(match.group(1)) * _MEMORY_UNITS[unit])


def parse_cpus(text: str) -> int:
    """``--cpus 1.5`` → NanoCpus 1500000000; more precision than a nano-CPU is refused."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise BadParameter("--cpus", f"{text!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise BadParameter("--cpus", f"{text!r} must be a number greater than 0")
    nano = value * 10**9
    if nano != nano.to_integral_value():
        raise BadParameter("--cpus", f"{text!r} is too precise (at most 9 decimal places)")
    return int(nano)


def _key(obj: Mapping[str, Any], name: str) -> str:
    """The key of ``obj`` that the engine reads as field ``name`` (the last case-insensitive match,
    as Go's decoder keeps), or ``name`` itself when there is none."""
    matches = [key for key in obj if key.lower() == name.lower()]
    return matches[-1] if matches else name


def _host_config(body: dict[str, Any]) -> dict[str, Any]:
    value = body.get(_key(body, "HostConfig"))
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadParameter("--config", f"HostConfig must be an object, not {json_type(value)}")
    return value


def _list(obj: dict[str, Any], name: str) -> list[Any]:
    """The list at field ``name``, created when absent or null, so that flags extend it."""
    key = _key(obj, name)
    if obj.get(key) is None:
        obj[key] = []
    elif not isinstance(obj[key], list):
        raise BadParameter("--config", f"{name} must be a list, not {json_type(obj[key])}")
    return obj[key]


def _map(obj: dict[str, Any], name: str) -> dict[str, Any]:
    key = _key(obj, name)
    if obj.get(key) is None:
        obj[key] = {}
    elif not isinstance(obj[key], dict):
        raise BadParameter("--config", f"{name} must be an object, not {json_type(obj[key])}")
    return obj[key]


def json_type(value: Any) -> str:
    """How a JSON value is called in messages ("a list", "an object", ...)."""
    names: Iterable[tuple[type, str]] = ((bool, "a boolean"), (int, "a number"), (float, "a number"),
                                         (str, "a string"), (list, "a list"), (dict, "an object"))
    for kind, label in names:
        if isinstance(value, kind):
            return label
    return "null"
