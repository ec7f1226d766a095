"""``since``/``until`` values as the docker CLI reads them (the CLI's flags, the dashboard's fields),
turned into what the engine accepts.

The engine only understands unix timestamps (``seconds[.nanoseconds]``); the docker CLI also takes
RFC 3339 dates (whole or cut after the day, hour or minute; local time when no zone is given) and Go
durations (``10m``, ``1h30m``, ``1.5h``) meaning "that long before now". Parsing here, before any
request, lets a typo exit 2 with a message instead of the engine's 400 (or a silently empty answer).
"""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime, timedelta, timezone

from dockgate.engines.errors import BadParameter

# Go's time.ParseDuration units, in seconds.
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_TERM = r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)"
_DURATION = re.compile(rf"([-+]?)((?:{_TERM})+)")
_UNIX = re.compile(r"\d+(?:\.\d{1,9})?")
_DATE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?)?"
    r"(Z|z|[+-]\d{2}:\d{2})?"
)
_HINT = ("use an RFC 3339 time (2024-01-31, 2024-01-31T13:45:00Z, 2024-01-31T13:45+02:00), "
         "unix seconds (1706708700), or a duration before now (42s, 10m, 1h30m)")


def to_engine_time(value: str, now: float | None = None, *, param: str = "time") -> str:
    """The engine's form of a docker-CLI time value; ``now`` anchors durations and the local zone.

    Durations give whole unix seconds, dates ``seconds.nanoseconds``, and unix timestamps pass
    through unchanged, exactly as the docker CLI sends them. ``param`` names the option in errors.
    """
    now = time.time() if now is None else now
    text = value.strip()
    duration = _DURATION.fullmatch(text)
    if duration and text != "0":
        sign = -1.0 if duration.group(1) == "-" else 1.0
        seconds = sum(float(number) * _UNITS[unit] for number, unit in re.findall(_TERM, duration.group(2)))
        return str(math.floor(now - sign * seconds))
    if _UNIX.fullmatch(text):
        return text
    date = _DATE.fullmatch(text)
    if date is None:
        raise BadParameter(param, f"{value!r} is not a time or a duration; {_HINT}")
    year, month, day, hour, minute, second, fraction, zone = date.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                          int(second or 0), tzinfo=_zone(zone, now))
    except ValueError as exc:
        raise BadParameter(param, f"{value!r} is not a valid date ({exc})") from None
    nanos = int((fraction or "0")[:9].ljust(9, "0"))
    return f"{int(moment.timestamp())}.{nanos:09d}"


def _zone(zone: str | None, now: float) -> timezone:
    """The written offset, or like the docker CLI the local offset in force at ``now``."""
    if zone in ("Z", "z"):
        return UTC
    if zone:
        sign = -1 if zone[0] == "-" else 1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    offset = datetime.fromtimestamp(now).astimezone().utcoffset() or timedelta(0)
    return timezone(offset)
