"""Command registration. Each module holds one command (or one small family) and a ``register``."""

from __future__ import annotations

import typer

from dockgate.cli.commands import (
    api,
    audit,
    create,
    events,
    exec,
    hosts,
    images,
    inspect,
    lifecycle,
    login,
    logs,
    networks,
    policy,
    ps,
    pull,
    serve,
    stats,
    tls,
    tokens,
    top,
    users,
    volumes,
)

MODULES = (hosts, ps, create, lifecycle, inspect, top, logs, exec, stats, events, pull, images,
           networks, volumes, api, serve, users, tokens, login, audit, policy, tls)


def register(app: typer.Typer) -> None:
    for module in MODULES:
        module.register(app)
