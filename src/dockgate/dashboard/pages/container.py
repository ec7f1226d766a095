"""One container: its inspect data in readable sections and as raw JSON, its processes, its logs
followed live, and the lifecycle buttons its user may press."""

from __future__ import annotations

import asyncio
import codecs
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from dockgate.access.audit import DEFAULT_SECRET_PATTERNS
from dockgate.dashboard.auth import SESSION
from dockgate.dashboard.engine_calls import engine, status_of
from dockgate.dashboard.pages.containers import ACTIONS, act
from dockgate.dashboard.render import page
from dockgate.dashboard.services import services
from dockgate.dashboard.sse import open_stream, sse
from dockgate.engines.client import LogOptions
from dockgate.engines.container_query import BadParameter, parse_bool
from dockgate.engines.errors import EngineAPIError, EngineError, NotFound
from dockgate.engines.frames import Chunk

FLUSH_SECONDS = 0.1  # log lines go to the browser in batches: a line each would cost more than it shows
BATCH_LINES = 2000
_TAIL = re.compile(r"all|\d{1,7}")


def register(router: web.UrlDispatcher) -> None:
    base = "/ui/api/hosts/{host}/containers/{ref}"
    router.add_get("/ui/hosts/{host}/containers/{ref}", container_page)
    router.add_get(f"{base}/json", inspect_json)
    router.add_get(f"{base}/top", top)
    router.add_get(f"{base}/logs", logs)
    router.add_post(f"{base}/{{action}}", action)


async def container_page(request: web.Request) -> web.Response:
    host, ref = request.match_info["host"], request.match_info["ref"]
    try:
        async with engine(request, host) as client:
            info = await client.inspect_container(ref)
    except NotFound:
        return page(request, "missing.html", status=404, title="No such container",
                    message=f"There is no container {ref!r} on {host}.")
    except EngineAPIError as exc:
        return page(request, "missing.html", status=exc.status, title="Container not shown",
                    message=exc.message)
    srv = services(request)
    may = srv.gatekeeper.operations_on(request[SESSION].identity, host)
    return page(request, "container.html", title=info["Name"].lstrip("/"), host=host, info=info,
                sections=sections(info), raw=json.dumps(info, indent=2), may=sorted(may))


def sections(info: dict[str, Any]) -> dict[str, Any]:
    """The inspect answer arranged as the page shows it; secret-looking variables marked."""
    config, host_config = info.get("Config") or {}, info.get("HostConfig") or {}
    state = info.get("State") or {}
    secret = [re.compile(pattern) for pattern in DEFAULT_SECRET_PATTERNS]
    env = []
    for item in config.get("Env") or []:
        key, _, value = item.partition("=")
        env.append({"key": key, "value": value, "secret": any(p.search(key) for p in secret)})
    ports = []
    for port, bindings in ((info.get("NetworkSettings") or {}).get("Ports") or {}).items():
        for binding in bindings or [None]:
            published = f"{binding['HostIp'] or '0.0.0.0'}:{binding['HostPort']}" if binding else ""
            ports.append({"container": port, "host": published})
    restart = host_config.get("RestartPolicy") or {}
    return {
        "summary": [("Id", info.get("Id")), ("Image", config.get("Image")), ("Image id", info.get("Image")),
                    ("Created", info.get("Created")), ("Started", state.get("StartedAt")),
                    ("Finished", state.get("FinishedAt")), ("Exit code", state.get("ExitCode")),
                    ("Restart count", info.get("RestartCount")),
                    ("Command", " ".join([*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])])),
                    ("Working dir", config.get("WorkingDir") or "/"), ("User", config.get("User") or "root"),
                    ("TTY", config.get("Tty")),
                    ("Restart policy", f"{restart.get('Name') or 'no'}"
                                       + (f" (max {restart['MaximumRetryCount']})"
                                          if restart.get("MaximumRetryCount") else "")),
                    ("Memory limit", host_config.get("Memory") or "none"),
                    ("CPUs", (host_config.get("NanoCpus") or 0) / 1e9 or "no limit"),
                    ("Log driver", (host_config.get("LogConfig") or {}).get("Type"))],
        "state": state,
        "env": env,
        "ports": ports,
        "mounts": info.get("Mounts") or [],
        "networks": (info.get("NetworkSettings") or {}).get("Networks") or {},
        "labels": sorted((config.get("Labels") or {}).items()),
        "health": state.get("Health"),
    }


