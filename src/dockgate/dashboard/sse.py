"""Server-sent events, the dashboard's way to stream to a page (logs, events, stats): plain HTTP that
passes the gateway's relay as any stream does, and that browsers reconnect by themselves."""

from __future__ import annotations

import json

from aiohttp import web

HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
KEEPALIVE = b": keep-alive\n\n"  # a comment line: nothing for the page, but a dead browser shows


def sse(kind: str, data: object) -> bytes:
    """One event named ``kind`` with ``data`` as compact JSON."""
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def open_stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers=HEADERS)
    await response.prepare(request)
    return response
