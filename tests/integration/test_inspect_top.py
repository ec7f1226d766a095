"""inspect and top against the real engines."""

from __future__ import annotations

import json


def test_inspect_matches_docker_py(dockgate, docker1, name):
    docker1.containers.create("busybox", ["true"], name=f"{name}-a", labels={"k": "v"})
    docker1.containers.create("busybox", ["true"], name=f"{name}-b")
    result = dockgate("inspect", f"{name}-a", f"{name}-b")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [docker1.api.inspect_container(f"{name}-a"),
                                         docker1.api.inspect_container(f"{name}-b")]


def test_inspect_size(dockgate, docker1, name):
    docker1.containers.create("busybox", ["true"], name=name)
    plain = json.loads(dockgate("inspect", name).stdout)[0]
    sized = json.loads(dockgate("inspect", "-s", name).stdout)[0]
    assert "SizeRootFs" not in plain
    assert sized["SizeRootFs"] > 0 and "SizeRw" in sized


def test_inspect_reports_missing_and_prints_the_rest(dockgate, docker1, name):
    docker1.containers.create("busybox", ["true"], name=name)
    result = dockgate("inspect", f"{name}-missing", name)
    assert result.returncode == 1
    assert [c["Name"] for c in json.loads(result.stdout)] == [f"/{name}"]
    assert result.stderr.strip() == f"error: test1: No such container: {name}-missing"


def test_inspect_on_another_host(dockgate, docker2, name):
    container = docker2.containers.create("busybox", ["true"], name=name)
    result = dockgate("inspect", "--all-hosts", name)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["Id"] == container.id


def test_top_shows_the_process(dockgate, docker1, name):
    docker1.containers.run("busybox", ["sleep", "321"], name=name, detach=True)
    result = dockgate("top", name)
    assert result.returncode == 0, result.stderr
    header, *rows = result.out_lines
    assert header.split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert any(row.rstrip().endswith("sleep 321") for row in rows)


def test_top_with_ps_args(dockgate, docker1, name):
    container = docker1.containers.run("busybox", ["sleep", "322"], name=name, detach=True)
    pid = str(docker1.api.inspect_container(container.id)["State"]["Pid"])
    result = dockgate("top", "--format", "json", name, "-o", "pid,comm")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"Titles": ["PID", "COMMAND"], "Processes": [[pid, "sleep"]]}


def test_top_of_stopped_container(dockgate, docker1, name):
    docker1.containers.create("busybox", ["true"], name=name)
    result = dockgate("top", name)
    assert result.returncode == 1
    assert "is not running" in result.stderr


def test_top_of_missing_container(dockgate, name):
    result = dockgate("top", f"{name}-missing")
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: test1: No such container: {name}-missing"
