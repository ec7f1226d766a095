"""``dockgate networks``: the networks of one host or many, like ``docker network ls``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dockgate.cli import listing, output, session
from dockgate.engines.client import EngineClient
from dockgate.engines.filters import NETWORK_FILTERS, filters_from_args


def register(app: typer.Typer) -> None:
    app.command("networks")(networks)


def networks(
    filter: Annotated[list[str] | None, typer.Option("--filter", "-f", metavar="KEY=VALUE", help="Filter "
        "(name, id, driver, label, scope, type, dangling); repeatable.")] = None,
    fmt: output.FormatOpt = output.Format.table,
    host: session.HostOpt = None,
    all_hosts: session.AllHostsOpt = False,
) -> None:
    """List networks, sorted by name. Across several hosts, one table with a HOST column."""
    filters = filters_from_args(filter or [], NETWORK_FILTERS)

    async def listing_of(engine: EngineClient) -> list[dict[str, Any]]:
        return sorted(await engine.networks(filters), key=lambda n: n.get("Name", ""))

    results = session.run(session.on_hosts(host, all_hosts, listing_of))
    listing.show(results, key="networks", fmt=fmt, columns=["NETWORK ID", "NAME", "DRIVER", "SCOPE"],
                 rows=lambda n: [[output.short_id(n.get("Id", "")), n.get("Name", ""),
                                  n.get("Driver", ""), n.get("Scope", "")]])
