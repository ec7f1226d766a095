"""Filters of the container, image, network and volume lists, checked before they reach an engine.

An engine answers an unknown filter key or a bad value with a 400, a 500, or silently ignores it;
checking here lets the CLI exit 2 (and the gateway answer 400) with a message naming the filter.
The value rules are those of API v1.41 engines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from dockgate.engines.errors import BadParameter

Check = Callable[[str], None]


def _nonempty(value: str) -> None:
    if not value:
        raise ValueError("must not be empty")


def _label(value: str) -> None:
    if not value or value.startswith("="):
        raise ValueError(f"{value!r} must be key or key=value")


def _one_of(*choices: str) -> Check:
    def check(value: str) -> None:
        if value not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
    return check


def _exit_code(value: str) -> None:
    if not re.fullmatch(r"-?\d+", value):
        raise ValueError(f"{value!r} is not an integer exit code")


_PORT = re.compile(r"^\d{1,5}(-\d{1,5})?(/(tcp|udp|sctp))?$")


def _port(value: str) -> None:
    if not _PORT.match(value):
        raise ValueError(f"{value!r} is not a port, a port range or port/protocol (80, 80/tcp, 8000-8080)")


CONTAINER_STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")

CONTAINER_FILTERS: Mapping[str, Check] = {
    "ancestor": _nonempty, "before": _nonempty, "since": _nonempty, "id": _nonempty, "name": _nonempty,
    "network": _nonempty, "volume": _nonempty, "label": _label, "exited": _exit_code,
    "status": _one_of(*CONTAINER_STATUSES), "health": _one_of("starting", "healthy", "unhealthy", "none"),
    "isolation": _one_of("default", "process", "hyperv"), "is-task": _one_of("true", "false"),
    "publish": _port, "expose": _port,
}
# Images accept only true/false for dangling; networks and volumes also 1/0.
IMAGE_FILTERS: Mapping[str, Check] = {
    "before": _nonempty, "since": _nonempty, "reference": _nonempty, "label": _label,
    "dangling": _one_of("true", "false"),
}
NETWORK_FILTERS: Mapping[str, Check] = {
    "dangling": _one_of("true", "false", "1", "0"), "driver": _nonempty, "id": _nonempty,
    "label": _label, "name": _nonempty, "scope": _one_of("swarm", "global", "local"),
    "type": _one_of("custom", "builtin"),
}
VOLUME_FILTERS: Mapping[str, Check] = {
    "dangling": _one_of("true", "false", "1", "0"), "driver": _nonempty, "label": _label,
    "name": _nonempty,
}
# GET /events: the engine accepts unknown keys and values silently, so a typo would show nothing.
EVENT_FILTERS: Mapping[str, Check] = {
    "config": _nonempty, "container": _nonempty, "daemon": _nonempty, "event": _nonempty,
    "image": _nonempty, "label": _label, "network": _nonempty, "node": _nonempty, "plugin": _nonempty,
    "scope": _one_of("local", "swarm"), "secret": _nonempty, "service": _nonempty,
    "type": _one_of("builder", "config", "container", "daemon", "image", "network", "node", "plugin",
                    "secret", "service", "volume"),
    "volume": _nonempty,
}


def check_filters(filters: Mapping[str, list[str]], known: Mapping[str, Check]) -> None:
    """Raise :class:`BadParameter` for an unknown key or a value the engine would reject."""
    for key, values in filters.items():
        check = known.get(key)
        if check is None:
            raise BadParameter("filters", f"unknown filter {key!r} (known: {', '.join(sorted(known))})")
        for value in values:
            try:
                check(value)
            except ValueError as exc:
                raise BadParameter("filters", f"{key}: {exc}") from None


def parse_filter_arg(text: str) -> tuple[str, str]:
    """One ``--filter key=value`` of the CLI."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise BadParameter("filter", f"{text!r} is not key=value")
    return key.strip(), value


def filters_from_args(args: Iterable[str], known: Mapping[str, Check]) -> dict[str, list[str]]:
    """The CLI's repeated ``--filter key=value``, grouped by key and checked."""
    filters: dict[str, list[str]] = {}
    for text in args:
        key, value = parse_filter_arg(text)
        filters.setdefault(key, []).append(value)
    check_filters(filters, known)
    return filters
