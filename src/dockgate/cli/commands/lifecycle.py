"""``start``, ``stop``, ``restart``, ``kill``, ``pause``, ``unpause``, ``rm``, ``rename``, ``wait``.

As with docker, each takes several containers, acts on them concurrently, prints each one's reference
(``wait``: its exit code) in the order given, goes on past failures and exits 1 if any failed. With
several hosts selected, each container is acted on where it lives (see session.locate).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated

import typer

from dockgate.cli import output, session
from dockgate.config.file import ConfigError
from dockgate.engines.client import EngineClient
from dockgate.engines.container_query import BadParameter
from dockgate.engines.container_spec import validate_name
from dockgate.engines.errors import EngineError

TimeOpt = Annotated[int | None, typer.Option(
    "--time", "-t", min=0, help="Seconds to wait for the container to stop before killing it "
    "(default: the container's StopTimeout, usually 10).")]

# Signal names the engine knows on Linux (moby's signal map), without their SIG prefix.
SIGNALS = frozenset({
    "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL", "PIPE",
    "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP", "TTIN", "TTOU",
    "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ", "RTMIN", "RTMAX",
})
_REALTIME = re.compile(r"^RTMIN\+([1-9]|1[0-5])$|^RTMAX-([1-9]|1[0-4])$")


def register(app: typer.Typer) -> None:
    for command in (start, stop, restart, kill, pause, unpause, rm, rename, wait):
        app.command(command.__name__)(command)


def _act(refs: Sequence[str], hosts: Sequence[str] | None, all_hosts: bool,
         work: Callable[[EngineClient, str], Awaitable[str | None]]) -> None:
    """Print each container's line (``work``'s answer; None prints nothing), errors on stderr."""

    async def run() -> bool:
        ok = True
        async for _, result in session.each_container(refs, hosts, all_hosts, work):
            if isinstance(result, EngineError | ConfigError):
                output.error(str(result))
                ok = False
            elif result is not None:
                print(result, flush=True)
        return ok

    if not session.run(run()):
        raise typer.Exit(1)


def _action(action: str, params: dict[str, str] | None = None,
            ) -> Callable[[EngineClient, str], Awaitable[str]]:
    async def work(engine: EngineClient, ref: str) -> str:
        await engine.container_action(ref, action, params)
        return ref
    return work


def start(containers: session.ContainersArg, host: session.HostOpt = None,
          all_hosts: session.AllHostsOpt = False) -> None:
    """Start containers."""
    _act(containers, host, all_hosts, _action("start"))


def stop(containers: session.ContainersArg, time: TimeOpt = None, host: session.HostOpt = None,
         all_hosts: session.AllHostsOpt = False) -> None:
    """Stop containers: SIGTERM (or the image's stop signal), then SIGKILL after the timeout."""
    _act(containers, host, all_hosts, _action("stop", _time(time)))


def restart(containers: session.ContainersArg, time: TimeOpt = None, host: session.HostOpt = None,
            all_hosts: session.AllHostsOpt = False) -> None:
    """Restart containers (stop with the timeout, then start)."""
    _act(containers, host, all_hosts, _action("restart", _time(time)))


def kill(
    containers: session.ContainersArg,
    signal: Annotated[str, typer.Option("--signal", "-s", help="Signal name (KILL, SIGHUP, RTMIN+3) "
                                        "or number.")] = "KILL",
    host: session.HostOpt = None,
    all_hosts: session.AllHostsOpt = False,
) -> None:
    """Send a signal to the main process of running containers (default: KILL)."""
    _act(containers, host, all_hosts, _action("kill", {"signal": parse_signal(signal)}))


def pause(containers: session.ContainersArg, host: session.HostOpt = None,
          all_hosts: session.AllHostsOpt = False) -> None:
    """Freeze every process of running containers."""
    _act(containers, host, all_hosts, _action("pause"))


def unpause(containers: session.ContainersArg, host: session.HostOpt = None,
            all_hosts: session.AllHostsOpt = False) -> None:
    """Thaw paused containers."""
    _act(containers, host, all_hosts, _action("unpause"))


def rm(
    containers: session.ContainersArg,
    force: Annotated[bool, typer.Option("--force", "-f", help="Kill running containers first.")] = False,
    volumes: Annotated[bool, typer.Option("--volumes", "-v", help="Also remove anonymous volumes.")] = False,
    host: session.HostOpt = None,
    all_hosts: session.AllHostsOpt = False,
) -> None:
    """Remove containers."""
    async def work(engine: EngineClient, ref: str) -> str:
        await engine.remove_container(ref, force=force, volumes=volumes)
        return ref

    _act(containers, host, all_hosts, work)


def rename(
    container: Annotated[str, typer.Argument(help="Container name or id.", show_default=False)],
    new_name: Annotated[str, typer.Argument(metavar="NEW_NAME", help="Its new name.",
                                            show_default=False)],
    host: session.HostOpt = None,
    all_hosts: session.AllHostsOpt = False,
) -> None:
    """Rename a container (silent on success, like docker)."""
    validate_name(new_name, "NEW_NAME")

    async def work(engine: EngineClient, ref: str) -> None:
        await engine.container_action(ref, "rename", {"name": new_name})

    _act([container], host, all_hosts, work)


def wait(containers: session.ContainersArg, host: session.HostOpt = None,
         all_hosts: session.AllHostsOpt = False) -> None:
    """Block until containers stop, then print each one's exit code."""
    async def work(engine: EngineClient, ref: str) -> str:
        answer = await engine.container_action(ref, "wait")
        return str((answer or {}).get("StatusCode", ""))

    _act(containers, host, all_hosts, work)


def parse_signal(text: str) -> str:
    """A signal as the engine reads it (name without SIG, any case, or a number), checked here so that
    a typo exits 2 instead of reaching the engine."""
    if text.isdigit():
        if 1 <= int(text) <= 64:
            return text
    else:
        name = text.upper().removeprefix("SIG")
        if name in SIGNALS or _REALTIME.match(name):
            return name
    raise BadParameter("--signal", f"{text!r} is not a signal name (KILL, SIGTERM, HUP, ...) or "
                       "number 1-64")


def _time(seconds: int | None) -> dict[str, str] | None:
    return {"t": str(seconds)} if seconds is not None else None
