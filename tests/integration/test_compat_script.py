"""bench/compat.py in its --quick form: the same scenarios with the stock docker CLI and docker-py,
straight against its own engine and through a dockgate gateway in front of it, must pass as often on
both sides."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "compat.py"
COUNTS = re.compile(r"^direct: (\d+)/(\d+) passed, gateway: (\d+)/(\d+) passed", re.MULTILINE)


def compat(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.timeout(300)
def test_quick_run_passes_as_many_scenarios_through_the_gateway_as_directly():
    result = compat("--quick", timeout=280)
    report = result.stdout + result.stderr
    counts = COUNTS.search(result.stdout)
    assert counts, report
    direct, total, gateway, _ = map(int, counts.groups())
    assert direct > 0 and gateway > 0, report
    assert direct == gateway, report
    assert result.returncode == 0, report
    assert total == compat("--list", timeout=30).stdout.count("(quick)"), report  # every quick scenario ran


def test_unknown_scenario_is_a_clear_error_before_anything_starts():
    result = compat("--only", "no-such-scenario", timeout=30)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "no scenario matches --only 'no-such-scenario'" in result.stderr
