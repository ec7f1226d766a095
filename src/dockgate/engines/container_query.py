"""The container list query of the seed (API v1.18) and of current engines, validated before sending.

Current engines ignore the v1.18 ``since``/``before`` query parameters (they became filters) and
answer 500 to a non-numeric ``limit``. This module is the one place that knows the parameters, so
the CLI can exit 2 and the gateway can answer 400 with a message naming the parameter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")
HEALTH = ("starting", "healthy", "unhealthy", "none")
ISOLATION = ("default", "process", "hyperv")
_PORT = re.compile(r"^\d{1,5}(-\d{1,5})?(/(tcp|udp|sctp))?$")
_TRUE = ("1", "true", "True")
_FALSE = ("0", "false", "False")


class BadParameter(ValueError):
    """A parameter the engine would reject or misread; ``param`` names it for the 400/exit-2 message."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"invalid {param}: {message}")
        self.param = param


def _any(value: str) -> None:
    if not value:
        raise ValueError("must not be empty")


def _exited(value: str) -> None:
    if not re.fullmatch(r"-?\d+", value):
        raise ValueError(f"{value!r} is not an integer exit code")


def _one_of(choices: tuple[str, ...]) -> object:
    def check(value: str) -> None:
        if value not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
    return check


def _bool_value(value: str) -> None:
    if value not in ("true", "false"):
        raise ValueError(f"{value!r} must be true or false")


def _port(value: str) -> None:
    if not _PORT.match(value):
        raise ValueError(f"{value!r} is not a port, a port range or port/protocol (80, 80/tcp, 8000-8080)")


def _label(value: str) -> None:
    if not value or value.startswith("="):
        raise ValueError(f"{value!r} must be key or key=value")


# Filter keys of GET /containers/json (API v1.41 and later) and how their values are checked.
FILTER_CHECKS = {
    "ancestor": _any, "before": _any, "since": _any, "id": _any, "name": _any, "network": _any,
    "volume": _any, "label": _label, "exited": _exited, "status": _one_of(STATUSES),
    "health": _one_of(HEALTH), "isolation": _one_of(ISOLATION), "is-task": _bool_value,
    "publish": _port, "expose": _port,
}


def parse_bool(param: str, value: str) -> bool:
    """The seed's booleans: 1/True/true or 0/False/false (and an empty value counts as false)."""
    if value in _TRUE:
        return True
    if value in _FALSE or value == "":
        return False
    raise BadParameter(param, f"{value!r} is not a boolean (use 1/True/true or 0/False/false)")


def parse_filter_arg(text: str) -> tuple[str, str]:
    """One ``--filter key=value`` of the CLI."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise BadParameter("filter", f"{text!r} is not key=value")
    return key.strip(), value


@dataclass
class ContainerListQuery:
    """``GET /containers/json``. ``since``/``before`` are the v1.18 parameters."""

    all: bool = False
    limit: int | None = None
    since: str | None = None
    before: str | None = None
    size: bool = False
    filters: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < -1:
            raise BadParameter("limit", f"{self.limit} must be a non-negative integer")
        for param in ("since", "before"):
            value = getattr(self, param)
            if value is not None and (not value or any(c.isspace() for c in value)):
                raise BadParameter(param, f"{value!r} is not a container id or name")
        for key, values in self.filters.items():
            check = FILTER_CHECKS.get(key)
            if check is None:
                raise BadParameter("filters", f"unknown filter {key!r} (known: "
                                   f"{', '.join(sorted(FILTER_CHECKS))})")
            for value in values:
                try:
                    check(value)  # type: ignore[operator]
                except ValueError as exc:
                    raise BadParameter("filters", f"{key}: {exc}") from None

    @classmethod
    def from_filter_args(cls, args: Iterable[str], **kwargs: object) -> ContainerListQuery:
        filters: dict[str, list[str]] = {}
        for text in args:
            key, value = parse_filter_arg(text)
            filters.setdefault(key, []).append(value)
        return cls(filters=filters, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> ContainerListQuery:
        """From URL query parameters, as the gateway receives them."""
        limit = None
        if query.get("limit", "") != "":
            try:
                limit = int(query["limit"])
            except ValueError:
                raise BadParameter("limit", f"{query['limit']!r} is not an integer") from None
        return cls(
            all=parse_bool("all", query.get("all", "")),
            limit=limit,
            since=query.get("since") or None,
            before=query.get("before") or None,
            size=parse_bool("size", query.get("size", "")),
            filters=parse_filters_json(query.get("filters", "")),
        )

    def effective_filters(self) -> dict[str, list[str]]:
        """Filters with the legacy parameters folded in, as a current engine understands them."""
        merged = {key: list(values) for key, values in self.filters.items()}
        for param in ("since", "before"):
            value = getattr(self, param)
            if value and value not in merged.get(param, []):
                merged.setdefault(param, []).append(value)
        return merged

    def references(self) -> set[str]:
        """Container references in since/before, which engines only accept as full ids or names."""
        merged = self.effective_filters()
        return set(merged.get("since", [])) | set(merged.get("before", []))

    def resolved(self, ids: Mapping[str, str]) -> ContainerListQuery:
        """The same query with since/before references replaced by full ids."""
        filters = {key: [ids.get(v, v) if key in ("since", "before") else v for v in values]
                   for key, values in self.filters.items()}
        return ContainerListQuery(
            all=self.all, limit=self.limit, size=self.size, filters=filters,
            since=ids.get(self.since, self.since) if self.since else None,
            before=ids.get(self.before, self.before) if self.before else None)

    def engine_params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.all:
            params["all"] = "1"
        if self.limit is not None:
            params["limit"] = str(self.limit)
        if self.size:
            params["size"] = "1"
        filters = self.effective_filters()
        if filters:
            params["filters"] = json.dumps(filters, separators=(",", ":"))
        return params


def parse_filters_json(text: str) -> dict[str, list[str]]:
    """The ``filters`` query value: ``{"key": ["v", ...]}`` or the legacy ``{"key": {"v": true}}``."""
    if not text:
        return {}
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadParameter("filters", f"not valid JSON ({exc.msg})") from None
    if not isinstance(raw, dict):
        raise BadParameter("filters", "must be a JSON object of filter name to list of values")
    filters: dict[str, list[str]] = {}
    for key, values in raw.items():
        if isinstance(values, dict) and all(v is True for v in values.values()):
            values = list(values)
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise BadParameter("filters", f"{key}: values must be a list of strings")
        filters[key] = values
    return filters
