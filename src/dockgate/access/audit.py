"""The audit trail: one record per request, allowed or not, written before anything is changed.

For a mutating call the gateway writes the record with :meth:`AuditLog.record` *before* forwarding
it, and refuses the call when that raises :class:`AuditUnavailable` (fail closed); reads go on
without a record then. When the answer is known, :meth:`AuditLog.complete` adds the status,
duration and byte counts, and for exec/attach sessions the stream's start and end.

Request bodies are kept for mutating calls only after :func:`redact_body` took the secrets out:
values of environment variables whose name looks secret, values of keys that look secret
(``password``, ``IdentityToken``, ``JoinToken``, ``UnlockKey``...), a swarm secret's ``Data``.
Headers are never recorded, so ``X-Registry-Auth`` and ``Authorization`` values cannot leak here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any, TextIO

from dockgate.store import audit_records
from dockgate.store.audit_records import OUTCOME, AuditFilter, AuditRecord, Decision
from dockgate.store.database import DATABASE_ERRORS, Store, describe

__all__ = ["DEFAULT_SECRET_PATTERNS", "REDACTED", "AuditLog", "AuditRecord", "AuditUnavailable",
           "jsonl_line", "record_json", "redact_body"]

log = logging.getLogger("dockgate.audit")
DEFAULT_SECRET_PATTERNS = (r"(?i)(pass|secret|token|key|auth|credential)",)
REDACTED = "***"


class AuditUnavailable(Exception):
    """The audit store cannot be written: mutating requests must be refused."""


def redact_body(operation: str, body: bytes,
                secret_patterns: Sequence[str | re.Pattern[str]] = DEFAULT_SECRET_PATTERNS) -> str | None:
    """``body`` as compact JSON text with secrets replaced by ``***``; None when it is not JSON
    (archives, build contexts) or empty. ``operation`` is the Engine API's name for the call
    (``ContainerCreate``, ``PluginSet``, ``SecretCreate``...); ``secret_patterns`` are searched in
    each variable or key name (``[audit] secret_patterns`` in the configuration).

    Keys match case-insensitively where the engine's decoder does (``env`` is ``Env``), and every
    occurrence is redacted, duplicates included, so no spelling slips a secret through.
    """
    if not body:
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None

    def secret(name: str) -> bool:
        return any(re.search(p, name) for p in secret_patterns)

    def env(entries: list[Any]) -> list[Any]:
        return [f"{e.partition('=')[0]}={REDACTED}"
                if isinstance(e, str) and "=" in e and secret(e.partition("=")[0]) else e
                for e in entries]

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(v) for v in value]
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key.lower() == "env" and isinstance(item, list):
                out[key] = env(item)
            elif isinstance(item, str) and secret(key):
                out[key] = REDACTED
            else:
                out[key] = walk(item)
        return out

    try:
        if operation == "PluginSet" and isinstance(data, list):
            redacted: Any = env(data)  # the body is a list of NAME=value settings
        else:
            redacted = walk(data)
    except RecursionError:  # nested deeper than anything the engine takes: say so, keep the record
        return json.dumps({"dockgate": "body not recorded: nested too deeply"})
    if operation.startswith("Secret") and isinstance(redacted, dict):
        redacted = {k: REDACTED if k.lower() == "data" else v for k, v in redacted.items()}
    # ASCII escapes: a lone surrogate (\ud800) in a body must not make the record unwritable.
    return json.dumps(redacted, separators=(",", ":"), ensure_ascii=True)


class AuditLog:
    """Writes and reads audit records. ``timeout`` bounds a write, so a hung database refuses
    mutating calls instead of holding them."""

    def __init__(self, store: Store, *, timeout: float = 5.0, batch_delay: float = 0.2) -> None:
        self.store = store
        self.timeout = timeout
        self.batch_delay = batch_delay
        self._pending: list[AuditRecord] = []
        self._outcomes: list[dict[str, Any]] = []
        self._flusher: asyncio.Task[None] | None = None

    def later(self, rec: AuditRecord) -> None:
        """Queue ``rec`` (a read's, or a refusal's) for the next batch: one transaction per batch
        instead of a disk sync per request keeps reads as fast as without an audit trail."""
        self._pending.append(rec)
        self._schedule()

    def complete_later(self, record_id: int, answered: AuditRecord) -> None:
        """Queue the outcome in ``answered`` for the record written before forwarding (see
        :meth:`complete`): the record that matters, that the call happened, is already on disk."""
        self._outcomes.append({"id": record_id, **{name: getattr(answered, name) for name in OUTCOME}})
        self._schedule()

    def _schedule(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        """One batch per ``batch_delay`` at most: what arrives while a batch is written waits for
        the next one, so a busy gateway writes a few large batches, not many small ones."""
        while self._pending or self._outcomes:
            await asyncio.sleep(self.batch_delay)
            await self._write_batch()

    async def flush(self) -> None:
        """Write everything queued now (at shutdown)."""
        while self._pending or self._outcomes:
            await self._write_batch()

    async def _write_batch(self) -> None:
        """Write what is queued; a store that fails loses the batch, logged, since reads go on."""
        if self._pending or self._outcomes:
            batch, self._pending = self._pending, []
            outcomes, self._outcomes = self._outcomes, []
            try:
                async with asyncio.timeout(self.timeout):
                    if batch:
                        await audit_records.insert_records(self.store, batch)
                    if outcomes:
                        await audit_records.complete_records(self.store, outcomes)
            except (*DATABASE_ERRORS, ValueError) as exc:
                log.error("%s; %d audit records and %d outcomes lost", self._unavailable(exc), len(batch),
                          len(outcomes))

    async def record(self, rec: AuditRecord) -> int:
        """Write ``rec`` durably and return its id; :class:`AuditUnavailable` if it cannot be."""
        try:
            async with asyncio.timeout(self.timeout):
                return await audit_records.insert_record(self.store, rec)
        except DATABASE_ERRORS as exc:
            raise self._unavailable(exc) from exc

    async def complete(self, record_id: int, *, status: int | None, duration_ms: float, bytes_in: int,
                       bytes_out: int, kind: str | None = None, started: datetime | None = None,
                       ended: datetime | None = None) -> None:
        """Add what is known once the answer is, now (:meth:`complete_later` batches it)."""
        outcome: dict[str, object] = {"id": record_id, "status": status, "duration_ms": duration_ms,
                                      "bytes_in": bytes_in, "bytes_out": bytes_out, "kind": kind,
                                      "started": started, "ended": ended}
        try:
            async with asyncio.timeout(self.timeout):
                await audit_records.complete_records(self.store, [outcome])
        except DATABASE_ERRORS as exc:
            raise self._unavailable(exc) from exc

    async def query(self, *, user: str | None = None, host: str | None = None,
                    since: datetime | None = None, until: datetime | None = None,
                    operation: str | None = None, decision: Decision | None = None,
                    limit: int | None = 100) -> list[AuditRecord]:
        """The newest ``limit`` records matching every given filter (all when None), oldest first.
        ``since`` is inclusive, ``until`` exclusive."""
        where = AuditFilter(user, host, since, until, operation, decision)
        return await audit_records.latest_records(self.store, where, limit)

    async def export_jsonl(self, out: TextIO, *, user: str | None = None, host: str | None = None,
                           since: datetime | None = None, until: datetime | None = None,
                           operation: str | None = None, decision: Decision | None = None) -> int:
        """Write every matching record to ``out`` as JSON Lines, oldest first; return the count."""
        count = 0
        async for rec in self.records(AuditFilter(user, host, since, until, operation, decision)):
            out.write(jsonl_line(rec))
            count += 1
        return count

    def records(self, where: AuditFilter) -> AsyncIterator[AuditRecord]:
        """Every record matching ``where``, oldest first, read from the store a batch at a time:
        an export of a long trail never sits in memory whole."""
        return audit_records.stream_records(self.store, where)

    def _unavailable(self, exc: BaseException) -> AuditUnavailable:
        reason = "timed out" if isinstance(exc, TimeoutError) else describe(exc)
        return AuditUnavailable(f"the audit store {self.store.display_url} cannot be written: {reason}")


def record_json(rec: AuditRecord) -> dict[str, Any]:
    """A record as a JSON object: times in ISO 8601, the body as the JSON it holds."""
    data = asdict(rec)
    for key, value in data.items():
        if isinstance(value, datetime):
            data[key] = value.isoformat()
    data["body"] = None if rec.body is None else json.loads(rec.body)
    return data


def jsonl_line(rec: AuditRecord) -> str:
    """A record as one line of JSON Lines, newline included."""
    return json.dumps(record_json(rec), ensure_ascii=False) + "\n"
