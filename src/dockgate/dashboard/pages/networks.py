"""(Being written: see the dashboard issue.)"""

from __future__ import annotations

from aiohttp import web


def register(router: web.UrlDispatcher) -> None:
    """No routes yet."""
