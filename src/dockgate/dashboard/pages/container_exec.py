"""The Console tab's terminal: ``docker exec -it`` with a browser's WebSocket at one end and the
gateway at the other, so each console is authorised, policed and audited like ``docker exec``.

The protocol is as small as a terminal needs. Binary frames carry bytes both ways: keys to the
process, terminal output to the page. Text frames are JSON control messages: ``{"resize": [rows,
cols]}`` from the page; ``{"exit": code}`` or ``{"error": message}`` from here, then the close.
Text that is not a control message is typed input, for hand-made clients such as ``websocat``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from dockgate.dashboard.engine_calls import engine
from dockgate.engines.client import ExecOptions, ExecSession
from dockgate.engines.errors import BadParameter, EngineError

# A browser that vanished (laptop asleep, network gone) sends no close: pings find it, so its
# shell does not live on unseen.
HEARTBEAT_SECONDS = 30.0
# The engine may answer the inspect right after the stream ends with the process still "running".
EXIT_CODE_WAIT = 5.0
# A resize sent the instant the exec starts can beat the process's TTY into existence.
RESIZE_TRIES = 5
HANG_UP_PAUSE = 0.1  # for the shell to be back at its prompt after Ctrl-C
MAX_SIZE = 1000  # rows or columns; more is a mistake, not a screen


def register(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/api/hosts/{host}/containers/{ref}/exec", console)


@dataclass(frozen=True)
class Console:
    """What the page asked for: the process and the terminal's first size."""

    options: ExecOptions
    rows: int
    cols: int

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Console:
        """From ``?cmd=&user=&rows=&cols=``; :class:`BadParameter` for a value that cannot be used."""
        try:
            cmd = shlex.split(query.get("cmd") or "sh")
        except ValueError as exc:  # an unclosed quote
            raise BadParameter("cmd", str(exc)) from None
        if not cmd:
            raise BadParameter("cmd", "give a command to run")
        options = ExecOptions(cmd, tty=True, stdin=True, user=query.get("user") or None)
        return cls(options, _size("rows", query.get("rows", "24")), _size("cols", query.get("cols", "80")))


def _size(param: str, value: str) -> int:
    if not value.isdigit() or not 0 < int(value) <= MAX_SIZE:
        raise BadParameter(param, f"{value!r}: use a number from 1 to {MAX_SIZE}")
    return int(value)


async def console(request: web.Request) -> web.WebSocketResponse:
    """Every failure after the upgrade is told over the socket: a browser's WebSocket API shows no
    status or body of a refused upgrade, only that it closed."""
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS)
    async with engine(request, request.match_info["host"]) as client:  # no such host: 404, before upgrading
        await ws.prepare(request)
        try:
            wanted = Console.from_query(request.query)
            session = await client.exec(request.match_info["ref"], wanted.options)
            try:
                await _resize(session, wanted.rows, wanted.cols, tries=RESIZE_TRIES)
                if await _relay(ws, session):
                    await _tell(ws, {"exit": await _exit_code(session)})
                else:
                    await _hang_up(session)
            finally:
                await session.close()
        except BadParameter as exc:
            await _tell(ws, {"error": str(exc)})
        except EngineError as exc:  # the gateway's refusal, no such container, not running, host down
            await _tell(ws, {"error": exc.message})
    await ws.close()
    return ws


async def _tell(ws: web.WebSocketResponse, message: dict[str, Any]) -> None:
    with contextlib.suppress(ConnectionResetError):  # the page is gone: nobody to tell
        await ws.send_json(message)


async def _relay(ws: web.WebSocketResponse, session: ExecSession) -> bool:
    """Both directions at once until one side ends: True when the process ended, False when the
    page went (closed, reloaded, Stop pressed)."""
    output = asyncio.create_task(_output(ws, session))
    tasks: set[asyncio.Task[Any]] = {output, asyncio.create_task(_input(ws, session))}
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        task.result()  # an engine error on either side is the session's error
    return output in done and output.result()


async def _output(ws: web.WebSocketResponse, session: ExecSession) -> bool:
    """Terminal output to the page until the process ends (True) or the page is gone (False)."""
    while True:
        try:
            chunk = await session.read()
        except OSError as exc:  # the stream broke rather than ended
            raise EngineError(f"lost the connection to the process: {exc}") from exc
        if chunk is None:
            return True
        try:
            await ws.send_bytes(chunk.data)
        except ConnectionResetError:
            return False


async def _input(ws: web.WebSocketResponse, session: ExecSession) -> None:
    async for message in ws:
        if message.type == WSMsgType.BINARY:
            await session.write(message.data)
        elif message.type == WSMsgType.TEXT:
            control = _control(message.data)
            if control is None:
                await session.write(message.data.encode())
            elif size := _terminal_size(control.get("resize")):
                await _resize(session, *size, tries=1)


def _control(text: str) -> dict[str, Any] | None:
    """A JSON object is a control message; any other text is typed input."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _terminal_size(value: Any) -> tuple[int, int] | None:
    """``[rows, cols]`` as ``(rows, cols)``; None for anything else (such a resize is dropped)."""
    if isinstance(value, list) and len(value) == 2 and \
            all(type(n) is int and 0 < n <= MAX_SIZE for n in value):
        return value[0], value[1]
    return None


async def _hang_up(session: ExecSession) -> None:
    """End what the browser left behind. The engine never hangs up an exec's terminal (closing the
    stream only closes the pipe that feeds it), so a shell would outlive its tab; typed keys do it:
    Ctrl-C for a program in the foreground, then Ctrl-D for the shell at its prompt."""
    with contextlib.suppress(EngineError):  # the process may have ended meanwhile
        await session.write(b"\x03")
        await asyncio.sleep(HANG_UP_PAUSE)
        await session.write(b"\x04")


async def _resize(session: ExecSession, rows: int, cols: int, *, tries: int) -> None:
    """A wrong size is cosmetic (and a resize may race the process's end): never fatal."""
    for attempt in range(tries):
        try:
            await session.resize(rows, cols)
            return
        except EngineError:
            if attempt < tries - 1:
                await asyncio.sleep(0.01 * 2 ** attempt)


async def _exit_code(session: ExecSession) -> int | None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + EXIT_CODE_WAIT
    while (code := await session.exit_code()) is None and loop.time() < deadline:
        await asyncio.sleep(0.05)
    return code
