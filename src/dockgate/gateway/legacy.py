"""The seed's semantics of ``GET /containers/json`` kept on current engines.

API v1.18's ``since``/``before`` query parameters are silently ignored by current engines and a
non-integer ``limit`` makes them answer 500; here they become the equivalent filters and bad values
a 400 naming the parameter (the validation itself lives in engines/container_query.py).
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import parse_qsl

from dockgate.engines.container_query import ContainerListQuery


def parse_container_list_query(query: str) -> ContainerListQuery:
    """Raises BadParameter for the gateway's 400. Since/before prefixes are resolved by the caller,
    which can ask the engine (EngineClient.resolve_list_references)."""
    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(key, value)  # Go's Query().Get: the first value wins
    return ContainerListQuery.from_query(params)


@lru_cache(maxsize=1024)
def passes_through(query: str) -> bool:
    """Whether a valid container list query goes to the engine as it came, which is the usual case.
    Pollers (dashboards, ``watch docker ps``) send the same few queries again and again: each
    distinct one is parsed once. Raises BadParameter (never cached) as the parse does."""
    return not parse_container_list_query(query).needs_translation()


def is_container_list(method: str, path: str) -> bool:
    return method == "GET" and path in ("/containers/json", "/containers/json/")
