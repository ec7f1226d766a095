"""start, stop, restart, kill, pause, unpause, rm, rename and wait, each observed with docker-py."""

from __future__ import annotations

import docker.errors
import pytest

# PID 1 ignores signals it has no handler for, so this one traps the signals the tests send.
TRAPPING = "trap 'exit 7' HUP; trap 'exit 0' TERM; while true; do sleep 0.2; done"


def _status(client, name) -> str:
    return client.api.inspect_container(name)["State"]["Status"]


def _sleeper(client, name, **kwargs):
    return client.containers.create("busybox", ["sh", "-c", TRAPPING], name=name, **kwargs)


def test_start_pause_unpause_stop_restart(dockgate, docker1, name):
    _sleeper(docker1, name)
    steps = [(("start", name), "running"), (("pause", name), "paused"), (("unpause", name), "running"),
             (("stop", "-t", "5", name), "exited"), (("restart", "-t", "1", name), "running"),
             (("stop", "--time", "0", name), "exited")]
    for args, status in steps:
        result = dockgate(*args)
        assert result.returncode == 0, (args, result.stderr)
        assert result.stdout == f"{name}\n", args
        assert _status(docker1, name) == status, args


def test_several_containers_in_one_call(dockgate, docker1, name):
    _sleeper(docker1, f"{name}-a")
    _sleeper(docker1, f"{name}-b")
    result = dockgate("start", f"{name}-a", f"{name}-b")
    assert result.returncode == 0, result.stderr
    assert result.out_lines == [f"{name}-a", f"{name}-b"]
    assert {_status(docker1, f"{name}-{x}") for x in "ab"} == {"running"}


def test_failure_on_one_container_does_not_stop_the_others(dockgate, docker1, name):
    _sleeper(docker1, f"{name}-a")
    _sleeper(docker1, f"{name}-b")
    result = dockgate("start", f"{name}-a", f"{name}-missing", f"{name}-b")
    assert result.returncode == 1
    assert result.out_lines == [f"{name}-a", f"{name}-b"]
    assert f"error: test1: No such container: {name}-missing" in result.stderr
    assert {_status(docker1, f"{name}-{x}") for x in "ab"} == {"running"}


def test_kill_with_a_signal(dockgate, docker1, name):
    container = _sleeper(docker1, name)
    container.start()
    result = dockgate("kill", "-s", "SIGHUP", name)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{name}\n"
    assert container.wait(timeout=10)["StatusCode"] == 7  # the HUP trap ran


def test_kill_defaults_to_sigkill(dockgate, docker1, name):
    container = _sleeper(docker1, name)
    container.start()
    result = dockgate("kill", name)
    assert result.returncode == 0, result.stderr
    assert container.wait(timeout=10)["StatusCode"] == 137


@pytest.mark.parametrize("signal", ["FOO", "SIG", "0", "65", "-9"])
def test_kill_refuses_unknown_signal_before_sending(dockgate, docker1, name, signal):
    _sleeper(docker1, name).start()
    result = dockgate("kill", "--signal", signal, name)
    assert result.returncode == 2
    assert f"invalid --signal: '{signal}' is not a signal name" in result.stderr
    assert _status(docker1, name) == "running"


def test_wait_prints_exit_code(dockgate, docker1, name):
    docker1.containers.create("busybox", ["sh", "-c", "exit 3"], name=name).start()
    result = dockgate("wait", name)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "3\n"


def test_rm_force_and_volumes(dockgate, docker1, name):
    container = _sleeper(docker1, name, volumes=["/anon"])
    container.start()
    volume = docker1.api.inspect_container(name)["Mounts"][0]["Name"]
    refused = dockgate("rm", name)
    assert refused.returncode == 1
    assert "cannot remove a running container" in refused.stderr.lower()
    assert _status(docker1, name) == "running"
    result = dockgate("rm", "-f", "-v", name)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{name}\n"
    with pytest.raises(docker.errors.NotFound):
        docker1.containers.get(name)
    with pytest.raises(docker.errors.NotFound):
        docker1.volumes.get(volume)


def test_rename(dockgate, docker1, name):
    container = _sleeper(docker1, name)
    result = dockgate("rename", name, f"{name}-renamed")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert docker1.containers.get(container.id).name == f"{name}-renamed"


def test_rename_refuses_bad_new_name(dockgate, docker1, name):
    container = _sleeper(docker1, name)
    result = dockgate("rename", name, "bad/name")
    assert result.returncode == 2
    assert "invalid NEW_NAME: 'bad/name' is not a valid container name" in result.stderr
    assert docker1.containers.get(container.id).name == name


@pytest.mark.parametrize("args", [("start",), ("stop",), ("restart",), ("kill",), ("pause",),
                                  ("unpause",), ("rm", "-f"), ("wait",)])
def test_missing_container_exits_1_with_message(dockgate, name, args):
    result = dockgate(*args, f"{name}-missing")
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: test1: ")
    assert f"No such container: {name}-missing" in result.stderr


def test_rename_missing_container(dockgate, name):
    result = dockgate("rename", f"{name}-missing", f"{name}-new")
    assert result.returncode == 1
    assert "No such container" in result.stderr


def test_pause_refused_when_not_running(dockgate, docker1, name):
    _sleeper(docker1, name)
    result = dockgate("pause", name)
    assert result.returncode == 1
    assert "is not running" in result.stderr
    assert _status(docker1, name) == "created"


def test_all_hosts_finds_the_container_on_test2(dockgate, docker1, docker2, name):
    container = _sleeper(docker2, name)
    container.start()
    result = dockgate("stop", name, "--all-hosts", "-t", "5")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{name}\n"
    assert _status(docker2, name) == "exited"
    with pytest.raises(docker.errors.NotFound):
        docker1.containers.get(name)


def test_host_option_chooses_the_engine(dockgate, docker2, name):
    _sleeper(docker2, name)
    assert dockgate("start", name).returncode == 1  # not on the default host
    result = dockgate("start", "--host", "test2", name)
    assert result.returncode == 0, result.stderr
    assert _status(docker2, name) == "running"


def test_several_hosts_report_a_container_found_nowhere(dockgate, name):
    result = dockgate("stop", f"{name}-missing", "--host", "test1", "--host", "test2")
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: test1, test2: No such container: {name}-missing"


def test_a_down_host_is_named_when_a_container_is_found_nowhere(dockgate, name):
    result = dockgate("stop", f"{name}-missing", "--all-hosts")
    assert result.returncode == 1
    assert result.stderr.strip() == (f"error: test1, test2: No such container: {name}-missing "
                                     "(not searched, down: down)")


def test_unknown_host_stops_before_acting(dockgate, docker1, name):
    _sleeper(docker1, name)
    result = dockgate("start", name, "--host", "nowhere")
    assert result.returncode == 2
    assert "unknown host 'nowhere'" in result.stderr
    assert _status(docker1, name) == "created"
