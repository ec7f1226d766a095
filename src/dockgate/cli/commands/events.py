"""``dockgate events``: the engines' event stream, printed like ``docker events``.

Several hosts are followed at once and their lines interleave as events arrive, each prefixed with
its host. Filters are checked before sending: the engine silently accepts filter keys and types it
does not know, which would turn a typo into a stream that never shows anything.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from typing import Annotated, Any

import typer

from dockgate.cli import output, session
from dockgate.engines.client import EngineClient
from dockgate.engines.endpoint import Endpoint
from dockgate.engines.errors import EngineError
from dockgate.engines.filters import EVENT_FILTERS, filters_from_args
from dockgate.engines.time_values import to_engine_time


def register(app: typer.Typer) -> None:
    app.command("events")(events)


def events(
    since: Annotated[str | None, typer.Option(help="Show events from this time on: RFC 3339 date, "
                                              "unix seconds, or a duration before now (10m).")] = None,
    until: Annotated[str | None, typer.Option(help="Stop at this time (same forms); without it, "
                                              "follow until Ctrl-C.")] = None,
    filter: Annotated[list[str] | None, typer.Option(
        "--filter", "-f", metavar="KEY=VALUE", help="Filter (container, image, event, type, label, network, "
        "volume, daemon, plugin, scope, ...); repeatable.")] = None,
    fmt: Annotated[output.Format, typer.Option("--format", help="table (one line per event) or json "
                                               "(one object per line)")] = output.Format.table,
    host: session.HostOpt = None,
    all_hosts: session.AllHostsOpt = False,
) -> None:
    """Stream events (container start, image pull, network connect, ...) of one host or many."""
    filters = filters_from_args(filter or [], EVENT_FILTERS)
    engine_since = to_engine_time(since, param="since") if since else None
    engine_until = to_engine_time(until, param="until") if until else None
    chosen = session.endpoints(host, all_hosts)
    try:
        failed = session.run(_follow_all(chosen, engine_since, engine_until, filters, fmt))
    except KeyboardInterrupt:
        return  # Ctrl-C is the normal end of an open-ended stream
    if failed == len(chosen):
        raise typer.Exit(1)


async def _follow_all(endpoints: list[Endpoint], since: str | None, until: str | None,
                      filters: dict[str, list[str]], fmt: output.Format) -> int:
    """Follow every host until its stream ends; the number of hosts that failed."""
    prefix = len(endpoints) > 1

    async def follow(endpoint: Endpoint) -> bool:
        try:
            async with EngineClient(endpoint) as engine:
                async for event in engine.events(since=since, until=until, filters=filters):
                    _print(event, endpoint.name, prefix, fmt)
        except EngineError as exc:
            if not prefix:
                raise
            output.error(f"host {endpoint.name} is down: {exc.message}")
            return False
        return True

    done = await asyncio.gather(*(follow(e) for e in endpoints))
    return done.count(False)


def _print(event: dict[str, Any], host: str, prefix: bool, fmt: output.Format) -> None:
    if fmt is output.Format.json:
        line = json.dumps({**event, "host": host})
    else:
        line = _format_event(event)
        if prefix:
            line = f"{host} {line}"
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _format_event(event: dict[str, Any]) -> str:
    """``docker events``' line: local time with nanoseconds, type, action, actor id, attributes."""
    actor = event.get("Actor") or {}
    parts = [_timestamp(event), event.get("Type", ""), event.get("Action", ""), actor.get("ID", "")]
    line = " ".join(p for p in parts if p)
    attributes = actor.get("Attributes") or {}
    if attributes:
        line += " (" + ", ".join(f"{k}={attributes[k]}" for k in sorted(attributes)) + ")"
    return line


def _timestamp(event: dict[str, Any]) -> str:
    nanos = event.get("timeNano") or int(event.get("time") or 0) * 1_000_000_000
    if not nanos:
        return ""
    moment = datetime.fromtimestamp(nanos // 1_000_000_000).astimezone()
    offset = moment.strftime("%z")
    zone = "Z" if offset == "+0000" else f"{offset[:3]}:{offset[3:]}"
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{nanos % 1_000_000_000:09d}{zone}"
