"""``dockgate exec``: run a command in a running container, like ``docker exec``.

Our stdin, stdout and stderr are wired to the process over the engine's hijacked exec stream. Without
a TTY the engine keeps stdout and stderr apart; with one, everything is one raw byte stream and our
terminal is put in raw mode so keys (Ctrl-C included) reach the process, not us.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import sys
import termios
import threading
import tty
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from dockgate.cli import output, session
from dockgate.engines.client import EngineClient, ExecOptions, ExecSession
from dockgate.engines.errors import BadParameter, EngineError
from dockgate.engines.frames import StreamKind

# The engine may answer the inspect right after the stream ends with the process still "running".
_EXIT_CODE_WAIT = 5.0
# A resize sent the instant the exec starts can beat the process's TTY into existence; retry briefly.
_RESIZE_TRIES = 5
_READ_SIZE = 32 * 1024


def register(app: typer.Typer) -> None:
    # Options end at the container: everything after it is the command, dashes included (ls -la).
    app.command("exec", context_settings={"allow_interspersed_args": False})(exec_command)


def exec_command(
    container: Annotated[str, typer.Argument(help="Container name, id or id prefix.")],
    command: Annotated[list[str], typer.Argument(help="Command and its arguments.")],
    interactive: Annotated[bool, typer.Option("--interactive", "-i",
                                              help="Send our stdin to the process.")] = False,
    tty_: Annotated[bool, typer.Option("--tty", "-t", help="Allocate a pseudo-TTY.")] = False,
    env: Annotated[list[str] | None, typer.Option("--env", "-e", help="KEY=VALUE to set, or KEY to pass "
                                                  "our own value (repeatable).")] = None,
    user: Annotated[str | None, typer.Option("--user", "-u", help="user[:group] to run as.")] = None,
    workdir: Annotated[str | None, typer.Option("--workdir", "-w",
                                                help="Working directory in the container.")] = None,
    detach: Annotated[bool, typer.Option("--detach", "-d",
                                         help="Run in the background and return at once.")] = False,
    privileged: Annotated[bool, typer.Option("--privileged",
                                             help="Give the process extended privileges.")] = False,
    host: session.HostOpt = None,
    all_hosts: session.AllHostsOpt = False,
) -> None:
    """Run a command in a running container.

    Exit status: the command's own exit code; 126 when the engine cannot execute it (not found in
    PATH, not executable, unknown user, bad working directory) and 127 when a shell reports it
    missing, both as the engine reports them; 1 for dockgate and engine errors (no such container,
    container not running, host down, and with -d any start failure); 2 for bad usage, including
    -it (without -d) when our stdin is not a terminal.
    """
    if interactive and tty_ and not detach and not sys.stdin.isatty():
        output.error("the input device is not a TTY")
        raise typer.Exit(2)
    options = ExecOptions(cmd=command, tty=tty_, stdin=interactive and not detach,
                          env=[_env_item(item) for item in env or []],
                          user=user, workdir=workdir, privileged=privileged)
    code = session.run(_exec(container, options, detach, host, all_hosts))
    raise typer.Exit(code)


def _env_item(item: str) -> str:
    """``KEY=VALUE`` as given; a bare ``KEY`` takes our own value, as with ``docker exec -e``."""
    key, sep, _ = item.partition("=")
    if not key:
        raise BadParameter("env", f"{item!r} is not KEY=VALUE or KEY")
    if not sep and key in os.environ:
        return f"{key}={os.environ[key]}"
    return item


async def _exec(ref: str, options: ExecOptions, detach: bool, hosts: list[str] | None,
                all_hosts: bool) -> int:
    endpoint = await session.locate(ref, hosts, all_hosts)
    async with EngineClient(endpoint) as engine:
        if detach:
            await engine.exec_detached(ref, options)
            return 0
        exec_session = await engine.exec(ref, options)
        try:
            with _raw_terminal(options.tty and options.stdin), _follow_size(exec_session, options.tty):
                await _relay(exec_session, options.stdin)
            return await _exit_code(exec_session)
        finally:
            await exec_session.close()


async def _relay(exec_session: ExecSession, with_stdin: bool) -> None:
    """Copy output until the engine ends the stream; feed stdin alongside when asked to."""
    feeder = asyncio.create_task(_feed_stdin(exec_session)) if with_stdin else None
    try:
        outputs = {StreamKind.STDOUT: sys.stdout.buffer, StreamKind.STDERR: sys.stderr.buffer}
        while (chunk := await exec_session.read()) is not None:
            out = outputs.get(chunk.stream, sys.stdout.buffer)
            out.write(chunk.data)
            out.flush()
    finally:
        if feeder is not None:
            feeder.cancel()


async def _feed_stdin(exec_session: ExecSession) -> None:
    """Pump our stdin into the process, then half-close so it sees EOF and can finish its output.

    A daemon thread does the blocking reads: that works for terminals, pipes and regular files alike
    (the event loop cannot watch a regular file), and never holds up exit when the process ends
    first while we still wait for a key.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=16)
    fd = sys.stdin.fileno()

    def reader() -> None:
        while True:
            try:
                data = os.read(fd, _READ_SIZE)
            except OSError:
                data = b""
            try:
                asyncio.run_coroutine_threadsafe(queue.put(data), loop).result()
            except (RuntimeError, concurrent.futures.CancelledError):
                return  # the loop is closing or closed: the session ended while we read
            if not data:
                return

    threading.Thread(target=reader, name="exec-stdin", daemon=True).start()
    try:
        while data := await queue.get():
            await exec_session.write(data)
    except EngineError:
        return  # the process is gone; the output side reports the end
    exec_session.close_stdin()


async def _exit_code(exec_session: ExecSession) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _EXIT_CODE_WAIT
    while (code := await exec_session.exit_code()) is None and loop.time() < deadline:
        await asyncio.sleep(0.05)
    if code is None:
        raise EngineError(f"exec {exec_session.exec_id[:12]} ended its output but reports no exit code")
    return code


@contextmanager
def _raw_terminal(enabled: bool) -> Iterator[None]:
    """Our terminal in raw mode for the duration, restored whatever happens."""
    if not enabled:
        yield
        return
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@contextmanager
def _follow_size(exec_session: ExecSession, enabled: bool) -> Iterator[None]:
    """Give the process's TTY our terminal's size now and after every SIGWINCH."""
    fd = _terminal_fd() if enabled else None
    if fd is None:
        yield
        return
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()

    def resize(tries: int) -> None:
        task = loop.create_task(_resize(exec_session, fd, tries))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    resize(_RESIZE_TRIES)
    loop.add_signal_handler(signal.SIGWINCH, resize, 1)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGWINCH)
        for task in tasks:
            task.cancel()


async def _resize(exec_session: ExecSession, fd: int, tries: int) -> None:
    columns, rows = os.get_terminal_size(fd)
    for attempt in range(tries):
        try:
            await exec_session.resize(rows, columns)
            return
        except EngineError:
            if attempt == tries - 1:
                return  # a wrong size is cosmetic; the session goes on
            await asyncio.sleep(0.01 * 2 ** attempt)


def _terminal_fd() -> int | None:
    """The terminal whose size the process should see: our stdout's, else our stdin's."""
    for stream in (sys.stdout, sys.stdin):
        if stream.isatty():
            return stream.fileno()
    return None
