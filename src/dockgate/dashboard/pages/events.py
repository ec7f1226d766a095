"""The engines' event streams, merged across the hosts a user may see: the feed the events page
shows, and what keeps the containers list current."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import web

from dockgate.dashboard.engine_calls import engine, status_of, visible_hosts
from dockgate.dashboard.render import page
from dockgate.dashboard.sse import KEEPALIVE, open_stream, sse
from dockgate.engines.errors import EngineError
from dockgate.engines.filters import EVENT_FILTERS, check_filters

KEEPALIVE_SECONDS = 15.0
RETRY_SECONDS = 5.0


def register(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/events", events_page)
    router.add_get("/ui/api/events", event_stream)


async def events_page(request: web.Request) -> web.Response:
    return page(request, "events.html", title="Events")


def event_filters(params: Any) -> dict[str, list[str]]:
    """``type``, ``event``, ``container``, ``image``, ``label``... as repeated query parameters."""
    filters: dict[str, list[str]] = {}
    for key in sorted(EVENT_FILTERS):
        values = [v.strip() for v in params.getall(key, []) if v.strip()]
        if values:
            filters[key] = values
    check_filters(filters, EVENT_FILTERS)
    return filters


async def event_stream(request: web.Request) -> web.StreamResponse:
    """Events of every visible host (``host=`` narrows), each with ``Host``; ``since`` replays.

    A host whose stream fails is reported (``host-down``) and tried again every few seconds, so a
    page left open picks it up when it comes back (``host-up``).
    """
    try:
        filters = event_filters(request.query)
    except ValueError as exc:
        return web.json_response({"message": str(exc)}, status=400)
    since = request.query.get("since") or None
    hosts = visible_hosts(request, [h for h in request.query.getall("host", []) if h])
    response = await open_stream(request)
    queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=10_000)

    async def follow(host: str) -> None:
        start = since
        while True:
            try:
                async with engine(request, host) as client:
                    await queue.put(sse("host-up", {"host": host}))
                    async for event in client.events(since=start, filters=filters):
                        start = None
                        await queue.put(sse("event", {**event, "Host": host}))
            except EngineError as exc:
                status = status_of(exc)
                await queue.put(sse("host-down", {"host": host, "message": exc.message, "status": status}))
                if status in (401, 403):
                    return
            await asyncio.sleep(RETRY_SECONDS)

    tasks = [asyncio.create_task(follow(h)) for h in hosts]
    try:
        while True:
            try:
                data = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                data = KEEPALIVE
            await response.write(data)
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*tasks, return_exceptions=True)


