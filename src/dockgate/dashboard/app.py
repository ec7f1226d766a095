"""The dashboard's aiohttp application: its routes, middlewares and static files."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from dockgate.dashboard import auth
from dockgate.dashboard.engine_calls import error_response
from dockgate.dashboard.pages import (
    audit,
    container,
    container_exec,
    container_stats,
    containers,
    create,
    events,
    hosts,
    images,
    networks,
    volumes,
)
from dockgate.dashboard.render import SECURITY_HEADERS, STATIC
from dockgate.dashboard.services import SERVICES, Services
from dockgate.engines.errors import EngineError


@web.middleware
async def headers(request: web.Request,
                  handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Security headers on everything; engine failures as JSON rather than a stack trace; a browser
    that leaves in the middle of a stream is not an error."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    except EngineError as exc:
        response = error_response(exc)
    except ConnectionResetError:  # the browser left a stream (logs, events, stats): nothing to send
        return web.Response(status=499, reason="Client Closed Request")
    if not response.prepared:
        response.headers.update(SECURITY_HEADERS)
        if request.path.startswith("/ui/static/") and "v" in request.query:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    if isinstance(response, web.HTTPException) and response.status >= 300:
        raise response
    return response


async def _to_home(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/ui/")


def build_app(services: Services) -> web.Application:
    app = web.Application(middlewares=[headers, auth.require_session], client_max_size=4 << 20)
    app[SERVICES] = services
    app[auth.THROTTLE] = auth.LoginThrottle()
    app.router.add_get("/", _to_home)
    app.router.add_get("/ui", _to_home)
    app.router.add_get(auth.LOGIN_PATH, auth.login_page)
    app.router.add_post(auth.LOGIN_PATH, auth.login)
    app.router.add_post("/ui/logout", auth.logout)
    app.router.add_static("/ui/static/", str(STATIC), follow_symlinks=False)
    for pages in (hosts, containers, container, container_exec, container_stats, create, images, networks,
                  volumes, events, audit):
        pages.register(app.router)
    return app
