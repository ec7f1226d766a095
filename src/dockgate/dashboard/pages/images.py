"""The images of every host the user may see, a row per tag as ``docker images`` shows them, with the
containers using each; inspect, remove (a tag untags it, an id deletes the image) and prune."""

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
    register_kind,
    size_text,
    used_by,
)
from dockgate.engines.client import EngineClient
from dockgate.engines.errors import BadParameter
from dockgate.engines.filters import IMAGE_FILTERS

NONE = "<none>"


async def list_images(client: EngineClient, listing: Listing) -> list[dict[str, Any]]:
    images, containers = await asyncio.gather(client.images(filters=listing.filters), all_containers(client))
    return image_rows(images, containers)


def image_rows(images: list[dict[str, Any]], containers: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A row per tag, each removable by that tag without touching the others; an untagged image
    once, under its digests' repositories, removable by id."""
    users = used_by(containers, lambda c: [c.get("ImageID") or ""])
    rows = []
    for image in images:
        tags = [t for t in image.get("RepoTags") or [] if t != "<none>:<none>"]
        common = {"Id": image["Id"], "Size": image.get("Size"), "Created": image.get("Created"),
                  "UsedBy": users(image["Id"]), "Dangling": not tags, "Labels": image.get("Labels") or {}}
        for tag in tags:
            repository, _, name = tag.rpartition(":")
            rows.append({**common, "Ref": tag, "Repository": repository, "Tag": name})
        if not tags:
            repositories = dict.fromkeys(d.partition("@")[0] for d in image.get("RepoDigests") or []
                                         if d != "<none>@<none>")
            rows.append({**common, "Ref": image["Id"], "Repository": joined(repositories) or NONE,
                         "Tag": NONE})
    return rows


def image_path(ref: str) -> str:
    """``ref`` in a URL path as the docker CLI writes it: slashes and colons kept (the engine reads an
    image name across segments), the rest escaped. Segments a URL parser would fold (``..``, empty)
    are refused, so the path the gateway judges is the path the engine acts on."""
    if any(part in ("", ".", "..") for part in ref.split("/")):
        raise BadParameter("ref", f"{ref!r} is not an image name or id")
    return quote(ref, safe="/:@")


async def inspect_image(client: EngineClient, ref: str) -> dict[str, Any]:
    info: dict[str, Any] = await client.call("GET", f"images/{image_path(ref)}/json")
    return info


def image_facts(info: dict[str, Any]) -> Facts:
    config = info.get("Config") or {}
    platform = (info.get("Os"), info.get("Architecture"), info.get("Variant"))
    return [
        ("Id", info.get("Id") or ""),
        ("Tags", joined(info.get("RepoTags")) or NONE),
        ("Digests", joined(info.get("RepoDigests"))),
        ("Created", info.get("Created") or ""),
        ("Size", size_text(info.get("Size"))),
        ("Platform", "/".join(p for p in platform if p)),
        ("Command", " ".join([*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])])),
        ("Working dir", config.get("WorkingDir") or "/"),
        ("User", config.get("User") or "root"),
        ("Ports", joined(sorted(config.get("ExposedPorts") or {}))),
        ("Volumes", joined(sorted(config.get("Volumes") or {}))),
        ("Labels", key_values(config.get("Labels"))),
        ("Layers", str(len((info.get("RootFS") or {}).get("Layers") or []))),
        ("Author", info.get("Author") or ""),
        ("Comment", info.get("Comment") or ""),
    ]


async def remove_image(client: EngineClient, ref: str, force: bool) -> Removed:
    return removal(await client.call("DELETE", f"images/{image_path(ref)}", params={"force": force}))


async def prune_images(client: EngineClient, everything: bool, labels: list[str]) -> Removed:
    """``docker image prune``: dangling images, or with ``everything`` all that no container uses."""
    filters = {"dangling": ["false" if everything else "true"], **({"label": labels} if labels else {})}
    answer = await client.call("POST", "images/prune", params=filters_param(filters))
    return removal(answer.get("ImagesDeleted"), answer.get("SpaceReclaimed"))


def removal(entries: list[dict[str, str]] | None, reclaimed: int | None = None) -> Removed:
    """The engine's ``[{"Untagged": ...}, {"Deleted": ...}]`` as the docker CLI prints it."""
    lines = [f"{kind.lower()}: {value}" for entry in entries or [] for kind, value in entry.items()]
    untagged = sum(1 for entry in entries or [] if "Untagged" in entry)
    deleted = sum(1 for entry in entries or [] if "Deleted" in entry)
    summary = f"{untagged} untagged, {deleted} deleted" if lines else "nothing to remove"
    return Removed(lines, summary, reclaimed)


IMAGES = Kind("images", "Images", IMAGE_FILTERS, list_images, inspect_image, image_facts, remove_image,
              prune_images)


def register(router: web.UrlDispatcher) -> None:
    register_kind(router, IMAGES)

