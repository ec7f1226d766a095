"""The containers of every host in one list: the seed's list parameters as controls, bulk actions,
and a stream of the engines' container events that keeps the list current without reloading."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from dockgate.dashboard.engine_calls import engine, on_hosts, status_of, visible_hosts
from dockgate.dashboard.render import page
from dockgate.engines.client import EngineClient
from dockgate.engines.container_query import BadParameter, ContainerListQuery, parse_bool
from dockgate.engines.errors import EngineError
from dockgate.engines.filters import CONTAINER_FILTERS, check_filters

# What a row needs; the rest of an engine's listing (mounts, network settings) stays on the host.
ROW_FIELDS = ("Id", "Names", "Image", "Command", "Created", "State", "Status", "Ports", "Labels",
              "SizeRw", "SizeRootFs")
ACTIONS = {"start": "ContainerStart", "stop": "ContainerStop", "restart": "ContainerRestart",
           "kill": "ContainerKill", "pause": "ContainerPause", "unpause": "ContainerUnpause",
           "remove": "ContainerDelete"}
PARALLEL_ACTIONS = 8


def register(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/containers", containers_page)
    router.add_get("/ui/api/containers", list_containers)
    router.add_post("/ui/api/containers/action", bulk_action)


async def containers_page(request: web.Request) -> web.Response:
    return page(request, "containers.html", title="Containers")


def list_query(params: Any) -> ContainerListQuery:
    """The seed's parameters (all, limit, since, before, size) and the filters the page offers;
    :class:`BadParameter` names the one that is wrong."""
    filters: dict[str, list[str]] = {}
    for name in ("status", "exited", "label", "name", "ancestor", "network", "volume", "health"):
        values = [v.strip() for v in params.getall(name, []) if v.strip()]
        if values:
            try:
                check_filters({name: values}, CONTAINER_FILTERS)
            except BadParameter as exc:  # named after the control, not the engine's "filters"
                raise BadParameter(name, str(exc).split(": ", 2)[-1]) from None
            filters[name] = values
    limit_text = params.get("limit", "").strip()
    try:
        limit = int(limit_text) if limit_text else None
    except ValueError:
        raise BadParameter("limit", f"{limit_text!r} is not a whole number") from None
    return ContainerListQuery(all=parse_bool("all", params.get("all", "")), limit=limit,
                              since=params.get("since", "").strip() or None,
                              before=params.get("before", "").strip() or None,
                              size=parse_bool("size", params.get("size", "")), filters=filters)


async def list_containers(request: web.Request) -> web.Response:
    """Every selected host's containers, each row naming its host; hosts that failed are listed
    with their error beside the rows of those that answered."""
    try:
        query = list_query(request.query)
    except BadParameter as exc:
        return web.json_response({"message": str(exc), "param": exc.param}, status=400)
    hosts = visible_hosts(request, [h for h in request.query.getall("host", []) if h])

    async def listing(client: EngineClient) -> list[dict[str, Any]]:
        return await client.containers(query)

    outcomes = await on_hosts(request, hosts, listing)
    rows = [{**{k: c.get(k) for k in ROW_FIELDS}, "Host": o.host}
            for o in outcomes if o.error is None for c in o.value]
    return web.json_response({"containers": rows, "hosts": [o.json() for o in outcomes]},
                             dumps=_compact)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


async def bulk_action(request: web.Request) -> web.Response:
    """``{"action": "stop", "targets": [{"host": ..., "id": ...}]}``: each container on its host,
    a few at a time; every target gets its own result, so one refusal never hides the rest."""
    try:
        payload = await request.json()
        action = payload["action"]
        targets = [(str(t["host"]), str(t["id"])) for t in payload["targets"]]
    except (ValueError, KeyError, TypeError):
        return web.json_response({"message": 'expected {"action": ..., "targets": [{"host", "id"}]}'},
                                 status=400)
    if action not in ACTIONS:
        return web.json_response({"message": f"unknown action {action!r} (one of: {', '.join(ACTIONS)})"},
                                 status=400)
    limit = asyncio.Semaphore(PARALLEL_ACTIONS)

    async def one(host: str, ref: str) -> dict[str, Any]:
        async with limit:
            try:
                async with engine(request, host) as client:
                    await act(client, ref, action)
            except web.HTTPNotFound:
                return {"host": host, "id": ref, "ok": False, "error": f"no such host: {host}"}
            except EngineError as exc:
                status = status_of(exc)
                return {"host": host, "id": ref, "ok": False, "error": exc.message, "status": status}
            return {"host": host, "id": ref, "ok": True}

    results = await asyncio.gather(*(one(h, r) for h, r in targets))
    return web.json_response({"results": results})


async def act(client: EngineClient, ref: str, action: str) -> None:
    """One lifecycle action, as the docker CLI does it (remove is ``docker rm -f``: the page asks first)."""
    if action == "remove":
        await client.remove_container(ref, force=True)
    else:
        await client.container_action(ref, action)

