"""What the dashboard's handlers share: the gateway's access layer, the store, and its settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from dockgate.access.audit import AuditLog
from dockgate.access.gatekeeper import Gatekeeper
from dockgate.gateway.server import Gateway
from dockgate.store.database import Store


@dataclass
class Services:
    gateway: Gateway
    store: Store
    api_socket: Path  # the gateway's private socket, where the dashboard's engine calls go
    session_lifetime: timedelta = timedelta(hours=12)
    api_versions: dict[str, str] = field(default_factory=dict)  # per host, as learnt ("v1.41")

    @property
    def gatekeeper(self) -> Gatekeeper:
        return self.gateway.gatekeeper

    @property
    def audit(self) -> AuditLog:
        return self.gateway.audit

    @property
    def hosts(self) -> list[str]:
        return list(self.gateway.wires)


SERVICES = web.AppKey("services", Services)


def services(request: web.Request) -> Services:
    return request.app[SERVICES]
