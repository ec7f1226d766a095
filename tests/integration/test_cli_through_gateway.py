"""The dockgate CLI using a remote gateway as its host (a tcp:// URL with the /hosts/NAME prefix):
the gateway is then exercised by a third client stack (aiohttp via aiodocker)."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def via_gateway(dockgate, gateway, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'default_host = "viagw"\n[hosts.viagw]\nurl = "{gateway.tcp}/hosts/test2"\n')

    def run(*args, **kwargs):
        return dockgate(*args, env={"DOCKGATE_CONFIG": str(config)}, **kwargs)

    return run


def test_list_create_logs_exec_through_the_gateway(via_gateway, docker2, name):
    created = via_gateway("create", "--name", name, "busybox", "sh", "-c",
                          "echo out; echo err >&2; sleep 300")
    assert created.returncode == 0, created.stderr
    assert docker2.containers.get(name)  # it landed on test2, behind the gateway
    assert via_gateway("start", name).returncode == 0
    listed = json.loads(via_gateway("ps", "--format", "json", "--filter", f"name={name}").stdout)
    assert [c["Names"] for c in listed[0]["containers"]] == [[f"/{name}"]]
    logs = via_gateway("logs", name)
    assert (logs.stdout, logs.stderr) == ("out\n", "err\n")
    executed = via_gateway("exec", name, "sh", "-c", "echo inside; exit 3")
    assert executed.returncode == 3 and executed.stdout == "inside\n"
    piped = via_gateway("exec", "-i", name, "wc", "-c", input="x" * 70000)
    assert piped.stdout.strip() == "70000"


def test_hosts_ls_through_the_gateway(via_gateway):
    hosts = json.loads(via_gateway("hosts", "ls", "--format", "json").stdout)
    assert hosts[0]["name"] == "viagw" and hosts[0]["state"] == "up" and hosts[0]["api"] == "1.41"
