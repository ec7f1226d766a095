"""The hosts overview (the dashboard's home): each engine's state, version, containers, capacity and
disk use. The page draws at once and each host's card fills in on its own, so an unreachable host
shows as such without holding up the others."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dockgate.dashboard.auth import SESSION
from dockgate.dashboard.engine_calls import engine, visible_hosts
from dockgate.dashboard.render import page
from dockgate.dashboard.services import services


def register(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/", overview)
    router.add_get("/ui/api/hosts", host_names)
    router.add_get("/ui/api/hosts/{host}", host_state)
    router.add_get("/ui/api/hosts/{host}/df", disk_use)


async def overview(request: web.Request) -> web.Response:
    return page(request, "hosts.html", title="Hosts")


async def host_names(request: web.Request) -> web.Response:
    srv = services(request)
    identity = request[SESSION].identity
    return web.json_response([{"name": h, "default": h == srv.gateway.default_host,
                               "may": sorted(srv.gatekeeper.operations_on(identity, h))}
                              for h in visible_hosts(request)])


async def host_state(request: web.Request) -> web.Response:
    host = request.match_info["host"]
    async with engine(request, host) as client:
        version = await client.version()
        info = await client.info()
    return web.json_response(summary(host, version, info,
                                     services(request).gateway.book.endpoints[host].display()))


def summary(host: str, version: dict[str, Any], info: dict[str, Any], url: str) -> dict[str, Any]:
    """What a host's card shows, from ``GET /version`` and ``GET /info``."""
    return {
        "name": host, "url": url, "version": version.get("Version"), "api": version.get("ApiVersion"),
        "os": info.get("OperatingSystem"), "kernel": info.get("KernelVersion"),
        "arch": info.get("Architecture"), "cpus": info.get("NCPU"), "memory": info.get("MemTotal"),
        "containers": {"running": info.get("ContainersRunning", 0), "paused": info.get("ContainersPaused", 0),
                       "stopped": info.get("ContainersStopped", 0)},
        "images": info.get("Images", 0), "storage_driver": info.get("Driver"),
        "swarm": (info.get("Swarm") or {}).get("LocalNodeState") or "inactive",
        "warnings": info.get("Warnings") or [],
    }


async def disk_use(request: web.Request) -> web.Response:
    """``GET /system/df`` summed per kind: it can take seconds on a host with many volumes."""
    async with engine(request, request.match_info["host"]) as client:
        return web.json_response(disk_summary(await client.call("GET", "system/df")))


def disk_summary(df: dict[str, Any]) -> dict[str, int]:
    def total(items: list[dict[str, Any]] | None, key: str) -> int:
        return sum(max(0, int(item.get(key) or 0)) for item in items or [])

    return {"images": int(df.get("LayersSize") or 0),
            "containers": total(df.get("Containers"), "SizeRw"),
            "volumes": sum(max(0, int((v.get("UsageData") or {}).get("Size") or 0))
                           for v in df.get("Volumes") or []),
            "build_cache": total(df.get("BuildCache"), "Size")}
