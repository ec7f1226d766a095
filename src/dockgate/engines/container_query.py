"""The container list query of the seed (API v1.18) and of current engines, validated before sending.

Current engines ignore the v1.18 ``since``/``before`` query parameters (they became filters) and
answer 500 to a non-numeric ``limit``. This module is the one place that knows the parameters, so
the CLI can exit 2 and the gateway can answer 400 with a message naming the parameter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dockgate.engines.errors import BadParameter
from dockgate.engines.filters import CONTAINER_FILTERS, check_filters, filters_from_args

__all__ = ["BadParameter", "ContainerListQuery", "parse_bool", "parse_filters_json"]

_TRUE = ("1", "true", "True")
_FALSE = ("0", "false", "False")


def parse_bool(param: str, value: str) -> bool:
    """The seed's booleans: 1/True/true or 0/False/false (and an empty value counts as false)."""
    if value in _TRUE:
        return True
    if value in _FALSE or value == "":
        return False
    raise BadParameter(param, f"{value!r} is not a boolean (use 1/True/true or 0/False/false)")


@dataclass
class ContainerListQuery:
    """``GET /containers/json``. ``since``/``before`` are the v1.18 parameters."""

    all: bool = False
    limit: int | None = None
    since: str | None = None
    before: str | None = None
    size: bool = False
    filters: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < -1:
            raise BadParameter("limit", f"{self.limit} must be a non-negative integer")
        for param in ("since", "before"):
            value = getattr(self, param)
            if value is not None and (not value or any(c.isspace() for c in value)):
                raise BadParameter(param, f"{value!r} is not a container id or name")
        check_filters(self.filters, CONTAINER_FILTERS)

    @classmethod
    def from_filter_args(cls, args: Iterable[str], **kwargs: object) -> ContainerListQuery:
        return cls(filters=filters_from_args(args, CONTAINER_FILTERS), **kwargs)  # type: ignore[arg-type]

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> ContainerListQuery:
        """From URL query parameters, as the gateway receives them."""
        limit = None
        if query.get("limit", "") != "":
            try:
                limit = int(query["limit"])
            except ValueError:
                raise BadParameter("limit", f"{query['limit']!r} is not an integer") from None
        return cls(
            all=parse_bool("all", query.get("all", "")),
            limit=limit,
            since=query.get("since") or None,
            before=query.get("before") or None,
            size=parse_bool("size", query.get("size", "")),
            filters=parse_filters_json(query.get("filters", "")),
        )

    def effective_filters(self) -> dict[str, list[str]]:
        """Filters with the legacy parameters folded in, as a current engine understands them."""
        merged = {key: list(values) for key, values in self.filters.items()}
        for param in ("since", "before"):
            value = getattr(self, param)
            if value and value not in merged.get(param, []):
                merged.setdefault(param, []).append(value)
        return merged

    def needs_translation(self) -> bool:
        """Whether an engine would read this query differently from the seed: the legacy since/before
        parameters (ignored by current engines) or since/before filters (id prefixes make them 500).
        Otherwise the query can go as it came; booleans and both filter forms mean the same there."""
        return bool(self.since or self.before or {"since", "before"} & self.filters.keys())

    def references(self) -> set[str]:
        """Container references in since/before, which engines only accept as full ids or names."""
        return set(self.reference_params())

    def reference_params(self) -> dict[str, str]:
        """Each since/before reference and the parameter that holds it."""
        merged = self.effective_filters()
        return {ref: param for param in ("before", "since") for ref in merged.get(param, [])}

    def resolved(self, ids: Mapping[str, str]) -> ContainerListQuery:
        """The same query with since/before references replaced by full ids."""
        filters = {key: [ids.get(v, v) if key in ("since", "before") else v for v in values]
                   for key, values in self.filters.items()}
        return ContainerListQuery(
            all=self.all, limit=self.limit, size=self.size, filters=filters,
            since=ids.get(self.since, self.since) if self.since else None,
            before=ids.get(self.before, self.before) if self.before else None)

    def engine_params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.all:
            params["all"] = "1"
        if self.limit is not None:
            params["limit"] = str(self.limit)
        if self.size:
            params["size"] = "1"
        filters = self.effective_filters()
        if filters:
            params["filters"] = json.dumps(filters, separators=(",", ":"))
        return params


def parse_filters_json(text: str) -> dict[str, list[str]]:
    """The ``filters`` query value: ``{"key": ["v", ...]}`` or the legacy ``{"key": {"v": true}}``."""
    if not text:
        return {}
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadParameter("filters", f"not valid JSON ({exc.msg})") from None
    if not isinstance(raw, dict):
        raise BadParameter("filters", "must be a JSON object of filter name to list of values")
    filters: dict[str, list[str]] = {}
    for key, values in raw.items():
        if isinstance(values, dict) and all(v is True for v in values.values()):
            values = list(values)
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise BadParameter("filters", f"{key}: values must be a list of strings")
        filters[key] = values
    return filters
