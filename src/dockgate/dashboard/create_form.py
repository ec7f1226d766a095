"""The create page's form and its JSON view, both ways: form fields become a create body through
engines/container_spec.py (the code behind ``dockgate create``'s flags, so the page and the CLI make
the same body from the same values), and a JSON body is split into what the form can show and the
rest, which stays JSON and is sent along.

A part of a body counts as shown by the form only if the form, given the values shown, builds that
part back exactly; everything else is left as written rather than approximated. Pure logic, no I/O.
"""

from __future__ import annotations

import copy
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from typing import Any, TypeGuard

from dockgate.engines.container_spec import DEFAULTS, CreateFlags, build_body, validate_name
from dockgate.engines.errors import BadParameter

# docker run's option names, as BadParameter names them, and the form fields that hold them.
# "--config" is the body under the flags: in the form, the part of the JSON the form does not show.
_OPTION_FIELDS = {"IMAGE": "image", "--name": "name", "--env": "env", "--label": "labels",
                  "--publish": "ports", "--volume": "volumes", "--restart": "restart",
                  "--memory": "memory", "--cpus": "cpus", "--config": "json"}

# Where in a body each form field puts its values.
FieldPath = tuple[str, ...]
_PLACES: dict[str, tuple[FieldPath, ...]] = {
    "image": (("Image",),),
    "command": (("Cmd",),),
    "env": (("Env",),),
    "labels": (("Labels",),),
    "ports": (("ExposedPorts",), ("HostConfig", "PortBindings")),
    "volumes": (("HostConfig", "Binds"), ("Volumes",)),
    "restart": (("HostConfig", "RestartPolicy"),),
    "memory": (("HostConfig", "Memory"),),
    "cpus": (("HostConfig", "NanoCpus"),),
}
# Body fields named in the gateway's refusals (HostConfig.Binds[0]="/:/host") and the form field
# they concern; the top-level spellings are the ones older engines read.
_REFUSED_FIELDS = {
    **{".".join(path): name for name, paths in _PLACES.items() for path in paths},
    "HostConfig.Mounts": "volumes", "Binds": "volumes", "Mounts": "volumes",
    "HostConfig.CpuQuota": "cpus", "Memory": "memory", "NanoCpus": "cpus", "CpuQuota": "cpus",
}
_POLICY_DENIAL = re.compile(r'^policy rule "[^"]+" denies ([A-Za-z][\w.]*)')
_MEMORY_UNITS = (("p", 1024**5), ("t", 1024**4), ("g", 1024**3), ("m", 1024**2), ("k", 1024))
_MISSING = object()


class FieldError(ValueError):
    """A value the page shows beside its form field (``field`` "json": the JSON part of the body)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    @classmethod
    def of(cls, exc: BadParameter) -> FieldError:
        # The message without its "invalid --publish: " prefix: the page shows it beside the field.
        return cls(_OPTION_FIELDS.get(exc.param), str(exc).removeprefix(f"invalid {exc.param}: "))


@dataclass(frozen=True)
class CreateForm:
    """The form's fields as typed: list fields hold one docker run value a line."""

    image: str = ""
    command: str = ""  # shell words: sh -c "echo hi"
    env: str = ""  # KEY=VALUE lines
    ports: str = ""  # -p values: 8080:80, 127.0.0.1:8443:443/tcp
    volumes: str = ""  # -v values: data:/data:ro, /srv/www:/www, /scratch
    labels: str = ""  # key=value lines
    restart: str = ""  # "" (not set), no, always, unless-stopped, on-failure
    retries: str = ""  # on-failure's maximum retry count
    memory: str = ""  # 256m, 1g
    cpus: str = ""  # 0.5

    @classmethod
    def from_json(cls, data: Any) -> CreateForm:
        """From the page's JSON; anything but an object of strings naming fields is refused."""
        names = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or not all(k in names and isinstance(v, str) for k, v in data.items()):
            raise FieldError(None, f"the form must be an object of strings with keys among {sorted(names)}")
        return cls(**data)

    def flags(self) -> CreateFlags:
        try:
            command = shlex.split(self.command)
        except ValueError as exc:
            raise FieldError("command", f"{self.command!r}: {exc} (quote words as a shell does)") from None
        restart = self.restart.strip()
        if restart and self.retries.strip():
            restart = f"{restart}:{self.retries.strip()}"
        return CreateFlags(
            image=self.image.strip() or None, command=command, env=_lines(self.env),
            labels=_lines(self.labels), publish=_lines(self.ports), volumes=_lines(self.volumes),
            restart=restart or None, memory=self.memory.strip() or None, cpus=self.cpus.strip() or None)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def body_of(form: CreateForm, rest: Mapping[str, Any] | None = None, *,
            draft: bool = False) -> dict[str, Any]:
    """The create body of ``form`` on top of ``rest`` (the JSON the form does not show).

    docker run's defaults (attach stdout and stderr, no TTY) fill in what ``rest`` does not set, as
    they do for a form alone, so a body survives a round trip through the form unchanged. A
    ``draft`` (the JSON view of a half-filled form) may lack an image.
    """
    base = dict(rest or {})
    given = {key.lower() for key in base}
    base = {**{k: v for k, v in DEFAULTS.items() if k.lower() not in given}, **base}
    try:
        return build_body(form.flags(), base, {}, require_image=not draft)
    except BadParameter as exc:
        raise FieldError.of(exc) from None


