"""``dockgate inspect``: the engine's full record of containers, as a JSON list like docker's."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dockgate.cli import output, session
from dockgate.config.file import ConfigError
from dockgate.engines.client import EngineClient
from dockgate.engines.errors import EngineError


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect)


def inspect(
    containers: session.ContainersArg,
    size: Annotated[bool, typer.Option("--size", "-s", help="Add SizeRw and SizeRootFs.")] = False,
    host: session.HostOpt = None,
    all_hosts: session.AllHostsOpt = False,
) -> None:
    """Print containers' details as JSON. Those not found are reported on stderr (exit 1), the others
    still printed, as docker does."""

    async def work(engine: EngineClient, ref: str) -> dict[str, Any]:
        return await engine.inspect_container(ref, size=size)

    async def gather() -> tuple[list[dict[str, Any]], list[EngineError | ConfigError]]:
        found, failed = [], []
        async for _, result in session.each_container(containers, host, all_hosts, work):
            if isinstance(result, EngineError | ConfigError):
                failed.append(result)
            else:
                found.append(result)
        return found, failed

    found, failed = session.run(gather())
    output.print_json(found)
    for error in failed:
        output.error(str(error))
    if failed:
        raise typer.Exit(1)
