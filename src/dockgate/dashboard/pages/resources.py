"""What the images, networks and volumes pages share: one list across every host the user may see,
and inspect, remove and prune on one host.

A :class:`Kind` says only how its objects are listed, described, removed and pruned; the routes,
the input checks and the per-host error reporting are the same for the three, so the pages behave
alike. Every engine call goes through :func:`engine` or :func:`on_hosts`: the gateway decides on it
and records it, and its refusal reaches the page as the gateway's own status and message.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from dockgate.dashboard.engine_calls import engine, on_hosts, visible_hosts
from dockgate.dashboard.render import page
from dockgate.engines.client import EngineClient
from dockgate.engines.container_query import ContainerListQuery, parse_bool
from dockgate.engines.errors import BadParameter, EngineAPIError
from dockgate.engines.filters import Check, check_filters

Facts = list[tuple[str, str]]


@dataclass(frozen=True)
class Listing:
    """What a list request asks for: engine filters, checked, and whether to add sizes."""

    filters: dict[str, list[str]] = field(default_factory=dict)
    sizes: bool = False


@dataclass(frozen=True)
class Removed:
    """What a removal or a prune did, as lines a person reads (``untagged: busybox:old``)."""

    lines: list[str]
    summary: str
    reclaimed: int | None = None  # bytes, when the engine says

    def json(self) -> dict[str, Any]:
        return {"lines": self.lines, "summary": self.summary, "reclaimed": self.reclaimed}


@dataclass(frozen=True)
class Kind:
    """All that differs between images, networks and volumes."""

    name: str  # "images": the path of the page and of its API
    title: str
    filters: Mapping[str, Check]  # the engine's list filters (the page offers some), label among them
    rows: Callable[[EngineClient, Listing], Awaitable[list[dict[str, Any]]]]
    inspect: Callable[[EngineClient, str], Awaitable[dict[str, Any]]]
    summary: Callable[[dict[str, Any]], Facts]
    remove: Callable[[EngineClient, str, bool], Awaitable[Removed]]
    prune: Callable[[EngineClient, bool, list[str]], Awaitable[Removed]]  # (all unused?, labels)


def register_kind(router: web.UrlDispatcher, kind: Kind) -> None:
    one = f"/ui/api/hosts/{{host}}/{kind.name}"

    async def show_page(request: web.Request) -> web.Response:
        return page(request, f"{kind.name}.html", title=kind.title, kind=kind.name)

    async def list_all(request: web.Request) -> web.Response:
        """Each selected host's objects, a row each naming its host; hosts that failed are listed
        with their error beside the rows of those that answered."""
        listing = list_request(request.query, kind.filters)
        hosts = visible_hosts(request, [h for h in request.query.getall("host", []) if h])

        async def rows_of(client: EngineClient) -> list[dict[str, Any]]:
            return await kind.rows(client, listing)

        outcomes = await on_hosts(request, hosts, rows_of)
        rows = [{**row, "Host": o.host} for o in outcomes if o.error is None for row in o.value]
        return web.json_response({"rows": rows, "hosts": [o.json() for o in outcomes]})

    async def inspect(request: web.Request) -> web.Response:
        ref = request.query.get("ref", "").strip()
        if not ref:
            raise BadParameter("ref", "which one? (ref=name or id)")
        async with engine(request, request.match_info["host"]) as client:
            info = await kind.inspect(client, ref)
        return web.json_response({"summary": kind.summary(info), "raw": info})

    async def remove(request: web.Request) -> web.Response:
        ref, force = remove_request(await _json_body(request))
        async with engine(request, request.match_info["host"]) as client:
            done = await kind.remove(client, ref, force)
        return web.json_response(done.json())

    async def prune(request: web.Request) -> web.Response:
        everything, labels = prune_request(await _json_body(request), kind.filters)
        async with engine(request, request.match_info["host"]) as client:
            done = await kind.prune(client, everything, labels)
        return web.json_response(done.json())

    router.add_get(f"/ui/{kind.name}", show_page)
    router.add_get(f"/ui/api/{kind.name}", _checked(list_all))
    router.add_get(f"{one}/inspect", _checked(inspect))
    router.add_post(f"{one}/remove", _checked(remove))
    router.add_post(f"{one}/prune", _checked(prune))


Handler = Callable[[web.Request], Awaitable[web.Response]]


def _checked(handler: Handler) -> Handler:
    """A :class:`BadParameter` (in the request, or a name the engine would misread) is a 400 naming
    it, before any engine is asked."""

    async def checked(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except BadParameter as exc:
            return web.json_response({"message": str(exc), "param": exc.param}, status=400)

    return checked


def list_request(params: Any, known: Mapping[str, Check]) -> Listing:
    """The page's filter controls (each a repeatable query parameter named as the engine's filter)
    and ``size``; :class:`BadParameter` for a value the engine would reject or ignore."""
    filters: dict[str, list[str]] = {}
    for key in known:
        values = [v.strip() for v in params.getall(key, []) if v.strip()]
        if values:
            filters[key] = values
    check_filters(filters, known)
    return Listing(filters, parse_bool("size", params.get("size", "")))


async def _json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise BadParameter("body", "expected a JSON object") from None


def remove_request(body: Any) -> tuple[str, bool]:
    """``{"ref": ..., "force": false}``: what to remove, and whether to force it."""
    if not isinstance(body, dict) or not isinstance(body.get("ref"), str) or not body["ref"].strip():
        raise BadParameter("ref", 'expected {"ref": "name or id", "force": false}')
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise BadParameter("force", "expected true or false")
    return body["ref"].strip(), force


def prune_request(body: Any, known: Mapping[str, Check]) -> tuple[bool, list[str]]:
    """``{"all": false, "label": "key=value"}``: every unused object or only the kind's narrow set
    (dangling images, anonymous volumes), and optionally only those with a label."""
    if not isinstance(body, dict):
        raise BadParameter("body", 'expected {"all": false, "label": ""}')
    everything, label = body.get("all", False), body.get("label") or ""
    if not isinstance(everything, bool):
        raise BadParameter("all", "expected true or false")
    if not isinstance(label, str):
        raise BadParameter("label", "expected key or key=value")
    labels = [label.strip()] if label.strip() else []
    check_filters({"label": labels} if labels else {}, known)
    return everything, labels


def filters_param(filters: Mapping[str, list[str]]) -> dict[str, str]:
    """The engine's ``filters`` query parameter; none at all when there is nothing to filter on."""
    return {"filters": json.dumps(filters)} if filters else {}


