"""The Stats tab's live figures: one server-sent event per engine sample (about one a second).

The engine sends raw cgroup counters. The page wants what people know from ``docker stats`` (CPU %
and memory by the docker CLI's arithmetic) and, for network and disks, rates rather than totals
since the container started, which need the previous sample. That arithmetic is :func:`point`, a
pure function of two readings, so it is tested on recorded samples without an engine.
"""

from __future__ import annotations

from aiohttp import web

from dockgate.dashboard.engine_calls import engine, status_of
from dockgate.dashboard.sse import open_stream, sse
from dockgate.engines.errors import EngineError
from dockgate.engines.stats_reading import StatsReading

RATES = ("net_rx", "net_tx", "blk_read", "blk_write")  # the page's names of the I/O rates


def register(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/api/hosts/{host}/containers/{ref}/stats", stats)


def point(current: StatsReading, previous: StatsReading | None) -> dict[str, float | None]:
    """What the page draws at ``t``: I/O as bytes per second since ``previous``; None for the first
    reading, and across a counter reset (a restart starts the counters again from zero)."""
    rates: list[float | None] = [None] * len(RATES)
    if previous is not None and current.time > previous.time:
        seconds = current.time - previous.time
        rates = [(now - before) / seconds if now >= before else None
                 for now, before in zip(current.io, previous.io, strict=True)]
    return {"t": current.time, "cpu": current.cpu_percent, "mem": current.memory_usage,
            "mem_limit": current.memory_limit, **dict(zip(RATES, rates, strict=True))}


async def stats(request: web.Request) -> web.StreamResponse:
    """Events: ``point`` per sample, ``stopped`` per sample while the container is not running (the
    engine keeps the stream open and resumes when it starts), ``end`` and ``failure``."""
    async with engine(request, request.match_info["host"]) as client:  # no such host: 404, not a stream
        response = await open_stream(request)
        previous = None
        try:
            async for raw in client.stats(request.match_info["ref"]):
                current = StatsReading.from_engine(raw)
                await response.write(sse("point", point(current, previous)) if current
                                     else sse("stopped", {}))
                previous = current
            await response.write(sse("end", {}))
        except EngineError as exc:
            status = status_of(exc)
            await response.write(sse("failure", {"message": exc.message, "status": status}))
        except ConnectionResetError:
            pass  # the page was closed or left the tab: the way this stream usually ends
    return response
