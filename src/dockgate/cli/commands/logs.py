"""``dockgate logs``: a container's output, or several containers' merged like ``docker compose logs``.

The container's stdout goes to our stdout and its stderr to our stderr, as bytes, so pipes and
binary output behave as with ``docker logs``. One container is shown raw. Several (more than one
name, a ``--label`` selection, or containers on several hosts) get a prefix per container on every
line: without ``--follow`` their lines are merged in time order (the engine's timestamps, fetched
even when not shown); with ``--follow`` each container's lines are printed as they arrive.
"""

from __future__ import annotations

import asyncio
import heapq
import os
import re
import sys
import time
from collections.abc import Awaitable, Iterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any, BinaryIO

import typer

from dockgate.cli import output, session
from dockgate.engines.client import EngineClient, LogOptions
from dockgate.engines.container_query import ContainerListQuery
from dockgate.engines.endpoint import Endpoint
from dockgate.engines.errors import BadParameter, EngineError, NotFound
from dockgate.engines.frames import Chunk, StreamKind
from dockgate.engines.time_values import to_engine_time

# docker compose's prefix colours: the six plain ANSI colours, then their bright variants.
_COLOURS = (36, 33, 32, 35, 34, 31, 96, 93, 92, 95, 94, 91)
_STAMP = re.compile(rb"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)")


@dataclass(frozen=True)
class Target:
    """One container to show: where it lives, its full id, and the name its lines are prefixed with."""

    endpoint: Endpoint
    id: str
    label: str


@dataclass(frozen=True)
class Line:
    """A line of a merged (non-follow) listing: the engine's timestamp as a sort key, and the text."""

    nanos: int
    stream: StreamKind
    stamp: bytes
    text: bytes


def register(app: typer.Typer) -> None:
    app.command("logs")(logs)


def logs(
    containers: Annotated[list[str] | None, typer.Argument(
        metavar="CONTAINER", help="Containers by name, id or id prefix.", show_default=False)] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new output.")] = False,
    stdout: Annotated[bool, typer.Option("--stdout/--no-stdout", help="Show the containers' stdout.")] = True,
    stderr: Annotated[bool, typer.Option("--stderr/--no-stderr", help="Show the containers' stderr.")] = True,
    timestamps: Annotated[bool, typer.Option("--timestamps", "-t",
                                             help="Show the engine's timestamps.")] = False,
    tail: Annotated[str, typer.Option("--tail", "-n", metavar="N|all",
                                      help="Lines to show from the end of each log: N or all.")] = "all",
    since: Annotated[str | None, typer.Option(metavar="TIME", help="Only output after this time: RFC 3339 "
        "(2024-01-31T13:45:00Z), unix seconds, or a duration before now (10m, 1h30m).")] = None,
    until: Annotated[str | None, typer.Option(metavar="TIME", help="Only output before this time "
        "(same forms as --since).")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", "-l", metavar="KEY=VALUE", help="Containers "
        "carrying this label, running or stopped, on every selected host (repeatable: all must "
        "match).")] = None,
    host: session.HostOpt = None,
    all_hosts: session.AllHostsOpt = False,
) -> None:
    """Show the output of containers: stdout to stdout, stderr to stderr."""
    if not containers and not label:
        raise BadParameter("container", "name at least one container, or select them with --label")
    if not stdout and not stderr:
        raise BadParameter("streams", "--no-stdout and --no-stderr together leave nothing to show")
    now = time.time()
    options = LogOptions(
        follow=follow, stdout=stdout, stderr=stderr, timestamps=timestamps, tail=_tail(tail),
        since=to_engine_time(since, now, param="since") if since else None,
        until=to_engine_time(until, now, param="until") if until else None)
    by_label = ContainerListQuery(all=True, filters={"label": label}) if label else None
    ok = session.run(_show(containers or [], by_label, host, all_hosts, options))
    if not ok:
        raise typer.Exit(1)


