"""Creating a container from a form of docker run's options or from a full JSON create body (the
seed's ``POST /containers/create``), through the gateway like every dashboard call: a body the
user's policy refuses comes back as the gateway's 403 and is shown beside the field it concerns.

The body is built here, never in the browser (see dashboard/create_form.py), so a value the form
cannot take is refused with the same message ``dockgate create`` gives, beside its field.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dockgate.dashboard.auth import SESSION
from dockgate.dashboard.create_form import (
    CreateForm,
    FieldError,
    body_of,
    check_name,
    refused_field,
    split_body,
)
from dockgate.dashboard.engine_calls import engine, visible_hosts
from dockgate.dashboard.render import page
from dockgate.dashboard.services import services
from dockgate.engines.errors import Conflict, EngineAPIError, EngineError, ImageNotFound


def register(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/create", create_page)
    router.add_get("/ui/api/hosts/{host}/image-tags", image_tags)
    router.add_post("/ui/api/create/body", form_to_body)
    router.add_post("/ui/api/create/form", body_to_form)
    router.add_post("/ui/api/hosts/{host}/containers/create", create)


def creatable_hosts(request: web.Request) -> list[str]:
    """The hosts where some grant lets the user create containers: the only ones offered."""
    gatekeeper, identity = services(request).gatekeeper, request[SESSION].identity
    return [h for h in visible_hosts(request) if "ContainerCreate" in gatekeeper.operations_on(identity, h)]


async def create_page(request: web.Request) -> web.Response:
    hosts = creatable_hosts(request)
    default = services(request).gateway.default_host
    wanted = request.query.get("host")
    chosen = wanted if wanted in hosts else default if default in hosts else next(iter(hosts), None)
    return page(request, "create.html", title="Create a container", creatable=hosts, chosen=chosen)


async def image_tags(request: web.Request) -> web.Response:
    """The image references present on a host, which the image field suggests."""
    async with engine(request, request.match_info["host"]) as client:
        images = await client.images()
    tags = {tag for image in images for tag in image.get("RepoTags") or [] if tag != "<none>:<none>"}
    return web.json_response({"images": sorted(tags)})


async def form_to_body(request: web.Request) -> web.Response:
    """``{"form": {...}, "rest": {...}}``: the body the form makes on top of the JSON it does not
    show, for the JSON view (a draft: the image may still be missing)."""
    try:
        payload = await _payload(request)
        return web.json_response({"body": body_of(CreateForm.from_json(payload.get("form")),
                                                  _object(payload.get("rest", {})), draft=True)})
    except FieldError as exc:
        return _field_error(exc)


async def body_to_form(request: web.Request) -> web.Response:
    """``{"body": {...}}``: the form's fields for it, and the JSON the form cannot show."""
    try:
        payload = await _payload(request)
        return web.json_response(split_body(_object(payload.get("body"))).json())
    except FieldError as exc:
        return _field_error(exc)


async def create(request: web.Request) -> web.Response:
    """``{"name": ..., "body": {...}, "start": bool}``, and ``"form": {...}`` when the body comes
    from the form (then ``body`` holds only the JSON the form does not show). Answers 201
    ``{"Id", "Warnings", "started"}`` (with ``start_error`` when the start failed), or 4xx
    ``{"message", "field"}`` naming the form field at fault (None: the whole request)."""
    host = request.match_info["host"]
    try:
        payload = await _payload(request)
        name = check_name(str(payload.get("name") or ""))
        body = _object(payload.get("body", {}))
        if payload.get("form") is not None:
            body = body_of(CreateForm.from_json(payload["form"]), body)
    except FieldError as exc:
        return _field_error(exc)
    async with engine(request, host) as client:
        try:
            created = await client.create_container(body, name=name)
        except EngineAPIError as exc:
            return _refusal(exc, host)
        answer: dict[str, Any] = {"Id": created["Id"], "Warnings": created.get("Warnings") or [],
                                  "started": False}
        if payload.get("start") is True:
            try:
                await client.container_action(created["Id"], "start")
                answer["started"] = True
            except EngineError as exc:
                answer["start_error"] = getattr(exc, "message", str(exc))
    return web.json_response(answer, status=201)


async def _payload(request: web.Request) -> dict[str, Any]:
    try:
        payload = await request.json()
    except ValueError:
        raise FieldError(None, "expected a JSON object") from None
    return _object(payload)


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldError("json", "the body must be a JSON object, as POST /containers/create takes")
    return value


def _field_error(exc: FieldError) -> web.Response:
    return web.json_response({"message": exc.message, "field": exc.field}, status=400)


def _refusal(exc: EngineAPIError, host: str) -> web.Response:
    """The engine's or the gateway's answer, with the form field it concerns."""
    message, path = exc.message, None
    if isinstance(exc, ImageNotFound):
        field: str | None = "image"
        image = exc.image or "the image"
        message = (f"{exc.message} on {host}: pull it first (dockgate pull {image} --host {host}), "
                   "or pick one the host has")
    elif isinstance(exc, Conflict) and "name" in exc.message:
        field = "name"
    elif exc.status == 400 and "reference format" in exc.message:
        field = "image"
    else:
        field, path = refused_field(exc.message)
    return web.json_response({"message": message, "field": field, "path": path}, status=exc.status)
