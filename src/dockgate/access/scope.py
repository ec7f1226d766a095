"""Label scopes: which containers a grant covers, and how that is pushed into the engine's own filters.

A grant like ``viewer@prod:team=payments`` covers the containers whose labels include every pair of
the scope. Lists and event streams get the scope as ``label`` filters, so the engine does the
filtering and ``limit`` still counts only what the caller may see; single containers are checked
against their labels (and answered 404 when outside, so that existence does not leak).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

OWNER_LABEL = "dockgate.owner"


class ScopeError(ValueError):
    """A filters parameter too malformed to add the scope to (the caller answers 400)."""


def in_scope(labels: Mapping[str, str] | None, scope: Mapping[str, str]) -> bool:
    labels = labels or {}
    return all(labels.get(key) == value for key, value in scope.items())


def with_label_filters(query: str, scope: Mapping[str, str]) -> str:
    """``query`` with the scope's pairs added to its ``filters`` JSON (both of the engine's forms:
    ``{"label": ["a=b"]}`` and ``{"label": {"a=b": true}}``), other parameters kept as sent."""
    if not scope:
        return query
    params = parse_qsl(query, keep_blank_values=True)
    filters: dict[str, object] = {}
    kept = []
    for key, value in params:
        if key != "filters":
            kept.append((key, value))
            continue
        if filters:
            continue  # Go's Query().Get: the first value wins
        try:
            filters = json.loads(value) if value else {}
        except ValueError:
            raise ScopeError(f"invalid filters: {value[:60]!r} is not JSON") from None
        if not isinstance(filters, dict):
            raise ScopeError("invalid filters: expected a JSON object")
    labels = filters.get("label", [])
    if isinstance(labels, dict):
        labels = [name for name, on in labels.items() if on]
    if not isinstance(labels, list):
        raise ScopeError("invalid filters: label must be a list")
    filters["label"] = [*labels, *(f"{k}={v}" for k, v in sorted(scope.items()))]
    return urlencode([*kept, ("filters", json.dumps(filters, separators=(",", ":")))])
