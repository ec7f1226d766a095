"""events against the real private engines: past windows (deterministic), a live stream that ends at
--until by itself, several hosts at once, and filters checked before anything is sent."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

# docker's line: time with nanoseconds and zone, type, action, actor id, (attributes).
LINE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(?:Z|[+-]\d\d:\d\d)) "
                  r"(\S+) (\S+) (\S+)(?: \((.*)\))?")


def rfc3339(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize("form", ["unix", "rfc3339"])
def test_past_window_shows_create_and_start_of_the_container_like_docker(dockgate, docker1, name, form):
    since = time.time() - 1
    container = docker1.containers.run("busybox", ["sleep", "300"], name=name, detach=True)
    until = time.time() + 1
    window = (f"{since:.3f}", f"{until:.3f}") if form == "unix" else (rfc3339(since), rfc3339(until))
    result = dockgate("events", "--since", window[0], "--until", window[1], "--filter", f"container={name}")
    assert result.returncode == 0, result.stderr
    lines = [LINE.fullmatch(line) for line in result.out_lines]
    assert all(lines), result.stdout
    actions = [(m.group(2), m.group(3), m.group(4)) for m in lines]
    assert actions[:2] == [("container", "create", container.id), ("container", "start", container.id)]
    assert lines[0].group(5) == f"image=busybox, name={name}"  # attributes sorted, like docker's


def test_json_lines_carry_the_host(dockgate, docker1, name):
    since = time.time() - 1
    docker1.containers.create("busybox", ["true"], name=name)
    result = dockgate("events", "--since", f"{since:.3f}", "--until", f"{time.time() + 1:.3f}",
                      "-f", f"container={name}", "--format", "json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.out_lines]
    assert [(e["host"], e["Type"], e["Action"]) for e in events] == [("test1", "container", "create")]
    assert events[0]["Actor"]["Attributes"]["name"] == name


@pytest.mark.timeout(60)
def test_live_stream_sees_a_new_container_and_ends_at_until(cli_env, docker1, name):
    start = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dockgate", "events", "--since", f"{start:.3f}", "--until",
         f"{start + 5:.3f}", "--filter", f"container={name}", "--filter", "event=start"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env, text=True)
    try:
        container = docker1.containers.run("busybox", ["sleep", "300"], name=name, detach=True)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert time.time() - start >= 4.5  # it followed the stream until --until, then stopped
    assert [m.group(2, 3, 4) for m in map(LINE.fullmatch, out.splitlines())] == [
        ("container", "start", container.id)]


@pytest.mark.timeout(30)
def test_open_ended_stream_ends_quietly_on_ctrl_c(cli_env, name):
    proc = subprocess.Popen([sys.executable, "-m", "dockgate", "events", "-f", f"container={name}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env, text=True)
    try:
        time.sleep(2)
        assert proc.poll() is None  # still following
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert (proc.returncode, out, err) == (0, "", "")


def test_several_hosts_are_followed_at_once_with_a_host_prefix(dockgate, docker2, name):
    since = time.time() - 1
    docker2.containers.create("busybox", ["true"], name=name)
    result = dockgate("events", "--all-hosts", "--since", f"{since:.3f}", "--until", f"{time.time() + 1:.3f}",
                      "-f", f"container={name}")
    assert result.returncode == 0, result.stderr  # one host down does not stop the others
    assert "host down is down" in result.stderr
    assert len(result.out_lines) == 1
    host, line = result.out_lines[0].split(" ", 1)
    assert host == "test2"
    assert LINE.fullmatch(line).group(3) == "create"


@pytest.mark.parametrize(("args", "message"), [
    (("--filter", "nokeyvalue"), "invalid filter: 'nokeyvalue' is not key=value"),
    (("--filter", "colour=red"), "invalid filters: unknown filter 'colour'"),
    (("--filter", "type=contaner"), "invalid filters: type: 'contaner' is not one of"),
    (("--filter", "container="), "invalid filters: container: must not be empty"),
    (("--since", "yesterday"), "invalid since: 'yesterday' is not a time or a duration"),
    (("--until", "2024-13-45"), "invalid until: '2024-13-45' is not a valid date"),
])
def test_bad_filters_and_times_exit_2_before_anything_is_sent(dockgate, args, message):
    result = dockgate("events", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
