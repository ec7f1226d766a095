"""The audit trail, for admins only: who did what through the gateway, newest first, with the filters
of ``dockgate audit``, more on demand, and the filtered records exported as JSON Lines.

It is read from the audit store, not from an engine: no engine call is made, so nothing here goes
through the gateway, and the admin check is this module's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from aiohttp import web

from dockgate.access.audit import jsonl_line, record_json
from dockgate.dashboard.auth import SESSION
from dockgate.dashboard.render import SECURITY_HEADERS, page
from dockgate.dashboard.services import services
from dockgate.engines.errors import BadParameter
from dockgate.engines.time_values import to_engine_time
from dockgate.store.audit_records import AuditFilter, Decision

PAGE_SIZE = 100
MAX_LIMIT = 1000
EXPORT_BATCH = 64 << 10  # bytes written to the browser at a time
_DECISIONS: tuple[Decision, ...] = ("allow", "deny")
_NOT_ADMIN = "only admins may read the audit log"


def register(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/audit", audit_page)
    router.add_get("/ui/api/audit", records)
    router.add_get("/ui/api/audit/export", export)


@dataclass(frozen=True)
class AuditQuery:
    where: AuditFilter
    limit: int = PAGE_SIZE


def audit_query(params: Any, now: float | None = None) -> AuditQuery:
    """The query parameters ``user``, ``host``, ``operation``, ``decision``, ``since`` (as
    ``dockgate audit --since`` takes it: 1h, 24h, a date, unix seconds) and ``limit``;
    :class:`BadParameter` names a wrong one.

    ``through`` is the time of the oldest record a page shows: "load more" asks for records up to
    it *inclusive* and drops those it has, since an exclusive bound would skip records written in
    the same microsecond as that one.
    """

    def text(name: str) -> str | None:
        return str(params.get(name, "")).strip() or None

    decision = text("decision")
    if decision is not None and decision not in _DECISIONS:
        raise BadParameter("decision", f"{decision!r} is not allow or deny")
    since = text("since")
    since_at = None
    if since:
        since_at = datetime.fromtimestamp(float(to_engine_time(since, now, param="since")), UTC)
    through = text("through")
    until = None
    if through:
        try:
            until = datetime.fromisoformat(through)
        except ValueError:
            raise BadParameter("through", f"{through!r} is not an ISO 8601 time") from None
        until = (until if until.tzinfo else until.replace(tzinfo=UTC)) + timedelta(microseconds=1)
    limit_text = text("limit") or str(PAGE_SIZE)
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise BadParameter("limit", f"{limit_text!r} is not a whole number from 1 to {MAX_LIMIT}")
    where = AuditFilter(user=text("user"), host=text("host"), since=since_at, until=until,
                        operation=text("operation"), decision=cast(Decision | None, decision))
    return AuditQuery(where, int(limit_text))


def _is_admin(request: web.Request) -> bool:
    return request[SESSION].identity.is_admin


async def audit_page(request: web.Request) -> web.Response:
    if not _is_admin(request):
        return page(request, "missing.html", status=403, title="Audit log not shown",
                    message="Only admins may read the audit log.")
    return page(request, "audit.html", title="Audit log", page_size=PAGE_SIZE)


async def records(request: web.Request) -> web.Response:
    """The newest matching records, newest first; ``more`` when there may be older ones."""
    if not _is_admin(request):
        return web.json_response({"message": _NOT_ADMIN}, status=403)
    try:
        query = audit_query(request.query)
    except BadParameter as exc:
        return web.json_response({"message": str(exc), "param": exc.param}, status=400)
    w = query.where
    found = await services(request).audit.query(user=w.user, host=w.host, since=w.since, until=w.until,
                                                operation=w.operation, decision=w.decision, limit=query.limit)
    return web.json_response({"records": [record_json(r) for r in reversed(found)],
                              "more": len(found) == query.limit})


async def export(request: web.Request) -> web.StreamResponse:
    """Every matching record as JSON Lines, oldest first like ``dockgate audit --format jsonl``,
    streamed from the store so that a long trail never sits in memory."""
    if not _is_admin(request):
        return web.json_response({"message": _NOT_ADMIN}, status=403)
    try:
        where = audit_query(request.query).where
    except BadParameter as exc:
        return web.json_response({"message": str(exc), "param": exc.param}, status=400)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    response = web.StreamResponse(headers={
        **SECURITY_HEADERS, "Cache-Control": "no-store",
        "Content-Type": "application/x-ndjson; charset=utf-8",
        "Content-Disposition": f'attachment; filename="dockgate-audit-{stamp}.jsonl"'})
    await response.prepare(request)
    batch: list[str] = []
    size = 0
    async for record in services(request).audit.records(where):
        line = jsonl_line(record)
        batch.append(line)
        size += len(line)
        if size >= EXPORT_BATCH:
            await response.write("".join(batch).encode())
            batch, size = [], 0
    await response.write("".join(batch).encode())
    await response.write_eof()
    return response
