"""``dockgate top``: the processes of a running container, as the engine's ``ps`` sees them."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dockgate.cli import output, session
from dockgate.engines.client import EngineClient


def register(app: typer.Typer) -> None:
    # Like docker: everything after CONTAINER goes to ps, so options come before it.
    app.command("top", context_settings={"allow_interspersed_args": False})(top)


def top(
    container: Annotated[str, typer.Argument(help="Container name or id.", show_default=False)],
    ps_args: Annotated[list[str] | None, typer.Argument(
        metavar="PS_ARGS", help="Options for ps (default: -ef), e.g. -o pid,comm.",
        show_default=False)] = None,
    fmt: output.FormatOpt = output.Format.table,
    host: session.HostOpt = None,
    all_hosts: session.AllHostsOpt = False,
) -> None:
    """List the processes of a running container. Options go before CONTAINER."""

    async def work(engine: EngineClient) -> dict[str, Any]:
        return await engine.top(container, " ".join(ps_args) if ps_args else None)

    async def located() -> dict[str, Any]:
        endpoint = await session.locate(container, host, all_hosts)
        return await session.with_engine(endpoint, work)

    processes = session.run(located())
    if fmt is output.Format.json:
        output.print_json(processes)
    else:
        output.print_table(processes.get("Titles") or [], processes.get("Processes") or [])
