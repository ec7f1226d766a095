"""The TOML configuration file: where it is, what it may hold, and reading and writing it.

```toml
default_host = "prod"

[hosts.prod]
url = "tcp://10.0.0.5:2376"
tls_ca = "/etc/dockgate/prod/ca.pem"
tls_cert = "/etc/dockgate/prod/cert.pem"
tls_key = "/etc/dockgate/prod/key.pem"

[store]
url = "postgresql://dockgate:secret@db.internal/dockgate"   # default: a SQLite file
```
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dockgate.access.body import DEFAULT_LIMIT
from dockgate.access.policy_table import PolicyEntry, PolicyTable
from dockgate.access.roles import Role, RoleConfig, RoleError, resolve_roles
from dockgate.engines.endpoint import (
    Endpoint,
    EndpointError,
    TLSMaterial,
    validate_name,
    validate_url,
)
from dockgate.store.url import ENV_VAR as STORE_ENV_VAR
from dockgate.store.url import StoreURLError, default_url, normalize_url

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

ENV_VAR = "DOCKGATE_CONFIG"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file and the setting."""


class HostEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_verify: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            validate_url(value)
        except EndpointError as exc:
            raise ValueError(str(exc)) from None
        return value

    def endpoint(self, name: str) -> Endpoint:
        tls = None
        if self.tls_ca or self.tls_cert or self.tls_key or self.url.startswith("https://"):
            tls = TLSMaterial(self.tls_ca, self.tls_cert, self.tls_key, self.tls_verify)
        return Endpoint(name, self.url, tls)


class GatewaySettings(BaseModel):
    """``[gateway]``: where ``dockgate serve`` listens. Flags of ``serve`` override these."""

    model_config = ConfigDict(extra="forbid")

    listen: str | None = "127.0.0.1:6732"
    unix_socket: Path | None = Path("/run/dockgate/docker.sock")
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    insecure_plaintext: bool = False
    shutdown_grace: float = 10.0

    @field_validator("listen", "unix_socket", mode="before")
    @classmethod
    def _empty_is_off(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _tls_pair(self) -> GatewaySettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if self.tls_client_ca and not self.tls_cert:
            raise ValueError("tls_client_ca needs tls_cert and tls_key")
        return self


class StoreSettings(BaseModel):
    """``[store]``: where users, tokens and audit records live. ``$DOCKGATE_STORE_URL`` overrides."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                normalize_url(value)
            except StoreURLError as exc:
                raise ValueError(str(exc)) from None
        return value

    def resolved_url(self, env: Mapping[str, str] | None = None) -> str:
        """``$DOCKGATE_STORE_URL``, then ``url``, then a SQLite file in ``$XDG_DATA_HOME/dockgate/``."""
        env = os.environ if env is None else env
        if env.get(STORE_ENV_VAR):
            try:
                return normalize_url(env[STORE_ENV_VAR])
            except StoreURLError as exc:
                raise ConfigError(f"{STORE_ENV_VAR}: {exc}") from None
        return normalize_url(self.url) if self.url else default_url(env)


class AccessSettings(BaseModel):
    """``[access]``: ``cert_users`` maps a TLS client certificate's subject CN to a user name, for
    certificates whose CN is not the user's name."""

    model_config = ConfigDict(extra="forbid")

    cert_users: dict[str, str] = {}
    body_limit: int = Field(default=DEFAULT_LIMIT, gt=0)
    """Largest JSON request body the gatekeeper reads and decides on (bytes); larger ones get 413."""


class AuditSettings(BaseModel):
    """``[audit]``: ``secret_patterns`` are regular expressions; a recorded request body's environment
    variables and keys whose names match one have their values replaced by ``***``. Setting them
    replaces the default ``(?i)(pass|secret|token|key|auth|credential)``."""

    model_config = ConfigDict(extra="forbid")

    secret_patterns: list[str] | None = None

    @field_validator("secret_patterns")
    @classmethod
    def _patterns(cls, value: list[str] | None) -> list[str] | None:
        for pattern in value or ():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return value


class DashboardSettings(BaseModel):
    """``[dashboard]``: the browser dashboard ``dockgate serve`` offers at ``/`` of its TCP address.
    ``session_lifetime`` bounds a sign-in (``90m``, ``12h``, ``7d``)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    session_lifetime: str = "12h"

    @field_validator("session_lifetime")
    @classmethod
    def _lifetime(cls, value: str) -> str:
        from dockgate.access.tokens import parse_lifetime

        parse_lifetime(value)
        return value


class ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_host: str | None = None
    hosts: dict[str, HostEntry] = {}
    gateway: GatewaySettings = GatewaySettings()
    store: StoreSettings = StoreSettings()
    access: AccessSettings = AccessSettings()
    audit: AuditSettings = AuditSettings()
    dashboard: DashboardSettings = DashboardSettings()
    roles: dict[str, RoleConfig] = {}
    policy: list[PolicyEntry] = []

    @model_validator(mode="after")
    def _roles_and_policy(self) -> ConfigFile:
        try:
            known = resolve_roles(self.roles)
            PolicyTable(self.policy)
        except RoleError as exc:
            raise ValueError(str(exc)) from None
        for entry in self.policy:
            if entry.role is not None and entry.role not in known:
                raise ValueError(f"policy: unknown role {entry.role!r} (roles: {', '.join(sorted(known))})")
        return self

    def resolved_roles(self) -> dict[str, Role]:
        return resolve_roles(self.roles)

    @field_validator("hosts")
    @classmethod
    def _names(cls, hosts: dict[str, HostEntry]) -> dict[str, HostEntry]:
        for name in hosts:
            try:
                validate_name(name)
            except EndpointError as exc:
                raise ValueError(str(exc)) from None
        return hosts

    @model_validator(mode="after")
    def _default_exists(self) -> ConfigFile:
        if self.default_host and self.default_host not in self.hosts and self.default_host != "default":
            raise ValueError(f"default_host {self.default_host!r} is not one of the [hosts]")
        return self


def config_path(flag: Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """Flag, then ``$DOCKGATE_CONFIG``, then ``$XDG_CONFIG_HOME/dockgate/config.toml``."""
    env = os.environ if env is None else env
    if flag is not None:
        return flag
    if env.get(ENV_VAR):
        return Path(env[ENV_VAR])
    base = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "dockgate" / "config.toml"


def load(path: Path) -> ConfigFile:
    """A missing file is an empty configuration; a broken one is a :class:`ConfigError`."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return ConfigFile()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    try:
        return ConfigFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(err) for err in exc.errors())
        raise ConfigError(f"{path}: {problems}") from exc


def save(path: Path, config: ConfigFile) -> None:
    """Write atomically, owner-only: the file may name key files and, later, secrets."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = config.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    for entry in data.get("hosts", {}).values():
        entry.setdefault("url", "")
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        tomli_w.dump(data, out)
    os.replace(tmp, path)


def _describe(err: ErrorDetails) -> str:
    where = ".".join(str(p) for p in err["loc"]) or "file"
    if err["type"] == "extra_forbidden":
        return f"{where}: unknown setting"
    return f"{where}: {str(err['msg']).removeprefix('Value error, ')}"
