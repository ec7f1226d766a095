"""One list gathered from several hosts, shown the same way by every listing command.

A table gets a HOST column when more than one host was asked; JSON keeps one object per host with
its state. A host that is down is an error line that never hides the others; the command fails
(exit 1) only when no host answered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import typer

from dockgate.cli import output
from dockgate.engines.fleet import HostResult

Item = dict[str, Any]


def show(results: Sequence[HostResult[list[Item]]], *, key: str, fmt: output.Format,
         columns: Sequence[str], rows: Callable[[Item], Iterable[Sequence[str]]]) -> None:
    """Print ``results`` as a table (``rows`` turns one engine object into its table rows) or JSON
    (``key`` names the list in each host's object), then the down hosts."""
    failed = [r for r in results if not r.ok]
    if fmt is output.Format.json:
        output.print_json([
            {"host": r.endpoint.name, "state": "up", key: r.value} if r.ok else
            {"host": r.endpoint.name, "state": "down", "error": r.error.message if r.error else ""}
            for r in results])
    elif len(failed) < len(results):
        many = len(results) > 1
        table = [[r.endpoint.name, *row] if many else list(row)
                 for r in results for item in r.value or [] for row in rows(item)]
        output.print_table(["HOST", *columns] if many else columns, table)
    report_down(results)


def report_down(results: Sequence[HostResult[Any]]) -> None:
    """An error line per host that did not answer; exit 1 when none did."""
    failed = [r for r in results if not r.ok]
    for r in failed:
        output.error(f"host {r.endpoint.name} is down: {r.error.message if r.error else ''}")
    if failed and len(failed) == len(results):
        raise typer.Exit(1)