def _tail(value: str) -> str:
    if value == "all" or (value.isascii() and value.isdigit()):
        return value
    raise BadParameter("tail", f"{value!r} must be a non-negative integer or 'all'")


async def _show(refs: Sequence[str], by_label: ContainerListQuery | None, hosts: list[str] | None,
                all_hosts: bool, options: LogOptions) -> bool:
    """Resolve every container first (so a typo prints nothing else), then stream; False if any failed."""
    chosen = session.endpoints(hosts, all_hosts)
    targets = await _targets(refs, by_label, hosts, all_hosts, chosen)
    async with AsyncExitStack() as stack:
        engines = {e.name: await stack.enter_async_context(EngineClient(e))
                   for e in {t.endpoint.name: t.endpoint for t in targets}.values()}
        if len(targets) == 1 and by_label is None:
            await _raw(engines[targets[0].endpoint.name], targets[0], options)
            return True
        printer = _Printer(targets)
        if options.follow:
            results = await asyncio.gather(*(_follow(engines[t.endpoint.name], t, options, printer)
                                             for t in targets))
            return all(results)
        return await _merged(engines, targets, options, printer)


async def _targets(refs: Sequence[str], by_label: ContainerListQuery | None, hosts: list[str] | None,
                   all_hosts: bool, chosen: list[Endpoint]) -> list[Target]:
    """Named containers in the order given, then label matches by host and name, each once."""
    several_hosts = len(chosen) > 1

    def target(endpoint: Endpoint, container_id: str, name: str) -> Target:
        return Target(endpoint, container_id, f"{endpoint.name}/{name}" if several_hosts else name)

    found: list[Target] = []
    for ref in refs:
        endpoint = await session.locate(ref, hosts, all_hosts) if several_hosts else chosen[0]

        def inspect(engine: EngineClient, ref: str = ref) -> Awaitable[dict[str, Any]]:
            return engine.inspect_container(ref)
        info = await session.with_engine(endpoint, inspect)
        found.append(target(endpoint, info["Id"], info.get("Name", "").lstrip("/") or ref))
    if by_label is not None:
        results = await session.on_hosts(hosts, all_hosts, lambda engine: engine.containers(by_label))
        for result in results:
            named = sorted(((c.get("Names") or [c["Id"][:12]])[0].lstrip("/"), c["Id"])
                           for c in result.value or [])
            found.extend(target(result.endpoint, container_id, name) for name, container_id in named)
        down = [r.error for r in results if r.error is not None]
        if not found and down:
            raise down[0]
        for exc in down:
            output.warn(f"host {exc.host} is down: {exc.message}")
        if not found:
            wanted = ", ".join(by_label.filters["label"])
            raise NotFound(404, f"no container has the label {wanted}",
                           host=",".join(e.name for e in chosen))
    unique: dict[tuple[str, str], Target] = {}
    for t in found:
        unique.setdefault((t.endpoint.name, t.id), t)
    return list(unique.values())


async def _raw(engine: EngineClient, target: Target, options: LogOptions) -> None:
    """One container, byte for byte as the engine sends it, like ``docker logs``."""
    async for chunk in engine.logs(target.id, options):
        out = _output(chunk.stream)
        out.write(chunk.data)
        out.flush()


async def _follow(engine: EngineClient, target: Target, options: LogOptions, printer: _Printer) -> bool:
    """Print one container's whole lines as they arrive, until it stops; False if it cannot be read."""
    lines = _LineSplitter()
    try:
        async for chunk in engine.logs(target.id, options):
            for stream, text in lines.feed(chunk):
                printer.line(target, stream, text)
    except EngineError as exc:
        output.error(f"{target.label}: {exc.message}")
        return False
    for stream, text in lines.close():
        printer.line(target, stream, text)
    return True


