"""``dockgate stats``: live resource usage of containers, computed and shown like ``docker stats``.

The engine sends raw cgroup counters; the percentages and "usage" figures people know come from the
docker CLI's arithmetic, reproduced in :class:`Sample` so that both tools show the same numbers.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.table import Table

from dockgate.cli import output, session
from dockgate.engines.client import EngineClient
from dockgate.engines.container_query import ContainerListQuery
from dockgate.engines.endpoint import Endpoint
from dockgate.engines.errors import Conflict, EngineError, NotFound
from dockgate.engines.stats_reading import StatsReading

COLUMNS = ("CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS")
REFRESH_SECONDS = 1.0
_BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)


def stats(
    containers: Annotated[list[str] | None, typer.Argument(
        help="Containers (name, id or id prefix). Default: all running containers.")] = None,
    no_stream: Annotated[bool, typer.Option("--no-stream", help="Print one sample and exit.")] = False,
    all: Annotated[bool, typer.Option("--all", "-a", help="Include stopped containers "
                                      "(when none are named).")] = False,
    fmt: Annotated[output.Format, typer.Option("--format", help="table or json (live: one JSON "
                                               "object per line and sample)")] = output.Format.table,
    host: session.HostOpt = None,
    all_hosts: session.AllHostsOpt = False,
) -> None:
    """Show CPU, memory, network, block I/O and process counts of containers.

    Live by default: the table refreshes in place until Ctrl-C. Named containers must be running.
    """
    many = len(session.endpoints(host, all_hosts)) > 1
    try:
        session.run(_stats(containers or [], no_stream, all, fmt, host, all_hosts, many))
    except KeyboardInterrupt:
        return  # Ctrl-C is how a live view ends


@dataclass(frozen=True)
class Target:
    endpoint: Endpoint
    id: str
    name: str
    running: bool


@dataclass(frozen=True)
class Sample:
    """One stats reading turned into the docker CLI's figures."""

    host: str
    id: str
    name: str
    cpu_percent: float
    memory_usage: int
    memory_limit: int
    memory_percent: float
    net_rx: int
    net_tx: int
    block_read: int
    block_write: int
    pids: int

    @classmethod
    def from_engine(cls, target: Target, raw: dict[str, Any]) -> Sample:
        """A sample as ``docker stats`` shows it; a container that is not running shows zeros."""
        reading = StatsReading.from_engine(raw)
        return cls(host=target.endpoint.name, id=target.id, name=target.name,
                   cpu_percent=(reading.cpu_percent or 0.0) if reading else 0.0,
                   memory_usage=reading.memory_usage if reading else 0,
                   memory_limit=reading.memory_limit if reading else 0,
                   memory_percent=reading.memory_percent if reading else 0.0,
                   net_rx=reading.net_rx if reading else 0, net_tx=reading.net_tx if reading else 0,
                   block_read=reading.block_read if reading else 0,
                   block_write=reading.block_write if reading else 0,
                   pids=reading.pids if reading else 0)

    def row(self, many: bool) -> list[str]:
        row = [self.id[:12], self.name, f"{self.cpu_percent:.2f}%",
               f"{_binary_size(self.memory_usage)} / {_binary_size(self.memory_limit)}",
               f"{self.memory_percent:.2f}%",
               f"{output.human_size(self.net_rx)} / {output.human_size(self.net_tx)}",
               f"{output.human_size(self.block_read)} / {output.human_size(self.block_write)}",
               str(self.pids)]
        return [self.host, *row] if many else row


def _binary_size(n: float) -> str:
    """Like docker's memory figures: 1024-based units, four significant digits (1.242MiB)."""
    unit = 0
    while n >= 1024 and unit < len(_BINARY_UNITS) - 1:
        n /= 1024
        unit += 1
    return f"{n:.4g}{_BINARY_UNITS[unit]}"


async def _stats(names: list[str], no_stream: bool, include_stopped: bool, fmt: output.Format,
                 hosts: list[str] | None, all_hosts: bool, many: bool) -> None:
    targets = await (_named(names, hosts, all_hosts) if names
                     else _listed(include_stopped, hosts, all_hosts))
    async with AsyncExitStack() as stack:
        engines: dict[str, EngineClient] = {}
        for target in targets:
            if target.endpoint.name not in engines:
                engines[target.endpoint.name] = await stack.enter_async_context(
                    EngineClient(target.endpoint))
        if no_stream:
            readings = await asyncio.gather(*(_one(engines[t.endpoint.name], t) for t in targets))
            samples = [s for s in readings if s is not None]
            if fmt is output.Format.json:
                output.print_json([asdict(s) for s in samples])
            else:
                output.print_table(_columns(many), (s.row(many) for s in samples))
            return
        await _live(targets, engines, fmt, many, keep_ended=include_stopped)


