"""The hijack relay: raw bytes both ways after ``101 UPGRADED`` (or a raw-stream 200), half-close kept.

Each direction ends on its own: when the client stops sending (``docker exec c ls`` shuts its write
side at once), the engine is told so with a half-close and its output keeps flowing back until the
engine ends it. Only when both directions are done are the sockets closed.
"""

from __future__ import annotations

import asyncio

from dockgate.net.streams import ByteStream


async def pump(source: ByteStream, sink: ByteStream, counter: list[int]) -> None:
    """Copy until EOF, with backpressure, then half-close the sink."""
    try:
        while True:
            data = await source.read()
            if not data:
                break
            counter[0] += len(data)
            sink.write(data)
            await sink.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        sink.write_eof()


async def relay(client: ByteStream, engine: ByteStream) -> tuple[int, int]:
    """Relay until both sides have finished; returns (bytes from client, bytes from engine)."""
    up, down = [0], [0]
    to_engine = asyncio.create_task(pump(client, engine, up))
    to_client = asyncio.create_task(pump(engine, client, down))
    try:
        await to_client  # the session ends when the engine has said all it will say
        if not to_engine.done():
            to_engine.cancel()
        await asyncio.gather(to_engine, return_exceptions=True)
    finally:
        for task in (to_engine, to_client):
            task.cancel()
    return up[0], down[0]
