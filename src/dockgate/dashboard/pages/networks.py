"""The networks of every host the user may see, with the containers attached to each; inspect,
remove and prune (every network no container uses)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from aiohttp import web

from dockgate.dashboard.pages.resources import (
    Facts,
    Kind,
    Listing,
    Removed,
    all_containers,
    filters_param,
    joined,
    key_values,
    plural,
    register_kind,
    unix_time,
    used_by,
)
from dockgate.engines.client import EngineClient
from dockgate.engines.filters import NETWORK_FILTERS

# Every engine has them and refuses to remove them: the page offers no remove for these.
PREDEFINED = frozenset({"bridge", "host", "none"})


async def list_networks(client: EngineClient, listing: Listing) -> list[dict[str, Any]]:
    networks, containers = await asyncio.gather(client.networks(listing.filters), all_containers(client))
    return network_rows(networks, containers)


def network_rows(networks: list[dict[str, Any]],
                 containers: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A row per network; its containers are counted from the container list, stopped ones too
    (they keep a network from being pruned). A stopped container's network has no id, only its
    name (the key of the container's network map)."""
    users = used_by(containers, lambda c: [n.get("NetworkID") or f"name:{name}" for name, n in
                                           ((c.get("NetworkSettings") or {}).get("Networks") or {}).items()])
    rows = []
    for n in networks:
        by_id, by_name = users(n["Id"]), users(f"name:{n.get('Name')}") or []
        ipam = (n.get("IPAM") or {}).get("Config") or []
        rows.append({"Id": n["Id"], "Ref": n["Id"], "Name": n.get("Name") or "",
                     "Driver": n.get("Driver") or "", "Scope": n.get("Scope") or "",
                     "Created": unix_time(n.get("Created")),
                     "Subnets": [c["Subnet"] for c in ipam if c.get("Subnet")],
                     "Internal": bool(n.get("Internal")), "Labels": n.get("Labels") or {},
                     "UsedBy": None if by_id is None else sorted({*by_id, *by_name}),
                     "Predefined": n.get("Name") in PREDEFINED})
    return rows


async def inspect_network(client: EngineClient, ref: str) -> dict[str, Any]:
    info: dict[str, Any] = await client.call("GET", f"networks/{quote(ref, safe='')}")
    return info


def network_facts(info: dict[str, Any]) -> Facts:
    subnets = [c["Subnet"] + (f" via {c['Gateway']}" if c.get("Gateway") else "")
               for c in (info.get("IPAM") or {}).get("Config") or [] if c.get("Subnet")]
    attached = [f"{c.get('Name')} ({c.get('IPv4Address') or 'no address'})"
                for c in (info.get("Containers") or {}).values()]
    return [
        ("Id", info.get("Id") or ""),
        ("Name", info.get("Name") or ""),
        ("Driver", info.get("Driver") or ""),
        ("Scope", info.get("Scope") or ""),
        ("Created", info.get("Created") or ""),
        ("Subnets", joined(subnets)),
        ("Internal", _yes(info.get("Internal"))),
        ("Attachable", _yes(info.get("Attachable"))),
        ("IPv6", _yes(info.get("EnableIPv6"))),
        ("Options", key_values(info.get("Options"))),
        ("Labels", key_values(info.get("Labels"))),
        ("Running containers", joined(attached) or "none"),
    ]


def _yes(value: Any) -> str:
    return "yes" if value else "no"


async def remove_network(client: EngineClient, ref: str, force: bool) -> Removed:
    """``docker network rm`` (the engine has no forced removal of networks: ``force`` is ignored)."""
    await client.call("DELETE", f"networks/{quote(ref, safe='')}")
    return Removed([f"removed: {ref}"], "network removed")


async def prune_networks(client: EngineClient, everything: bool, labels: list[str]) -> Removed:
    """``docker network prune``: every network no container uses (there is no narrower set)."""
    filters = {"label": labels} if labels else {}
    answer = await client.call("POST", "networks/prune", params=filters_param(filters))
    names = answer.get("NetworksDeleted") or []
    return Removed([f"removed: {n}" for n in names], f"{plural(len(names), 'network')} removed")


NETWORKS = Kind("networks", "Networks", NETWORK_FILTERS, list_networks, inspect_network, network_facts,
                remove_network, prune_networks)


def register(router: web.UrlDispatcher) -> None:
    register_kind(router, NETWORKS)