async def _named(names: list[str], hosts: list[str] | None, all_hosts: bool) -> list[Target]:
    """The named containers, each found on its host; a stopped one is an error, not a row of zeros."""

    async def find(ref: str) -> Target:
        endpoint = await session.locate(ref, hosts, all_hosts)
        info = await session.with_engine(endpoint, lambda engine: engine.inspect_container(ref))
        target = Target(endpoint, info["Id"], info.get("Name", "").lstrip("/"),
                        bool((info.get("State") or {}).get("Running")))
        if not target.running:
            raise Conflict(409, f"container {ref} is not running", host=endpoint.name)
        return target

    return list(await asyncio.gather(*(find(ref) for ref in names)))


async def _listed(include_stopped: bool, hosts: list[str] | None, all_hosts: bool) -> list[Target]:
    """Every running (or with --all, every) container of the chosen hosts; a host down is a warning."""
    query = ContainerListQuery(all=include_stopped)
    results = await session.on_hosts(hosts, all_hosts, lambda engine: engine.containers(query))
    targets = []
    for result in results:
        if result.error is not None:
            output.error(f"host {result.endpoint.name} is down: {result.error.message}")
            continue
        for c in result.value or []:
            name = ",".join(n.lstrip("/") for n in c.get("Names") or [])
            targets.append(Target(result.endpoint, c["Id"], name, c.get("State") == "running"))
    if results and all(r.error is not None for r in results):
        raise typer.Exit(1)
    return targets


async def _one(engine: EngineClient, target: Target) -> Sample | None:
    """A single reading, or None for a container removed since it was listed (the engine then
    answers 404, or an empty stream while the removal is under way).

    With ``stream=false`` the engine waits for a second internal sample, so CPU % is meaningful.
    """
    try:
        async for raw in engine.stats(target.id, stream=False):
            return Sample.from_engine(target, raw)
    except NotFound:
        pass
    return None


async def _live(targets: list[Target], engines: dict[str, EngineClient], fmt: output.Format,
                many: bool, *, keep_ended: bool) -> None:
    """One stats stream per container, all at once; the view is redrawn every second until Ctrl-C.

    A stopped container (listed with --all) gets one reading of zeros, as the engine streams nothing
    for it. A container that stops while watched leaves the view, unless --all keeps its last row.
    """
    latest: dict[str, Sample] = {}

    async def follow(target: Target) -> None:
        try:
            async for raw in engines[target.endpoint.name].stats(target.id, stream=target.running):
                sample = Sample.from_engine(target, raw)
                latest[target.id] = sample
                if fmt is output.Format.json:
                    sys.stdout.write(json.dumps(asdict(sample)) + "\n")
                    sys.stdout.flush()
        except NotFound:
            pass  # removed while watched: it just leaves the view
        except EngineError as exc:
            output.warn(f"stats of {target.name} stopped: {exc}")
        if target.running and not keep_ended:
            latest.pop(target.id, None)

    def rows() -> list[list[str]]:
        return [latest[t.id].row(many) for t in targets if t.id in latest]

    streams = [asyncio.create_task(follow(t)) for t in targets]
    try:
        if fmt is output.Format.json:
            await asyncio.gather(*streams)
            await asyncio.Event().wait()  # like docker stats: keep watching until Ctrl-C
        elif output.console.is_terminal:
            with Live(console=output.console, auto_refresh=False) as live:
                await _every_second(lambda: live.update(_table(many, rows()), refresh=True))
        else:
            # Not a terminal: redrawing in place is impossible, so print each refresh as a new block.
            def print_block() -> None:
                output.print_table(_columns(many), rows())
                print(flush=True)

            await _every_second(print_block)
    finally:
        for stream in streams:
            stream.cancel()


async def _every_second(redraw: Callable[[], object]) -> None:
    while True:
        await asyncio.sleep(REFRESH_SECONDS)
        redraw()


def _columns(many: bool) -> list[str]:
    return ["HOST", *COLUMNS] if many else list(COLUMNS)


def _table(many: bool, rows: list[list[str]]) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for column in _columns(many):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    return table
