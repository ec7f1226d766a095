"""What every command needs: the configuration, the chosen hosts, and a way to run async work.

Commands receive host selection through the shared option types below, so ``--host``/``--all-hosts``
mean the same everywhere.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from dockgate.config import file as config_file
from dockgate.config.file import ConfigError
from dockgate.config.hosts import HostBook
from dockgate.engines.client import EngineClient
from dockgate.engines.endpoint import Endpoint
from dockgate.engines.errors import EngineError, NotFound
from dockgate.engines.fleet import HostResult, on_each

T = TypeVar("T")

HostOpt = Annotated[list[str] | None, typer.Option(
    "--host", "-H", metavar="NAME", help="Engine to use, by name (repeatable). Default: the default host.",
    envvar="DOCKGATE_HOST")]
AllHostsOpt = Annotated[bool, typer.Option("--all-hosts", help="Use every known host.")]
ContainersArg = Annotated[list[str], typer.Argument(help="Container names or ids.", show_default=False)]


class State:
    """Set by the app callback from the global options."""

    config_path: Path | None = None


def config_path() -> Path:
    return config_file.config_path(State.config_path)


def load_config() -> config_file.ConfigFile:
    return config_file.load(config_path())


def host_book() -> HostBook:
    return HostBook.build(load_config(), os.environ)


def endpoints(hosts: Sequence[str] | None, all_hosts: bool = False) -> list[Endpoint]:
    return host_book().select(hosts or (), all_hosts=all_hosts)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def on_hosts(hosts: Sequence[str] | None, all_hosts: bool,
                   work: Callable[[EngineClient], Awaitable[T]]) -> list[HostResult[T]]:
    return await on_each(endpoints(hosts, all_hosts), work)


async def locate(ref: str, hosts: Sequence[str] | None, all_hosts: bool) -> Endpoint:
    """The one selected host that has container ``ref``; with one host selected, that host.

    With several hosts selected, every reachable one is asked, and a container found on more than
    one must be disambiguated with --host rather than acted on twice.
    """
    chosen = endpoints(hosts, all_hosts)
    if len(chosen) == 1:
        return chosen[0]

    async def has(engine: EngineClient) -> bool:
        try:
            await engine.inspect_container(ref)
        except NotFound:
            return False
        return True

    results = await on_each(chosen, has)
    found = [r.endpoint for r in results if r.value]
    if len(found) == 1:
        return found[0]
    if found:
        names = ", ".join(e.name for e in found)
        raise ConfigError(f"container {ref!r} exists on several hosts ({names}); "
                          "choose one with --host")
    down = [r.endpoint.name for r in results if r.error]
    searched = ", ".join(r.endpoint.name for r in results if not r.error)
    message = f"No such container: {ref}" + (f" (not searched, down: {', '.join(down)})" if down else "")
    if not searched:
        raise results[0].error or NotFound(404, message)
    raise NotFound(404, message, host=searched)


async def each_container(refs: Sequence[str], hosts: Sequence[str] | None, all_hosts: bool,
                         work: Callable[[EngineClient, str], Awaitable[T]],
                         ) -> AsyncIterator[tuple[str, T | EngineError | ConfigError]]:
    """Run ``work`` on every container, on the host that has it, all at once; yield (ref, result or
    error) in the order given, each as soon as it and those before it are done.

    An unknown --host stops everything before any container is touched.
    """
    endpoints(hosts, all_hosts)

    async def one(ref: str) -> T:
        endpoint = await locate(ref, hosts, all_hosts)
        return await with_engine(endpoint, lambda engine: work(engine, ref))

    tasks = [asyncio.ensure_future(one(ref)) for ref in refs]
    for ref, task in zip(refs, tasks, strict=True):
        try:
            yield ref, await task
        except (EngineError, ConfigError) as exc:
            yield ref, exc


async def with_engine(endpoint: Endpoint, work: Callable[[EngineClient], Awaitable[T]]) -> T:
    async with EngineClient(endpoint) as engine:
        return await work(engine)


__all__ = ["AllHostsOpt", "ContainersArg", "HostOpt", "State", "each_container", "endpoints", "host_book",
           "locate", "on_hosts", "run", "with_engine"]
