"""hosts and ps against the real private engines."""

from __future__ import annotations

import json

import pytest


def test_hosts_ls_shows_up_and_down_hosts(dockgate):
    result = dockgate("hosts", "ls", "--format", "json")
    assert result.returncode == 0, result.stderr
    hosts = {h["name"]: h for h in json.loads(result.stdout)}
    assert hosts["test1"]["state"] == "up" and hosts["test1"]["default"] is True
    assert hosts["test1"]["api"] == "1.41"
    assert hosts["test2"]["state"] == "up"
    assert hosts["down"]["state"] == "down"
    assert "connection refused" in hosts["down"]["error"]


def test_ps_lists_created_container_with_all_and_not_without(dockgate, docker1, name):
    docker1.containers.create("busybox", ["true"], name=name)
    running = dockgate("ps", "--format", "json")
    everything = dockgate("ps", "-a", "--format", "json")
    def names(r):
        return {n for h in json.loads(r.stdout) for c in h["containers"] for n in c["Names"]}
    assert f"/{name}" not in names(running)
    assert f"/{name}" in names(everything)


@pytest.mark.parametrize(("args", "message"), [
    (("--limit", "abc"), "invalid limit: 'abc' is not an integer"),
    (("--filter", "status=sleeping"), "invalid filters: status: 'sleeping' is not one of"),
    (("--filter", "exited=zero"), "invalid filters: exited: 'zero' is not an integer"),
    (("--filter", "colour=red"), "invalid filters: unknown filter 'colour'"),
    (("--filter", "noequals"), "invalid filter: 'noequals' is not key=value"),
    (("--filter", "publish=http"), "invalid filters: publish: 'http' is not a port"),
])
def test_ps_rejects_bad_parameters_before_sending(dockgate, args, message):
    result = dockgate("ps", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
