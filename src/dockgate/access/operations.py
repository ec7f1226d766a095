"""Which Engine API operation a request is: ``GET /containers/abc/json`` is ``ContainerInspect``, id ``abc``.

Roles grant operations by the Engine API's own names, so every decision starts here. The table is
``operations.json``, generated from the Swagger specs by ``scripts/gen-operations``; its templates are
compiled into one segment trie per method. Matching follows moby's router (gorilla/mux, see
``daemon/server/router/*``), because the decision must be about what the engine will do:

- A literal segment wins over a parameter: ``/containers/json`` is ``ContainerList``; a parameter is
  tried when the literal leads nowhere (``DELETE /containers/json`` removes a container named ``json``).
- Methods are exact and case-sensitive. HEAD is not GET: moby registers HEAD only for ``/_ping`` and
  ``/containers/{id}/archive``, and answers 404 to HEAD elsewhere, so HEAD elsewhere matches nothing.
- A trailing slash is kept (mux cleans paths but keeps it) and is part of the route: ``/containers/json/``
  is no route (the engine answers 404) and matches nothing, except ``GET /networks/`` which moby
  registers as the network list. A parameter never matches an empty segment.
- moby writes most parameters as ``{name:.*}``, which may hold slashes. Only image references (and plugin
  references, which are image references) really contain them: ``/images/registry:5000/team/app:1/json``
  is the image ``registry:5000/team/app:1``. SPANNING lists the parameters matched that way: they take
  every segment up to the template's fixed literal tail, as moby's anchored ``(.*)/json$`` does. A slash
  cannot occur in a container, exec, network or volume id that exists, so there the parameter is one
  segment and ``/containers/a/b/json`` matches nothing: stricter than the engine, which would only
  answer 404, never looser.

``match`` returns None for anything else (debug and experimental checkpoint routes, OPTIONS, unknown
paths); callers deny that unless the role allows unmatched routes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

# (first path segment, parameter) whose value may span segments; see the module docstring. From moby:
# image/image.go "/images/{name:.*}/json" etc., plugin/plugin.go "/plugins/{name:.*}/enable" etc.,
# distribution/distribution.go "/distribution/{name:.*}/json".
SPANNING = frozenset({("images", "name"), ("plugins", "name"), ("distribution", "name")})


class UnknownOperationError(KeyError):
    """An operation name that is not in the Engine API route table."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown Engine API operation {self.name!r} (see src/dockgate/access/operations.json)"


@dataclass(frozen=True, slots=True)
class OperationInfo:
    """What the table says about one operation, whatever the request."""

    name: str  # the spec's operationId, e.g. "ContainerInspect"
    kind: str  # the spec's tag, lower case: "container", "exec", "image", "system", ...
    resource_kind: str | None  # kind of object the path parameter names ("container" for ContainerExec)
    resource_param: str | None  # that path parameter: "id" or "name"; None without one
    routes: tuple[tuple[str, str], ...]  # (method, template) pairs that carry it


@dataclass(frozen=True, slots=True)
class Operation:
    """One request, matched: the operation and the path parameters it was called with."""

    name: str
    template: str  # e.g. "/containers/{id}/json"
    kind: str
    resource_kind: str | None
    resource_param: str | None
    params: Mapping[str, str] = field(hash=False)  # e.g. {"id": "abc"}

    @property
    def resource(self) -> str | None:
        """The object the path names, e.g. the container id or name; None when there is none."""
        return self.params.get(self.resource_param) if self.resource_param else None


@dataclass(frozen=True, slots=True)
class _Route:
    name: str
    template: str
    kind: str
    resource_kind: str | None
    resource_param: str | None


class _Node:
    """A trie node: literal children first, then a one-segment parameter, then spanning parameters."""

    __slots__ = ("literals", "param", "route", "spans")

    def __init__(self) -> None:
        self.literals: dict[str, _Node] = {}
        self.param: tuple[str, _Node] | None = None  # (parameter, child)
        self.spans: list[tuple[str, list[str], _Route]] = []  # (parameter, literal tail, route)
        self.route: _Route | None = None


def _add(root: _Node, route: _Route) -> None:
    segments = route.template[1:].split("/")
    node = root
    for i, segment in enumerate(segments):
        if not (segment.startswith("{") and segment.endswith("}")):
            node = node.literals.setdefault(segment, _Node())
            continue
        param = segment[1:-1]
        if (segments[0], param) in SPANNING:
            tail = segments[i + 1:]
            if any(s.startswith("{") for s in tail):
                raise ValueError(f"{route.template}: a spanning parameter must be the last one")
            node.spans.append((param, tail, route))
            return
        if node.param is None:
            node.param = (param, _Node())
        elif node.param[0] != param:
            raise ValueError(f"{route.template}: {{{param}}} beside {{{node.param[0]}}} at the same place")
        node = node.param[1]
    if node.route is not None:
        raise ValueError(f"{route.template} is both {node.route.name} and {route.name}")
    node.route = route


def _walk(node: _Node, segments: list[str], i: int, params: dict[str, str]) -> _Route | None:
    if i == len(segments):
        return node.route
    segment = segments[i]
    child = node.literals.get(segment)
    if child is not None:
        found = _walk(child, segments, i + 1, params)
        if found is not None:
            return found
    if node.param is not None and segment:
        found = _walk(node.param[1], segments, i + 1, params)
        if found is not None:
            params[node.param[0]] = segment
            return found
    for param, tail, route in node.spans:
        end = len(segments) - len(tail)
        if end > i and segments[end:] == tail and all(segments[i:end]):
            params[param] = "/".join(segments[i:end])
            return route
    return None


@dataclass(frozen=True)
class _Table:
    tries: dict[str, _Node]
    infos: dict[str, OperationInfo]
    names: frozenset[str]
    specs: tuple[dict[str, Any], ...]


@cache
def _table() -> _Table:
    data = json.loads(files("dockgate.access").joinpath("operations.json").read_text(encoding="utf-8"))
    tries: dict[str, _Node] = {}
    routes: dict[str, list[tuple[str, str]]] = {}
    infos: dict[str, OperationInfo] = {}
    for row in data["routes"]:
        route = _Route(row["operation"], row["template"], row["kind"], row["resource_kind"],
                       row["resource_param"])
        _add(tries.setdefault(row["method"], _Node()), route)
        routes.setdefault(route.name, []).append((row["method"], route.template))
        infos[route.name] = OperationInfo(route.name, route.kind, route.resource_kind,
                                          route.resource_param, tuple(routes[route.name]))
    return _Table(tries, infos, frozenset(infos), tuple(data["specs"]))


def match(method: str, path: str) -> Operation | None:
    """The operation for a request, or None when the engine has no such route.

    ``path`` is decoded, clean, and without the ``/vX.Y`` prefix, e.g. ``/containers/abc/json``.
    """
    root = _table().tries.get(method)
    if root is None or not path.startswith("/"):
        return None
    params: dict[str, str] = {}
    route = _walk(root, path[1:].split("/"), 0, params)
    if route is None:
        return None
    return Operation(route.name, route.template, route.kind, route.resource_kind, route.resource_param,
                     params)


def all_operations() -> frozenset[str]:
    """Every operation name in the table."""
    return _table().names


def operation_info(name: str) -> OperationInfo:
    """The kind, resource and routes of an operation; raises :class:`UnknownOperationError`."""
    try:
        return _table().infos[name]
    except KeyError:
        raise UnknownOperationError(name) from None


def spec_sources() -> tuple[dict[str, Any], ...]:
    """The specs the table was generated from: file, api_version and sha256 of each."""
    return _table().specs
