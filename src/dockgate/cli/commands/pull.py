"""``dockgate pull``: fetch an image on one host or many, showing progress per layer like docker.

On a terminal each layer gets a live line (state, bar and bytes while downloading or extracting).
Anywhere else (a pipe, a CI log) a line is printed only when a layer changes state, so a pull of a
big image does not flood the log with byte counts.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer
from rich.console import RenderableType
from rich.progress import BarColumn, DownloadColumn, Progress, ProgressColumn, Task, TaskID, TextColumn
from rich.text import Text

from dockgate.cli import output, session
from dockgate.engines.client import EngineClient
from dockgate.engines.container_query import BadParameter
from dockgate.engines.fleet import on_each

# docker's reference grammar (distribution/reference): [domain/]path[:tag][@digest].
_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})*(?::[0-9]+)?"
_PATH = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    rf"(?:{_DOMAIN}/)?{_PATH}(?:/{_PATH})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?")

# States that carry byte counts in progressDetail; every other layer state is just a word.
_SIZED = ("Downloading", "Extracting")


def register(app: typer.Typer) -> None:
    app.command("pull")(pull)


def pull(
    image: Annotated[str, typer.Argument(help="NAME[:TAG|@DIGEST], e.g. alpine:3.10")],
    host: session.HostOpt = None,
    all_hosts: session.AllHostsOpt = False,
) -> None:
    """Pull an image from its registry. On several hosts at once, lines carry the host name;
    exit 1 if the pull failed on any of them."""
    check_reference(image)
    chosen = session.endpoints(host, all_hosts)
    view: _BarView | _LineView = (_BarView if output.console.is_interactive else _LineView)(
        with_host=len(chosen) > 1)

    async def pull_on(engine: EngineClient) -> None:
        async for message in engine.pull(image):
            view.show(engine.endpoint.name, message)

    try:
        results = session.run(on_each(chosen, pull_on))
    finally:
        view.close()
    failed = [r for r in results if not r.ok]
    for r in failed:
        output.error(str(r.error))
    if failed:
        raise typer.Exit(1)


def check_reference(image: str) -> None:
    """Reject what the engine would answer with 'invalid reference format', before any host is asked."""
    if not _REFERENCE.fullmatch(image):
        raise BadParameter("image", f"{image!r} is not an image reference "
                           "(NAME[:TAG] or NAME@DIGEST, with a lowercase NAME)")


def _layer(message: dict[str, Any]) -> str | None:
    """The layer a message is about; the 'TAG: Pulling from REPO' heading also has an id but no layer."""
    layer = message.get("id")
    if not layer or str(message.get("status", "")).startswith("Pulling from"):
        return None
    return str(layer)


def _line(message: dict[str, Any]) -> str:
    status = str(message.get("status", ""))
    return f"{message['id']}: {status}" if message.get("id") else status


class _LineView:
    """Plain output: one line per layer state change and every other status line, in order."""

    def __init__(self, *, with_host: bool) -> None:
        self._with_host = with_host
        self._states: dict[tuple[str, str], str] = {}

    def show(self, host: str, message: dict[str, Any]) -> None:
        layer = _layer(message)
        if layer is not None:
            status = str(message.get("status", ""))
            if self._states.get((host, layer)) == status:
                return
            self._states[(host, layer)] = status
        prefix = f"[{host}] " if self._with_host else ""
        output.console.print(Text(prefix + _line(message)))

    def close(self) -> None:
        """Nothing is held back in plain output."""


class _WhenSized(ProgressColumn):
    """Show a column only while the layer reports byte counts, so 'Waiting' has no empty bar."""

    def __init__(self, column: ProgressColumn) -> None:
        super().__init__()
        self._column = column

    def render(self, task: Task) -> RenderableType:
        return self._column.render(task) if task.fields.get("sized") else Text("")


class _BarView:
    """Live bars, one per layer. Status lines of a host whose bars are showing wait until the end,
    so that, like docker, 'Digest:' and 'Status:' come below the layers."""

    def __init__(self, *, with_host: bool) -> None:
        self._with_host = with_host
        self._tasks: dict[tuple[str, str], TaskID] = {}
        self._states: dict[tuple[str, str], str] = {}
        self._later: list[str] = []
        self._progress = Progress(
            TextColumn("{task.description}", markup=False),
            TextColumn("{task.fields[status]}", markup=False),
            _WhenSized(BarColumn(bar_width=40)), _WhenSized(DownloadColumn()),
            console=output.console, auto_refresh=True)
        self._progress.start()

    def show(self, host: str, message: dict[str, Any]) -> None:
        prefix = f"[{host}] " if self._with_host else ""
        layer = _layer(message)
        if layer is None:
            text = prefix + _line(message)
            if any(h == host for h, _ in self._tasks):
                self._later.append(text)
            else:
                self._progress.console.print(Text(text))
            return
        status = str(message.get("status", ""))
        detail = message.get("progressDetail") or {}
        key = (host, layer)
        if key not in self._tasks:
            self._tasks[key] = self._progress.add_task(f"{prefix}{layer}:", status=status, sized=False)
        if status in _SIZED and detail.get("total"):
            self._progress.update(self._tasks[key], status=status, sized=True, total=detail["total"],
                                  completed=detail.get("current", 0))
        else:
            self._progress.update(self._tasks[key], status=status, sized=False)
        if self._states.get(key) != status:  # every state is drawn at least once, however fast the pull
            self._states[key] = status
            self._progress.refresh()

    def close(self) -> None:
        self._progress.stop()
        for text in self._later:
            output.console.print(Text(text))
