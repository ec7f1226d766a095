"""The hosts a command can address: configured ones plus the docker CLI's default engine."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dockgate.config.file import ConfigError, ConfigFile
from dockgate.engines.discovery import default_endpoint
from dockgate.engines.endpoint import Endpoint, EndpointError


@dataclass(frozen=True)
class HostBook:
    """Every known engine by name, and which one is used when none is named."""

    endpoints: dict[str, Endpoint]
    default: str
    implicit: str | None  # the name of the discovered (not configured) host, if listed

    @classmethod
    def build(cls, config: ConfigFile, env: Mapping[str, str] | None = None) -> HostBook:
        endpoints: dict[str, Endpoint] = {}
        for name, entry in config.hosts.items():
            try:
                endpoints[name] = entry.endpoint(name)
            except EndpointError as exc:
                raise ConfigError(f"hosts.{name}: {exc}") from exc
        implicit = None
        try:
            discovered = default_endpoint(env, require_socket=bool(endpoints))
        except EndpointError:
            discovered = None
        if discovered is not None and discovered.name not in endpoints:
            endpoints = {discovered.name: discovered, **endpoints}
            implicit = discovered.name
        default = config.default_host or (implicit if implicit else next(iter(endpoints), "default"))
        return cls(endpoints, default, implicit)

    def select(self, names: Iterable[str] = (), *, all_hosts: bool = False) -> list[Endpoint]:
        names = list(names)
        if all_hosts:
            return list(self.endpoints.values())
        if not names:
            names = [self.default]
        unknown = [n for n in names if n not in self.endpoints]
        if unknown:
            known = ", ".join(self.endpoints) or "none"
            raise ConfigError(f"unknown host {unknown[0]!r} (known hosts: {known}); "
                              "add it with 'dockgate hosts add NAME URL'")
        return [self.endpoints[n] for n in dict.fromkeys(names)]