async def _merged(engines: dict[str, EngineClient], targets: list[Target], options: LogOptions,
                  printer: _Printer) -> bool:
    """Every container's lines, fetched with timestamps and merged in time order."""
    stamped = replace(options, timestamps=True)

    async def fetch(target: Target) -> list[Line] | None:
        lines: list[Line] = []
        splitter, nanos = _LineSplitter(), 0
        try:
            async for chunk in engines[target.endpoint.name].logs(target.id, stamped):
                for stream, text in splitter.feed(chunk):
                    line = _stamped_line(stream, text, nanos)
                    nanos = line.nanos
                    lines.append(line)
        except EngineError as exc:
            output.error(f"{target.label}: {exc.message}")
            return None
        for stream, text in splitter.close():
            lines.append(_stamped_line(stream, text, nanos))
        return lines

    fetched = await asyncio.gather(*(fetch(t) for t in targets))

    def tagged(target: Target, lines: list[Line]) -> Iterator[tuple[Target, Line]]:
        return ((target, line) for line in lines)

    merged = heapq.merge(*(tagged(t, lines) for t, lines in zip(targets, fetched, strict=True) if lines),
                         key=lambda pair: pair[1].nanos)
    for target, line in merged:
        text = line.stamp + b" " + line.text if options.timestamps and line.stamp else line.text
        printer.line(target, line.stream, text)
    return all(lines is not None for lines in fetched)


def _stamped_line(stream: StreamKind, text: bytes, previous: int) -> Line:
    """Split the engine's ``<RFC 3339 time> `` prefix off; an unstamped piece sorts with the line before."""
    stamp, _, rest = text.partition(b" ")
    match = _STAMP.fullmatch(stamp)
    if match is None:
        return Line(previous, stream, b"", text)
    seconds, fraction, zone = match.groups()
    moment = datetime.fromisoformat((seconds + (b"+00:00" if zone == b"Z" else zone)).decode())
    nanos = int(moment.timestamp()) * 10**9 + int((fraction or b"0").ljust(9, b"0"))
    return Line(nanos, stream, stamp, rest)


class _LineSplitter:
    """Whole lines per stream from chunks cut anywhere (TTY output has no framing at all)."""

    def __init__(self) -> None:
        self._pending: dict[StreamKind, bytearray] = {}

    def feed(self, chunk: Chunk) -> list[tuple[StreamKind, bytes]]:
        pending = self._pending.setdefault(chunk.stream, bytearray())
        end = chunk.data.rfind(b"\n")
        if end < 0:
            pending += chunk.data
            return []
        whole = bytes(pending) + chunk.data[:end]
        pending[:] = chunk.data[end + 1:]
        return [(chunk.stream, text) for text in whole.split(b"\n")]

    def close(self) -> list[tuple[StreamKind, bytes]]:
        """The last line of each stream when the output did not end with a newline."""
        return [(stream, bytes(rest)) for stream, rest in self._pending.items() if rest]


class _Printer:
    """Writes prefixed lines, each whole, to the stream the container wrote them to."""

    def __init__(self, targets: Sequence[Target]) -> None:
        width = max(len(t.label) for t in targets)
        self._prefixes: dict[tuple[Target, StreamKind], bytes] = {}
        for index, target in enumerate(targets):
            plain = f"{target.label:<{width}} | "
            for stream in (StreamKind.STDOUT, StreamKind.STDERR):
                text = plain
                if _colour(_output(stream)):
                    text = f"\x1b[{_COLOURS[index % len(_COLOURS)]}m{plain[:-1]}\x1b[0m "
                self._prefixes[target, stream] = text.encode()

    def line(self, target: Target, stream: StreamKind, text: bytes) -> None:
        out = _output(stream)
        out.write(self._prefixes[target, stream] + text + b"\n")
        out.flush()


def _output(stream: StreamKind) -> BinaryIO:
    return sys.stderr.buffer if stream is StreamKind.STDERR else sys.stdout.buffer


def _colour(out: BinaryIO) -> bool:
    """Colours only for a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return not os.environ.get("NO_COLOR") and out.isatty()