def check_name(name: str) -> str | None:
    """The container name to ask for (None: the engine picks one)."""
    name = name.strip()
    if not name:
        return None
    try:
        validate_name(name)
    except BadParameter as exc:
        raise FieldError.of(exc) from None
    return name


@dataclass(frozen=True)
class Split:
    """A body as the form shows it: ``form``, and ``rest``, the part left as JSON."""

    form: CreateForm
    rest: dict[str, Any]

    def rest_fields(self) -> list[str]:
        """The fields of ``rest``, as the page lists them ("Hostname", "HostConfig.CapAdd")."""
        names = []
        for key, value in self.rest.items():
            if key == "HostConfig" and isinstance(value, dict) and value:
                names += [f"HostConfig.{name}" for name in value]
            else:
                names.append(key)
        return names

    def json(self) -> dict[str, Any]:
        return {"form": asdict(self.form), "rest": self.rest, "rest_fields": self.rest_fields()}


def split_body(body: Mapping[str, Any]) -> Split:
    """What of ``body`` the form can show, and the rest (see the module's docstring). A body the
    form could not carry back (a HostConfig that is no object) is refused: it is for the JSON view
    to fix, which the form would hide."""
    values: dict[str, str] = {}
    rest = copy.deepcopy(dict(body))
    for name, places in _PLACES.items():
        found = [_get(body, path) for path in places]
        if all(value is _MISSING for value in found):
            continue
        shown = _SHOWN[name](body)
        if shown is None or not _builds_back(shown, places, found):
            continue
        values.update(shown)
        for path in places:
            _remove(rest, path)
    for key, value in DEFAULTS.items():
        if key in rest and rest[key] is value:  # identity: to the engine, 0 is no false
            del rest[key]
    if rest.get("HostConfig") == {} and body.get("HostConfig") != {}:
        del rest["HostConfig"]
    split = Split(CreateForm(**values), rest)
    body_of(split.form, split.rest, draft=True)
    return split


def _builds_back(shown: dict[str, str], places: tuple[FieldPath, ...], found: list[Any]) -> bool:
    """Whether the form, with ``shown`` in it, builds exactly ``found`` at ``places``."""
    try:
        rebuilt = body_of(CreateForm(**shown), {}, draft=True)
    except FieldError:
        return False
    return all(_get(rebuilt, path) == value for path, value in zip(places, found, strict=True))


def _get(body: Any, path: FieldPath) -> Any:
    for key in path:
        if not isinstance(body, dict) or key not in body:
            return _MISSING
        body = body[key]
    return body


