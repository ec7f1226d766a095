"""``dockgate volumes``: the volumes of one host or many, like ``docker volume ls``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dockgate.cli import listing, output, session
from dockgate.engines.client import EngineClient
from dockgate.engines.filters import VOLUME_FILTERS, filters_from_args


def register(app: typer.Typer) -> None:
    app.command("volumes")(volumes)


def volumes(
    filter: Annotated[list[str] | None, typer.Option("--filter", "-f", metavar="KEY=VALUE", help="Filter "
        "(name, driver, label, dangling); repeatable.")] = None,
    fmt: output.FormatOpt = output.Format.table,
    host: session.HostOpt = None,
    all_hosts: session.AllHostsOpt = False,
) -> None:
    """List volumes, sorted by name. Across several hosts, one table with a HOST column."""
    filters = filters_from_args(filter or [], VOLUME_FILTERS)

    async def listing_of(engine: EngineClient) -> list[dict[str, Any]]:
        return sorted(await engine.volumes(filters), key=lambda v: v.get("Name", ""))

    results = session.run(session.on_hosts(host, all_hosts, listing_of))
    listing.show(results, key="volumes", fmt=fmt, columns=["DRIVER", "VOLUME NAME"],
                 rows=lambda v: [[v.get("Driver", ""), v.get("Name", "")]])
