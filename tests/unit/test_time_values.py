"""--since/--until values read the way the docker CLI reads them."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from dockgate.engines.errors import BadParameter
from dockgate.engines.time_values import to_engine_time

NOW = datetime(2024, 1, 31, 12, 0, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(("value", "seconds_ago"), [
    ("42s", 42), ("10m", 600), ("1h30m", 5400), ("1.5h", 5400), ("2h0m3s", 7203),
    ("1500ms", 1.5), ("0s", 0), ("+5m", 300), ("-1h", -3600),
])
def test_durations_are_seconds_before_now(value, seconds_ago):
    assert to_engine_time(value, NOW) == str(int(NOW - seconds_ago))


def test_duration_defaults_to_the_current_time():
    assert abs(int(to_engine_time("1m")) - (time.time() - 60)) < 5


@pytest.mark.parametrize("value", ["0", "1706702400", "1706702400.5", "1706702400.123456789"])
def test_unix_timestamps_pass_through(value):
    assert to_engine_time(value, NOW) == value


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-01-31T12:00:00Z", "1706702400.000000000"),
    ("2024-01-31T12:00:00.25Z", "1706702400.250000000"),
    ("2024-01-31T12:00:00.123456789Z", "1706702400.123456789"),
    ("2024-01-31T14:00:00+02:00", "1706702400.000000000"),
    ("2024-01-31T07:30:00-04:30", "1706702400.000000000"),
    ("2024-01-31T12:00Z", "1706702400.000000000"),
    ("2024-01-31T12Z", "1706702400.000000000"),
    ("2024-01-31Z", "1706659200.000000000"),
])
def test_rfc3339_times_with_a_zone(value, expected):
    assert to_engine_time(value, NOW) == expected


@pytest.fixture
def paris(monkeypatch):
    """A local zone one hour east of UTC in January, as the docker CLI would see it."""
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-01-31T13:00:00", "1706702400.000000000"),
    ("2024-01-31T13:00", "1706702400.000000000"),
    ("2024-01-31T13", "1706702400.000000000"),
    ("2024-01-31", "1706655600.000000000"),
])
def test_times_without_a_zone_are_local(paris, value, expected):
    assert to_engine_time(value, NOW) == expected


@pytest.mark.parametrize("value", [
    "", "yesterday", "10x", "1h 30m", "-5", "2024-13-01", "2024-02-30T00:00:00Z",
    "2024-01-31T25:00:00Z", "2024-01-31T12:00:00+25:00", "12:00", "1.2.3", "h",
])
def test_bad_values_name_the_parameter(value):
    with pytest.raises(BadParameter) as caught:
        to_engine_time(value, NOW, param="since")
    assert caught.value.param == "since"
    assert str(caught.value).startswith(f"invalid since: {value!r} is not a")
