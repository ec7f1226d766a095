"""The volumes of every host the user may see, with the containers using each and, when asked, their
size; inspect, remove and prune (anonymous volumes, or every unused one)."""

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
    key_values,
    plural,
    register_kind,
    size_text,
    unix_time,
    used_by,
)
from dockgate.engines.client import EngineClient
from dockgate.engines.errors import BadParameter
from dockgate.engines.filters import VOLUME_FILTERS

ANONYMOUS = "com.docker.volume.anonymous"  # the label engines put on volumes made without a name


async def list_volumes(client: EngineClient, listing: Listing) -> list[dict[str, Any]]:
    volumes, containers = await asyncio.gather(client.volumes(listing.filters), all_containers(client))
    return volume_rows(volumes, containers, await volume_sizes(client) if listing.sizes else None)


async def volume_sizes(client: EngineClient) -> dict[str, int]:
    """Each volume's size from ``GET /system/df``, asked for volumes only (engines before API 1.42
    ignore ``type`` and measure everything, which takes longer): only when the page asks."""
    df = await client.call("GET", "system/df", params={"type": "volume"})
    return {v["Name"]: (v.get("UsageData") or {}).get("Size", -1) for v in df.get("Volumes") or []}


def volume_rows(volumes: list[dict[str, Any]], containers: list[dict[str, Any]] | None,
                sizes: dict[str, int] | None) -> list[dict[str, Any]]:
    """A row per volume; "used by" from the containers' mounts, stopped containers too (they keep
    a volume from being removed or pruned). A size the engine does not know (-1) is left out."""
    users = used_by(containers, lambda c: [m.get("Name") or "" for m in c.get("Mounts") or []
                                           if m.get("Type") == "volume"])
    rows = []
    for v in volumes:
        size = (sizes or {}).get(v["Name"], -1)
        rows.append({"Id": v["Name"], "Ref": v["Name"], "Name": v["Name"], "Driver": v.get("Driver") or "",
                     "Mountpoint": v.get("Mountpoint") or "", "Scope": v.get("Scope") or "",
                     "Created": unix_time(v.get("CreatedAt")), "Labels": v.get("Labels") or {},
                     "Anonymous": ANONYMOUS in (v.get("Labels") or {}), "UsedBy": users(v["Name"]),
                     "Size": size if size >= 0 else None})
    return rows


async def inspect_volume(client: EngineClient, ref: str) -> dict[str, Any]:
    info: dict[str, Any] = await client.call("GET", f"volumes/{quote(ref, safe='')}")
    return info


def volume_facts(info: dict[str, Any]) -> Facts:
    usage = info.get("UsageData") or {}
    facts = [("Name", info.get("Name") or ""), ("Driver", info.get("Driver") or ""),
             ("Mountpoint", info.get("Mountpoint") or ""), ("Scope", info.get("Scope") or ""),
             ("Created", info.get("CreatedAt") or ""), ("Options", key_values(info.get("Options"))),
             ("Labels", key_values(info.get("Labels")))]
    if usage.get("Size", -1) >= 0:
        facts.append(("Size", size_text(usage["Size"])))
    return facts


async def remove_volume(client: EngineClient, ref: str, force: bool) -> Removed:
    await client.call("DELETE", f"volumes/{quote(ref, safe='')}", params={"force": force})
    return Removed([f"removed: {ref}"], "volume removed")


async def prune_volumes(client: EngineClient, everything: bool, labels: list[str]) -> Removed:
    """``docker volume prune``: unused anonymous volumes, or with ``everything`` named ones too."""
    version = client.api_version or await _learn_version(client)
    filters = prune_filters(everything, labels, api_version(version))
    answer = await client.call("POST", "volumes/prune", params=filters_param(filters))
    names = answer.get("VolumesDeleted") or []
    return Removed([f"removed: {n}" for n in names], f"{plural(len(names), 'volume')} removed",
                   answer.get("SpaceReclaimed"))


async def _learn_version(client: EngineClient) -> str:
    return f"v{(await client.version())['ApiVersion']}"


def api_version(text: str) -> tuple[int, int]:
    """ "v1.41" as (1, 41)."""
    major, _, minor = text.removeprefix("v").partition(".")
    return int(major), int(minor or 0)


def prune_filters(everything: bool, labels: list[str], api: tuple[int, int]) -> dict[str, list[str]]:
    """What to prune, for the API version in use. Before 1.42 the engine prunes named volumes too
    and knows no ``all`` filter, and its volumes carry no mark of being anonymous: only "every unused
    volume" can be asked of it, and anything narrower is refused rather than quietly widened."""
    if api < (1, 42) and not everything:
        raise BadParameter("all", f"an engine at API {api[0]}.{api[1]} (before 1.42) prunes named volumes "
                                  "too; choose every unused volume")
    return {**({"all": ["true"]} if everything and api >= (1, 42) else {}),
            **({"label": labels} if labels else {})}


VOLUMES = Kind("volumes", "Volumes", VOLUME_FILTERS, list_volumes, inspect_volume, volume_facts,
               remove_volume, prune_volumes)


def register(router: web.UrlDispatcher) -> None:
    register_kind(router, VOLUMES)
