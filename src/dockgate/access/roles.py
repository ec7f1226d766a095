"""Roles: named sets of Engine API operations a caller may perform, built in or from the config file.

A role grants operations by the Engine API's own names (``operations.json``, from the specs), so a custom
role reads like the API reference. What a role grants is only the first question: the policy layer still
checks the bodies of what it lets through (binds, privileged, host namespaces, build network mode, ...).

Built-in roles, and why:

- ``viewer`` reads the engine's state and never its files: lists, inspect, logs, top, stats, changes
  (file *names* a container changed, like ``docker diff``), events, ping/version/info and system df, for
  containers, execs, images, networks and volumes. Not archive download or its HEAD probe
  (``docker cp`` reads files), container export or image save (whole filesystems), attach (it carries
  stdin), and nothing that makes the engine contact a registry (search, distribution inspect, auth).
  Swarm, plugins, secrets and configs are left out on purpose: ``GET /swarm`` answers the join tokens,
  which make a node of the cluster, and configs hold file contents.
- ``operator`` runs workloads on one engine, as a demanding ops team expects of ``docker`` and
  ``docker compose``: everything ``viewer`` has, plus the container lifecycle (create, start, stop,
  restart, kill, pause, unpause, wait, rename, update, remove, resize, attach, attach over WebSocket),
  exec (create, start, resize), ``docker cp`` both ways and export (exec can read every file anyway),
  images (pull and import, tag, push, remove, commit, save, load, search, registry login check),
  networks and volumes (create, remove, connect, disconnect: compose needs them; the policy layer checks
  drivers and bind options), and builds through ``POST /build`` with its ``/session`` (the policy layer
  checks host networking). Not the prune calls, which remove what others own in one sweep; not swarm,
  nodes, services, tasks, secrets, configs or plugins (cluster-wide or host-level power); not cluster
  volume update; and not ``POST /grpc``, BuildKit's gRPC control API over a hijacked connection:
  nothing in it can be inspected (builds with any entitlement, cache prune), so it is for ``admin``, or
  a custom role that names ``Grpc`` (buildx with the docker driver needs it).
- ``admin`` may do everything, including routes the table does not know (debug, experimental
  checkpoints, future API routes): ``allows_unmatched``.

Custom roles come from the config file, ``include`` other roles (built-in or custom; including
``admin`` brings its ``allows_unmatched``) and add ``operations``::

    [roles.deployer]
    include = ["viewer"]
    operations = ["ContainerCreate", "ContainerStart", "ImageCreate"]
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, field_validator

from dockgate.access.operations import Operation, all_operations

_ROLE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")


class RoleError(ValueError):
    """A role in the configuration cannot be used; the message names the role and what to change."""


@dataclass(frozen=True)
class Role:
    name: str
    operations: frozenset[str]
    allows_unmatched: bool = False  # requests no route of the table matches (see operations.match)

    def allows(self, operation: Operation | None) -> bool:
        """Whether a matched request (None: no route matched) is granted by this role."""
        if operation is None:
            return self.allows_unmatched
        return operation.name in self.operations


VIEWER = Role("viewer", frozenset({
    "SystemPing", "SystemPingHead", "SystemVersion", "SystemInfo", "SystemEvents", "SystemDataUsage",
    "ContainerList", "ContainerInspect", "ContainerLogs", "ContainerTop", "ContainerStats",
    "ContainerChanges",
    "ExecInspect",
    "ImageList", "ImageInspect", "ImageHistory", "ImageAttestations",
    "NetworkList", "NetworkInspect",
    "VolumeList", "VolumeInspect",
}))

OPERATOR = Role("operator", VIEWER.operations | {
    "ContainerCreate", "ContainerStart", "ContainerStop", "ContainerRestart", "ContainerKill",
    "ContainerPause", "ContainerUnpause", "ContainerWait", "ContainerRename", "ContainerUpdate",
    "ContainerDelete", "ContainerResize", "ContainerAttach", "ContainerAttachWebsocket",
    "ContainerArchive", "ContainerArchiveInfo", "PutContainerArchive", "ContainerExport",
    "ContainerExec", "ExecStart", "ExecResize",
    "ImageCreate", "ImageTag", "ImagePush", "ImageDelete", "ImageCommit", "ImageGet", "ImageGetAll",
    "ImageLoad", "ImageSearch", "DistributionInspect", "SystemAuth",
    "ImageBuild", "BuildCancel", "Session",
    "NetworkCreate", "NetworkDelete", "NetworkConnect", "NetworkDisconnect",
    "VolumeCreate", "VolumeDelete",
})

ADMIN = Role("admin", all_operations(), allows_unmatched=True)

BUILT_IN: Mapping[str, Role] = {role.name: role for role in (VIEWER, OPERATOR, ADMIN)}


def _suggestion(name: str, choices: frozenset[str] | Mapping[str, object]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class RoleConfig(BaseModel):
    """``[roles.NAME]`` in the config file: operations granted, and roles whose grants are included."""

    model_config = ConfigDict(extra="forbid")

    include: list[str] = []
    operations: list[str] = []

    @field_validator("operations")
    @classmethod
    def _known(cls, operations: list[str]) -> list[str]:
        known = all_operations()
        for name in operations:
            if name not in known:
                raise ValueError(f"unknown operation {name!r}{_suggestion(name, known)} "
                                 "(names are the Engine API's operationIds, e.g. 'ContainerList')")
        return operations


def resolve_roles(config: Mapping[str, RoleConfig]) -> dict[str, Role]:
    """The built-in roles and the configured ones, includes expanded; raises :class:`RoleError`."""
    for name in config:
        if name in BUILT_IN:
            raise RoleError(f"roles.{name}: {name!r} is a built-in role and cannot be redefined; "
                            f'choose another name (it may include = ["{name}"])')
        if not _ROLE_NAME.fullmatch(name):
            raise RoleError(f"roles.{name}: a role name is 1-64 lower-case letters, digits, '-' or '_', "
                            "starting with a letter")
    roles: dict[str, Role] = dict(BUILT_IN)

    def resolve(name: str, chain: tuple[str, ...]) -> Role:
        if name in roles:
            return roles[name]
        if name in chain:
            cycle = " -> ".join((*chain[chain.index(name):], name))
            raise RoleError(f"roles.{name}: include forms a cycle ({cycle}); remove one of these includes")
        entry = config[name]
        operations = set(entry.operations)
        allows_unmatched = False
        for included in entry.include:
            if included not in roles and included not in config:
                raise RoleError(f"roles.{name}.include: no role {included!r}"
                                f"{_suggestion(included, {**BUILT_IN, **config})}")
            base = resolve(included, (*chain, name))
            operations |= base.operations
            allows_unmatched |= base.allows_unmatched
        roles[name] = Role(name, frozenset(operations), allows_unmatched)
        return roles[name]

    for name in config:
        resolve(name, ())
    return roles
