"""``dockgate ps``: the seed's container list, with every parameter, for one host or many."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dockgate.cli import listing as listing_view
from dockgate.cli import output, session
from dockgate.engines.client import EngineClient
from dockgate.engines.container_query import BadParameter, ContainerListQuery


def register(app: typer.Typer) -> None:
    app.command("ps")(ps)


def ps(
    all: Annotated[bool, typer.Option("--all", "-a", help="Show all containers, not just running.")] = False,
    limit: Annotated[str | None, typer.Option("--limit", "-n", metavar="N",
                                              help="Show the N last created containers (any state).")] = None,
    since: Annotated[str | None, typer.Option(
        metavar="CONTAINER", help="Only containers created after this one.")] = None,
    before: Annotated[str | None, typer.Option(
        metavar="CONTAINER", help="Only containers created before this one.")] = None,
    size: Annotated[bool, typer.Option("--size", "-s", help="Show disk sizes.")] = False,
    filter: Annotated[list[str] | None, typer.Option("--filter", "-f", metavar="KEY=VALUE", help="Filter "
        "(exited, status, label, name, id, ancestor, before, since, volume, network, health, "
        "publish, expose, is-task, isolation); repeatable.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print ids.")] = False,
    fmt: output.FormatOpt = output.Format.table,
    host: session.HostOpt = None,
    all_hosts: session.AllHostsOpt = False,
) -> None:
    """List containers. Across several hosts, one table with a HOST column."""
    query = ContainerListQuery.from_filter_args(
        filter or [], all=all, limit=_limit(limit), since=since, before=before, size=size)

    async def listing(engine: EngineClient) -> list[dict[str, Any]]:
        return await engine.containers(query)

    results = session.run(session.on_hosts(host, all_hosts, listing))
    if quiet:
        for r in results:
            for c in r.value or []:
                print(c["Id"][:12])
        listing_view.report_down(results)
        return
    columns = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    if size:
        columns.append("SIZE")
    listing_view.show(results, key="containers", fmt=fmt, columns=columns,
                      rows=lambda c: [_row(c, size)])


def _limit(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise BadParameter("limit", f"{value!r} is not an integer") from None


def _row(c: dict[str, Any], size: bool) -> list[str]:
    command = c.get("Command", "")
    if len(command) > 30:
        command = command[:29] + "…"
    row = [c["Id"][:12], c.get("Image", ""), f'"{command}"', output.ago(c.get("Created")),
           c.get("Status", ""), _ports(c.get("Ports") or []),
           ",".join(n.lstrip("/") for n in c.get("Names") or [])]
    if size:
        virtual = c.get("SizeRootFs")
        row.append(f"{output.human_size(c.get('SizeRw', 0))} (virtual {output.human_size(virtual)})")
    return row


def _ports(ports: list[dict[str, Any]]) -> str:
    shown = []
    for p in ports:
        private = f"{p.get('PrivatePort')}/{p.get('Type', 'tcp')}"
        if p.get("PublicPort"):
            shown.append(f"{p.get('IP', '0.0.0.0')}:{p['PublicPort']}->{private}")
        else:
            shown.append(private)
    return ", ".join(dict.fromkeys(shown))