async def all_containers(client: EngineClient) -> list[dict[str, Any]] | None:
    """Every container of the host, for the "used by" columns; None when this user may not list
    them (a custom role may grant images but not containers): the objects are listed regardless."""
    try:
        return await client.containers(ContainerListQuery(all=True))
    except EngineAPIError as exc:
        if exc.status == 403:
            return None
        raise


def container_name(container: Mapping[str, Any]) -> str:
    names = container.get("Names") or []
    return names[0].lstrip("/") if names else str(container.get("Id", ""))[:12]


def used_by(containers: list[dict[str, Any]] | None,
            keys: Callable[[dict[str, Any]], Iterable[str]]) -> Callable[[str], list[str] | None]:
    """For each object key, the names of the containers using it (``keys`` says which a container
    uses); None for every key when the containers are not known."""
    if containers is None:
        return lambda _key: None
    users: dict[str, list[str]] = {}
    for container in containers:
        for key in dict.fromkeys(keys(container)):
            users.setdefault(key, []).append(container_name(container))
    return lambda key: sorted(users.get(key, []))


def unix_time(text: str | None) -> float | None:
    """An engine's RFC 3339 time (nanoseconds and all) in unix seconds, as image lists give them."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def joined(values: Iterable[Any] | None) -> str:
    return ", ".join(str(v) for v in values or [] if v not in (None, ""))


def key_values(mapping: Mapping[str, Any] | None) -> str:
    return joined(f"{k}={v}" for k, v in sorted((mapping or {}).items()))


def size_text(n: int | None) -> str:
    """Bytes in decimal units, as docker shows them ("5.1 MB")."""
    if n is None or n < 0:
        return ""
    value, unit = float(n), "B"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            break
        value /= 1000
    return f"{n} B" if unit == "B" else f"{value:.3g} {unit}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
