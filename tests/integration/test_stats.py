"""stats against the real private engines: the docker CLI's figures, one host or many, live view."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time

import docker
import pytest

COLUMNS = ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"]


def sleeper(client: docker.DockerClient, name: str, script: str = "sleep 300"):
    return client.containers.run("busybox", ["sh", "-c", script], name=name, detach=True)


def row_of(stdout: str, name: str) -> list[str]:
    """The table row naming ``name``, split on the two-space column gaps."""
    for line in stdout.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if name in cells:
            return cells
    raise AssertionError(f"no row for {name} in:\n{stdout}")


def test_no_stream_table_shows_the_named_container_like_docker(dockgate, docker1, name):
    container = sleeper(docker1, name, "sleep 300 & sleep 300 & wait")
    result = dockgate("stats", "--no-stream", name)
    assert result.returncode == 0, result.stderr
    header = re.split(r"\s{2,}", result.stdout.splitlines()[0].strip())
    assert header == COLUMNS
    cells = row_of(result.stdout, name)
    assert cells[0] == container.id[:12]
    assert re.fullmatch(r"\d+\.\d\d%", cells[2])
    assert re.fullmatch(r"[\d.]+[KMG]?i?B / [\d.]+[KMG]iB", cells[3])
    assert cells[7] == "3"  # sh and its two sleeps


def test_json_is_one_list_with_docker_s_cpu_arithmetic(dockgate, docker1, name):
    sleeper(docker1, name, "while :; do :; done")  # one busy core
    result = dockgate("stats", "--no-stream", "--format", "json", name)
    assert result.returncode == 0, result.stderr
    [sample] = json.loads(result.stdout)
    assert sample["host"] == "test1"
    assert sample["name"] == name
    assert sample["pids"] == 1
    assert sample["memory_limit"] > sample["memory_usage"] > 0
    # From the engine's two samples a second apart; without precpu_stats it would be the container's
    # CPU time over the host's since boot: near 0. Other suites share the CPUs, hence a loose bound.
    assert 5 < sample["cpu_percent"] <= 100 * (os.cpu_count() or 1) + 1


def test_without_names_all_running_containers_of_the_chosen_hosts(dockgate, docker1, docker2, name):
    sleeper(docker1, f"{name}-one")
    sleeper(docker2, f"{name}-two")
    docker1.containers.create("busybox", ["true"], name=f"{name}-created")
    running = dockgate("stats", "--no-stream", "--format", "json", "--host", "test1", "--host", "test2")
    assert running.returncode == 0, running.stderr
    where = {s["name"]: s["host"] for s in json.loads(running.stdout)}
    assert where[f"{name}-one"] == "test1"
    assert where[f"{name}-two"] == "test2"
    assert f"{name}-created" not in where
    table = dockgate("stats", "--no-stream", "--all", "--host", "test1", "--host", "test2")
    assert table.returncode == 0, table.stderr
    assert table.stdout.split()[0] == "HOST"
    assert row_of(table.stdout, f"{name}-two")[0] == "test2"
    assert row_of(table.stdout, f"{name}-created")[3:] == ["0.00%", "0B / 0B", "0.00%", "0B / 0B",
                                                          "0B / 0B", "0"]


@pytest.mark.parametrize(("state", "message"), [
    ("stopped", "is not running"),
    ("unknown", "No such container"),
])
def test_a_named_container_that_is_not_running_is_a_clear_error(dockgate, docker1, name, state, message):
    if state == "stopped":
        docker1.containers.create("busybox", ["true"], name=name)
    result = dockgate("stats", "--no-stream", name)
    assert result.returncode == 1
    assert result.stderr.startswith("error: test1: ") and message in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert result.stdout == ""


@pytest.mark.timeout(60)
def test_live_view_refreshes_until_ctrl_c_then_exits_quietly(cli_env, docker1, name):
    sleeper(docker1, name)
    proc = subprocess.Popen([sys.executable, "-m", "dockgate", "stats", name], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=cli_env)
    try:
        seen, deadline = b"", time.monotonic() + 20
        while seen.count(b"CONTAINER ID") < 3 and time.monotonic() < deadline:  # a block per refresh
            if select.select([proc.stdout], [], [], 1)[0]:
                seen += os.read(proc.stdout.fileno(), 65536)
        assert seen.count(b"CONTAINER ID") >= 3, seen
        assert re.search(rf"{name}\s.*\s1\s*$", seen.decode(), re.M)  # its row, PIDS last
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert err == b""
