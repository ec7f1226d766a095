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


def _ps_json(dockgate, *args):
    result = dockgate("ps", "--format", "json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _names(hosts, host="test1"):
    return [c["Names"][0].lstrip("/") for h in hosts if h["host"] == host for c in h["containers"]]


@pytest.fixture
def three(docker1, name, test_label):
    """Three containers created in order a, b, c (created, not started), sharing this test's label."""
    key, value = test_label.split("=")
    made = [docker1.containers.create("busybox", ["true"], name=f"{name}-{x}", labels={key: value})
            for x in "abc"]
    return [c.name for c in made]


def test_ps_limit_since_before_and_label_filter(dockgate, three, test_label):
    a, b, c = three
    mine = ("--filter", f"label={test_label}")
    assert _names(_ps_json(dockgate, "-a", *mine)) == [c, b, a]  # newest first, as the engine sorts
    assert _names(_ps_json(dockgate, "-a", "--limit", "2", *mine)) == [c, b]
    assert _names(_ps_json(dockgate, "-a", "--since", a, *mine)) == [c, b]
    assert _names(_ps_json(dockgate, "-a", "--before", c, *mine)) == [b, a]
    assert _names(_ps_json(dockgate, "-a", "--since", a, "--before", c, *mine)) == [b]
    assert _names(_ps_json(dockgate, "-a", "--filter", f"name={b}")) == [b]


def test_ps_status_and_exited_filters(dockgate, docker1, name, test_label):
    key, value = test_label.split("=")
    ran = docker1.containers.run("busybox", ["sh", "-c", "exit 3"], name=f"{name}-x", labels={key: value},
                                 detach=True)
    ran.wait()
    docker1.containers.run("busybox", ["sleep", "60"], name=f"{name}-r", labels={key: value}, detach=True)
    mine = ("--filter", f"label={test_label}")
    assert _names(_ps_json(dockgate, *mine)) == [f"{name}-r"]
    assert _names(_ps_json(dockgate, "-a", "--filter", "status=exited", *mine)) == [f"{name}-x"]
    assert _names(_ps_json(dockgate, "-a", "--filter", "exited=3", *mine)) == [f"{name}-x"]
    assert _names(_ps_json(dockgate, "-a", "--filter", "exited=0", *mine)) == []


def test_ps_size_reports_sizes(dockgate, docker1, name):
    docker1.containers.create("busybox", ["true"], name=name)
    hosts = _ps_json(dockgate, "-a", "--size", "--filter", f"name={name}")
    container = hosts[0]["containers"][0]
    assert container["SizeRootFs"] > 1_000_000  # SizeRw is omitted while it is 0
    table = dockgate("ps", "-a", "--size", "--filter", f"name={name}")
    assert "SIZE" in table.stdout and "virtual" in table.stdout


def test_ps_across_hosts_with_one_down(dockgate, docker1, docker2, name):
    docker1.containers.create("busybox", ["true"], name=f"{name}-one")
    docker2.containers.create("busybox", ["true"], name=f"{name}-two")
    result = dockgate("ps", "-a", "--all-hosts", "--filter", f"name={name}")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[0] == "HOST"
    assert any(line.startswith("test1") and f"{name}-one" in line for line in lines)
    assert any(line.startswith("test2") and f"{name}-two" in line for line in lines)
    assert "host down is down" in result.stderr and "connection refused" in result.stderr


def test_ps_only_down_host_fails(dockgate):
    result = dockgate("ps", "--host", "down")
    assert result.returncode == 1
    assert "connection refused" in result.stderr


def test_ps_unknown_host_is_a_usage_error(dockgate):
    result = dockgate("ps", "--host", "nowhere")
    assert result.returncode == 2
    assert "unknown host 'nowhere'" in result.stderr and "test1" in result.stderr


def test_ps_quiet_prints_ids(dockgate, docker1, name):
    made = docker1.containers.create("busybox", ["true"], name=name)
    result = dockgate("ps", "-aq", "--filter", f"name={name}")
    assert result.out_lines == [made.id[:12]]


def test_ps_since_before_accept_short_ids_like_the_seed(dockgate, docker1, three, test_label):
    a, b, c = three
    short = {n: docker1.containers.get(n).id[:12] for n in (a, c)}
    mine = ("--filter", f"label={test_label}")
    assert _names(_ps_json(dockgate, "-a", "--since", short[a], "--before", short[c], *mine)) == [b]


def test_ps_since_unknown_container_is_a_clear_error(dockgate):
    result = dockgate("ps", "-a", "--since", "nosuchcontainer0")
    assert result.returncode == 2
    assert "invalid since: no such container: nosuchcontainer0" in result.stderr


def test_ps_quiet_across_hosts_with_one_down(dockgate, docker2, name):
    made = docker2.containers.create("busybox", ["true"], name=name)
    result = dockgate("ps", "-aq", "--all-hosts", "--filter", f"name={name}")
    assert result.returncode == 0
    assert result.out_lines == [made.id[:12]]
    assert "host down is down" in result.stderr
