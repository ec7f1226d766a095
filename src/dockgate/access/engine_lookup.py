"""The gatekeeper's questions to engines (whose labels does this container carry, which container
does this exec run in), asked over the gateway's own pooled engine connections."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from dockgate.engines.wire import EngineWire


def labels_of(container: Mapping[str, Any]) -> Mapping[str, str]:
    labels = (container.get("Config") or {}).get("Labels") or {}
    return labels if isinstance(labels, dict) else {}


class WireLookup:
    def __init__(self, wires: Mapping[str, EngineWire]) -> None:
        self.wires = wires

    async def container(self, host: str, ref: str) -> Mapping[str, Any] | None:
        status, body = await self._get(host, f"/containers/{quote(ref, safe='')}/json")
        return body if status == 200 and isinstance(body, dict) else None

    async def container_labels(self, host: str, ref: str) -> Mapping[str, str] | None:
        found = await self.container(host, ref)
        return labels_of(found) if found is not None else None

    async def containers_in_scope(self, host: str, scope: Mapping[str, str]) -> set[str]:
        labels = [f"{k}={v}" for k, v in sorted(scope.items())]
        query = urlencode({"all": "1", "filters": json.dumps({"label": labels})})
        status, body = await self._get(host, f"/containers/json?{query}")
        if status != 200 or not isinstance(body, list):
            return set()
        return {c["Id"] for c in body if isinstance(c, dict) and isinstance(c.get("Id"), str)}

    async def volume(self, host: str, name: str) -> Mapping[str, Any] | None:
        status, body = await self._get(host, f"/volumes/{quote(name, safe='')}")
        return body if status == 200 and isinstance(body, dict) else None

    async def exec_container(self, host: str, exec_id: str) -> str | None:
        status, body = await self._get(host, f"/exec/{quote(exec_id, safe='')}/json")
        if status != 200 or not isinstance(body, dict):
            return None
        container = body.get("ContainerID")
        return container if isinstance(container, str) else None

    async def _get(self, host: str, target: str) -> tuple[int, object]:
        """Raises EngineError when the engine cannot answer: that is a 502, not a "no such"."""
        wire = self.wires.get(host)
        if wire is None:
            return 404, None
        return await wire.get_json(target)