def _remove(body: dict[str, Any], path: FieldPath) -> None:
    parent = _get(body, path[:-1])
    if isinstance(parent, dict):
        parent.pop(path[-1], None)


def _strings(value: Any) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(item, str) and "\n" not in item for item in value)


def _shown_image(body: Mapping[str, Any]) -> dict[str, str] | None:
    image = body.get("Image")
    return {"image": image} if isinstance(image, str) else None


def _shown_command(body: Mapping[str, Any]) -> dict[str, str] | None:
    command = body.get("Cmd")
    return {"command": shlex.join(command)} if _strings(command) else None


def _shown_env(body: Mapping[str, Any]) -> dict[str, str] | None:
    env = body.get("Env")
    return {"env": "\n".join(env)} if _strings(env) else None


def _shown_labels(body: Mapping[str, Any]) -> dict[str, str] | None:
    labels = body.get("Labels")
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        return None
    return {"labels": "\n".join(f"{key}={value}" for key, value in labels.items())}


def _shown_ports(body: Mapping[str, Any]) -> dict[str, str] | None:
    bindings = _get(body, ("HostConfig", "PortBindings"))
    if not isinstance(bindings, dict):
        return None
    specs = []
    for port, published in bindings.items():
        if not isinstance(published, list) or not all(isinstance(b, dict) for b in published):
            return None
        for binding in published:
            ip, host_port = str(binding.get("HostIp", "")), str(binding.get("HostPort", ""))
            ip = f"[{ip}]" if ":" in ip else ip
            target = str(port).removesuffix("/tcp")
            specs.append(f"{ip}:{host_port}:{target}" if ip else f"{host_port}:{target}" if host_port
                         else target)
    return {"ports": "\n".join(specs)}


def _shown_volumes(body: Mapping[str, Any]) -> dict[str, str] | None:
    binds = _get(body, ("HostConfig", "Binds"))
    binds = [] if binds is _MISSING else binds
    anonymous = body.get("Volumes") or {}
    if not _strings(binds) or not isinstance(anonymous, dict):
        return None
    return {"volumes": "\n".join([*binds, *anonymous])}


def _shown_restart(body: Mapping[str, Any]) -> dict[str, str] | None:
    policy = _get(body, ("HostConfig", "RestartPolicy"))
    if not isinstance(policy, dict):
        return None
    name, count = policy.get("Name"), policy.get("MaximumRetryCount")
    if not isinstance(name, str) or not isinstance(count, int):
        return None
    return {"restart": name or "no", "retries": str(count) if count else ""}


def _shown_memory(body: Mapping[str, Any]) -> dict[str, str] | None:
    size = _get(body, ("HostConfig", "Memory"))
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        return None
    unit = next(((suffix, n) for suffix, n in _MEMORY_UNITS if size % n == 0), ("", 1))
    return {"memory": f"{size // unit[1]}{unit[0]}"}


def _shown_cpus(body: Mapping[str, Any]) -> dict[str, str] | None:
    nano = _get(body, ("HostConfig", "NanoCpus"))
    if not isinstance(nano, int) or isinstance(nano, bool) or nano <= 0:
        return None
    return {"cpus": format(Decimal(nano).scaleb(-9).normalize(), "f")}


_SHOWN: dict[str, Callable[[Mapping[str, Any]], dict[str, str] | None]] = {
    "image": _shown_image, "command": _shown_command, "env": _shown_env, "labels": _shown_labels,
    "ports": _shown_ports, "volumes": _shown_volumes, "restart": _shown_restart,
    "memory": _shown_memory, "cpus": _shown_cpus,
}


def refused_field(message: str) -> tuple[str | None, str | None]:
    """The form field a refusal of the gateway's policy concerns, and the body field it names:
    ``policy rule "no-bind-mounts" denies HostConfig.Binds[0]=...`` is about the volumes.
    (None, None) for other refusals; (None, path) for a field the form does not have."""
    match = _POLICY_DENIAL.match(message)
    if match is None:
        return None, None
    path = match.group(1)
    return _REFUSED_FIELDS.get(path), path