async def inspect_json(request: web.Request) -> web.Response:
    async with engine(request, request.match_info["host"]) as client:
        return web.json_response(await client.inspect_container(request.match_info["ref"]))


async def top(request: web.Request) -> web.Response:
    ps_args = request.query.get("ps_args") or None
    async with engine(request, request.match_info["host"]) as client:
        return web.json_response(await client.top(request.match_info["ref"], ps_args))


async def action(request: web.Request) -> web.Response:
    name = request.match_info["action"]
    if name not in ACTIONS:
        raise web.HTTPNotFound(text=f"no action {name!r}")
    async with engine(request, request.match_info["host"]) as client:
        await act(client, request.match_info["ref"], name)
    return web.json_response({"ok": True})


def log_options(params: Any) -> LogOptions:
    """The ``docker logs`` options from the page's controls; :class:`BadParameter` for a bad one."""
    tail = params.get("tail", "500").strip() or "all"
    if not _TAIL.fullmatch(tail):
        raise BadParameter("tail", f"{tail!r}: use a number of lines or 'all'")
    return LogOptions(follow=parse_bool("follow", params.get("follow", "1")),
                      stdout=parse_bool("stdout", params.get("stdout", "1")),
                      stderr=parse_bool("stderr", params.get("stderr", "1")),
                      timestamps=parse_bool("timestamps", params.get("timestamps", "0")), tail=tail,
                      since=params.get("since") or None)


async def logs(request: web.Request) -> web.StreamResponse:
    """Server-sent events of log lines in batches (``download=1``: the log as a text file)."""
    try:
        options = log_options(request.query)
    except BadParameter as exc:
        return web.json_response({"message": str(exc), "param": exc.param}, status=400)
    host, ref = request.match_info["host"], request.match_info["ref"]
    if parse_bool("download", request.query.get("download", "0")):
        return await _download(request, host, ref, options)
    response = await open_stream(request)
    try:
        async with engine(request, host) as client:
            async for batch in batched_lines(client.logs(ref, options)):
                await response.write(sse("lines", batch))
        await response.write(sse("end", {}))
    except EngineError as exc:
        status = status_of(exc)
        await response.write(sse("failure", {"message": exc.message, "status": status}))
    return response


async def batched_lines(chunks: AsyncIterator[Chunk]) -> AsyncIterator[list[list[Any]]]:
    """Log output as lists of ``[stream, line]``: whole lines (a line split across frames is
    joined, UTF-8 split across frames decoded right), at most every ``FLUSH_SECONDS`` while busy."""
    decoders = {1: codecs.getincrementaldecoder("utf-8")("replace"),
                2: codecs.getincrementaldecoder("utf-8")("replace")}
    partial = {1: "", 2: ""}
    batch: list[list[Any]] = []
    iterator = aiter(chunks)
    pending: asyncio.Future[Chunk] = asyncio.ensure_future(anext(iterator))
    sent = time.monotonic()
    try:
        while True:
            if batch:
                await asyncio.wait({pending}, timeout=max(0.0, sent + FLUSH_SECONDS - time.monotonic()))
            else:
                await asyncio.wait({pending})
            if pending.done():
                try:
                    chunk = pending.result()
                except StopAsyncIteration:
                    break
                pending = asyncio.ensure_future(anext(iterator))
                stream = 2 if chunk.stream == 2 else 1
                text = partial[stream] + decoders[stream].decode(chunk.data)
                *lines, partial[stream] = text.split("\n")
                batch.extend([stream, line] for line in lines)
                if len(batch) < BATCH_LINES and time.monotonic() - sent < FLUSH_SECONDS:
                    continue
            if batch:
                yield batch
                batch = []
            sent = time.monotonic()
    finally:
        pending.cancel()
    rest = batch + [[s, text] for s, text in partial.items() if text]
    if rest:
        yield rest


async def _download(request: web.Request, host: str, ref: str, options: LogOptions) -> web.StreamResponse:
    async with engine(request, host) as client:
        chunks = client.logs(ref, LogOptions(follow=False, stdout=options.stdout, stderr=options.stderr,
                                             timestamps=options.timestamps, tail=options.tail))
        first = await anext(chunks, None)  # a missing container is an error answer, not an empty file
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", ref)[:64]
        response = web.StreamResponse(headers={
            "Content-Type": "text/plain; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{host}-{safe}.log"'})
        await response.prepare(request)
        if first is not None:
            await response.write(first.data)
        async for chunk in chunks:
            await response.write(chunk.data)
    await response.write_eof()
    return response
