"""The same engine call on several hosts at once, one host's failure never hiding the others."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from dockgate.engines.client import EngineClient
from dockgate.engines.endpoint import Endpoint
from dockgate.engines.errors import EngineError

T = TypeVar("T")


@dataclass
class HostResult(Generic[T]):
    endpoint: Endpoint
    value: T | None = None
    error: EngineError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


async def on_each(endpoints: Sequence[Endpoint], work: Callable[[EngineClient], Awaitable[T]],
                  *, connect_timeout: float = 5.0) -> list[HostResult[T]]:
    """Run ``work`` against every endpoint concurrently; results keep the endpoints' order."""

    async def one(endpoint: Endpoint) -> HostResult[T]:
        try:
            async with EngineClient(endpoint, connect_timeout=connect_timeout) as engine:
                return HostResult(endpoint, value=await work(engine))
        except EngineError as exc:
            return HostResult(endpoint, error=exc)

    return list(await asyncio.gather(*(one(e) for e in endpoints)))
