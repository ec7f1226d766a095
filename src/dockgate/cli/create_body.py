"""Reading a ``dockgate create --config`` body: the seed's ``POST /containers/create`` JSON, from a
file or stdin. The flags on top of it become a body in engines/container_spec.py, which the
dashboard's create page shares.
"""

from __future__ import annotations

import json
from typing import Any

from dockgate.engines.container_spec import json_type
from dockgate.engines.errors import BadParameter


def parse_config(text: str, source: str) -> dict[str, Any]:
    """A ``--config`` body: one JSON object, with no key given twice (the engine would silently
    keep the last one, so a duplicate is more likely a mistake than an intent)."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise BadParameter("--config", f"{source}: key {key!r} is given twice")
            seen[key] = value
        return seen

    try:
        body = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise BadParameter("--config", f"{source} is not valid JSON ({exc.msg} at line {exc.lineno} "
                           f"column {exc.colno})") from None
    if not isinstance(body, dict):
        raise BadParameter("--config", f"{source} must hold a JSON object (a create body), "
                           f"not {json_type(body)}")
    return body
