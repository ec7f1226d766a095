"""Pages from Jinja2 templates (autoescaped), with what every page needs: who is signed in, the
CSRF token for its forms and scripts, the hosts, and headers that keep it from being framed or cached."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from aiohttp import web

from dockgate.dashboard.services import services

STATIC = resources.files("dockgate.dashboard") / "static"

# Scripts only from our own files; xterm.js sets styles from script, hence style-src 'unsafe-inline'.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY",
                    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("dockgate.dashboard", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.globals["asset"] = asset
    return env


@cache
def asset(path: str) -> str:
    """A static file's URL with a digest of its content, so browsers may cache it for good."""
    digest = hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:12]
    return f"/ui/static/{path}?v={digest}"


def page(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    from dockgate.dashboard.auth import SESSION

    session = request.get(SESSION)
    srv = services(request)
    visible = [h for h in srv.hosts if session is None or srv.gatekeeper.may_see_host(session.identity, h)]
    html = _environment().get_template(template).render(
        session=session, csrf=session.csrf if session else "", hosts=visible,
        default_host=srv.gateway.default_host, path=request.path, **context)
    response = web.Response(text=html, status=status, content_type="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response
