"""logs against the real private engines: streams kept apart, filters, following, several containers."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
from datetime import datetime, timedelta

import docker
import pytest

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"
DRIVER_NONE = "configured logging driver does not support reading"


def finished(client: docker.DockerClient, name: str, script: str, **kwargs):
    """A busybox container that ran ``script`` to the end."""
    container = client.containers.run("busybox", ["sh", "-c", script], name=name, detach=True, **kwargs)
    container.wait(timeout=30)
    return container


def labels(test_label: str) -> dict[str, str]:
    key, value = test_label.split("=")
    return {key: value}


def engine_stamps(container) -> dict[str, datetime]:
    """Each line's time as the engine recorded it (docker-py is the judge)."""
    stamps = {}
    for line in container.logs(timestamps=True).decode().splitlines():
        seconds, fraction, text = re.fullmatch(r"(\S{19})(?:\.(\d+))?Z (.*)", line).groups()
        micros = int((fraction or "0")[:6].ljust(6, "0"))  # microseconds suffice
        stamps[text] = datetime.fromisoformat(seconds + "+00:00") + timedelta(microseconds=micros)
    return stamps


def raw_logs(cli_env, *args: str) -> subprocess.CompletedProcess:
    """``dockgate logs`` with its output as bytes (the ``dockgate`` fixture decodes text)."""
    return subprocess.run([sys.executable, "-m", "dockgate", "logs", *args], capture_output=True,
                          env=cli_env, timeout=60)


def follow(cli_env, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dockgate", "logs", "--follow", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env)


def interrupt(proc: subprocess.Popen) -> tuple[bytes, bytes]:
    """Ctrl-C, as a person ends ``logs -f``; the rest of the output."""
    proc.send_signal(signal.SIGINT)
    return proc.communicate(timeout=15)


def test_stdout_and_stderr_land_on_their_own_streams(dockgate, docker1, name):
    finished(docker1, name, "echo out; echo err >&2")
    result = dockgate("logs", name)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "out\n"
    assert result.stderr == "err\n"


def test_output_bytes_are_passed_as_the_engine_sends_them(cli_env, docker1, name):
    # json-file keeps NUL and UTF-8 and stores an invalid byte as U+FFFD: docker-py is the judge
    container = finished(docker1, name, r"printf '\000\303\251\377\n'")
    proc = raw_logs(cli_env, name)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == container.logs() == "\0é\ufffd\n".encode()


@pytest.mark.parametrize(("tail", "expected"), [("2", "4\n5\n"), ("0", ""), ("all", "1\n2\n3\n4\n5\n")])
def test_tail_shows_the_last_lines(dockgate, docker1, name, tail, expected):
    finished(docker1, name, "seq 1 5")
    result = dockgate("logs", "--tail", tail, name)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected


def test_timestamps_prefix_each_line_with_the_engines_time(dockgate, docker1, name):
    container = finished(docker1, name, "echo one; echo two")
    result = dockgate("logs", "-t", name)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(rf"{STAMP} one\n{STAMP} two\n", result.stdout)
    assert result.stdout.encode() == container.logs(timestamps=True)


def test_no_stderr_and_no_stdout_leave_the_other_stream(dockgate, docker1, name):
    finished(docker1, name, "echo out; echo err >&2")
    only_out = dockgate("logs", "--no-stderr", name)
    assert (only_out.returncode, only_out.stdout, only_out.stderr) == (0, "out\n", "")
    only_err = dockgate("logs", "--no-stdout", name)
    assert (only_err.returncode, only_err.stdout, only_err.stderr) == (0, "", "err\n")
    neither = dockgate("logs", "--no-stdout", "--no-stderr", name)
    assert neither.returncode == 2
    assert "leave nothing to show" in neither.stderr


def test_since_and_until_select_by_time(dockgate, docker1, name):
    container = finished(docker1, name, "echo early; sleep 1.5; echo late")
    stamps = engine_stamps(container)
    middle = stamps["early"] + (stamps["late"] - stamps["early"]) / 2
    rfc3339 = middle.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    unix = f"{middle.timestamp():.6f}"

    assert dockgate("logs", "--since", rfc3339, name).stdout == "late\n"
    assert dockgate("logs", "--until", unix, name).stdout == "early\n"
    assert dockgate("logs", "--since", "10m", name).stdout == "early\nlate\n"
    assert dockgate("logs", "--until", "10m", name).stdout == ""


def test_tty_container_has_only_stdout(cli_env, docker1, name):
    finished(docker1, name, "echo out; echo err >&2", tty=True)
    proc = raw_logs(cli_env, name)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"out\r\nerr\r\n"
    assert proc.stderr == b""


@pytest.mark.timeout(60)
def test_follow_prints_lines_written_after_it_started_and_ctrl_c_ends_it(cli_env, docker1, name):
    script = "echo first; until [ -e /tmp/go ]; do sleep 0.1; done; echo second; sleep 60"
    container = docker1.containers.run("busybox", ["sh", "-c", script], name=name, detach=True)
    proc = follow(cli_env, name)
    try:
        assert proc.stdout.readline() == b"first\n"
        container.exec_run(["touch", "/tmp/go"])  # only now does the container write "second"
        assert proc.stdout.readline() == b"second\n"
        _, err = interrupt(proc)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert err == b""


@pytest.mark.timeout(60)
def test_follow_several_containers_prefixes_whole_lines_on_their_streams(cli_env, docker1, name,
                                                                          test_label):
    # stderr first, so that once "hello" is read its container's "oops" has been written too
    script = "echo oops >&2; printf hel; sleep 0.5; echo lo; sleep 60"
    for suffix in ("a", "b"):
        docker1.containers.run("busybox", ["sh", "-c", script], name=f"{name}-{suffix}", detach=True,
                               labels=labels(test_label))
    proc = follow(cli_env, "--label", test_label)
    try:
        lines = {proc.stdout.readline(), proc.stdout.readline()}
        _, err = interrupt(proc)
    finally:
        proc.kill()
    assert lines == {f"{name}-a | hello\n".encode(), f"{name}-b | hello\n".encode()}
    assert set(err.splitlines()) == {f"{name}-a | oops".encode(), f"{name}-b | oops".encode()}
    assert proc.returncode == 130


def test_several_containers_by_label_are_merged_in_time_order(dockgate, docker1, name, test_label):
    script = "echo {0}-1; echo {0}-err >&2; sleep 1.5; echo {0}-2"
    first = docker1.containers.run("busybox", ["sh", "-c", script.format("one")], name=f"{name}-1",
                                   detach=True, labels=labels(test_label))
    second = finished(docker1, f"{name}-2", script.format("two"), labels=labels(test_label))
    first.wait(timeout=30)
    stamps = {**engine_stamps(first), **engine_stamps(second)}
    expected = sorted(["one-1", "one-2", "two-1", "two-2"], key=stamps.__getitem__)
    assert expected == ["one-1", "two-1", "one-2", "two-2"]  # the containers' lines interleave

    result = dockgate("logs", "-l", test_label)
    assert result.returncode == 0, result.stderr
    owner = {"one": f"{name}-1", "two": f"{name}-2"}
    assert result.out_lines == [f"{owner[text[:3]]} | {text}" for text in expected]
    assert result.stderr.splitlines() == [f"{name}-1 | one-err", f"{name}-2 | two-err"]

    stamped = dockgate("logs", "-l", test_label, "--timestamps", "--tail", "1")
    assert re.fullmatch(rf"{name}-1 \| {STAMP} one-2\n{name}-2 \| {STAMP} two-2\n", stamped.stdout)
    assert "\x1b[" not in result.stdout + stamped.stdout  # no colours into a pipe


def test_prefixes_are_coloured_on_a_terminal_unless_no_color(cli_env, docker1, name):
    finished(docker1, f"{name}-a", "echo a")
    finished(docker1, f"{name}-b", "echo b")

    def on_terminal(**env: str) -> bytes:
        leader, follower = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-m", "dockgate", "logs", f"{name}-a", f"{name}-b"],
                                stdout=follower, stderr=subprocess.DEVNULL, env={**cli_env, **env})
        os.close(follower)
        seen = b""
        while select.select([leader], [], [], 30)[0]:
            try:
                data = os.read(leader, 4096)
            except OSError:  # the terminal closed with the process
                break
            if not data:
                break
            seen += data
        os.close(leader)
        assert proc.wait(timeout=30) == 0
        return seen

    assert f"\x1b[36m{name}-a |\x1b[0m a".encode() in on_terminal()
    plain = on_terminal(NO_COLOR="1")
    assert f"{name}-a | a".encode() in plain and b"\x1b[" not in plain


def test_across_two_hosts_lines_carry_host_and_name(dockgate, docker1, docker2, name, test_label):
    finished(docker1, f"{name}-a", "echo from-test1", labels=labels(test_label))
    finished(docker2, f"{name}-b", "echo from-test2", labels=labels(test_label))
    expected = {f"test1/{name}-a | from-test1", f"test2/{name}-b | from-test2"}

    by_name = dockgate("logs", f"{name}-a", f"{name}-b", "--host", "test1", "--host", "test2")
    assert by_name.returncode == 0, by_name.stderr
    assert set(by_name.out_lines) == expected

    by_label = dockgate("logs", "-l", test_label, "--host", "test1", "--host", "test2")
    assert by_label.returncode == 0, by_label.stderr
    assert set(by_label.out_lines) == expected

    everywhere = dockgate("logs", "-l", test_label, "--all-hosts")
    assert everywhere.returncode == 0, everywhere.stderr
    assert set(everywhere.out_lines) == expected
    assert "warning: host down is down" in everywhere.stderr


def test_log_driver_none_is_a_one_line_error(dockgate, docker1, name, test_label):
    docker1.containers.create("busybox", ["true"], name=name,
                              log_config=docker.types.LogConfig(type="none"))
    result = dockgate("logs", name)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"error: test1: {DRIVER_NONE}"]

    # among several containers, the readable ones are still shown
    finished(docker1, f"{name}-ok", "echo fine", labels=labels(test_label))
    docker1.containers.create("busybox", ["true"], name=f"{name}-none", labels=labels(test_label),
                              log_config=docker.types.LogConfig(type="none"))
    several = dockgate("logs", "-l", test_label)
    assert several.returncode == 1
    assert several.out_lines == [f"{name}-ok   | fine"]
    assert several.stderr.splitlines() == [f"error: {name}-none: {DRIVER_NONE}"]


@pytest.mark.parametrize(("args", "message"), [
    (("--tail", "-1"), "invalid tail: '-1' must be a non-negative integer or 'all'"),
    (("--tail", "ten"), "invalid tail: 'ten' must be a non-negative integer or 'all'"),
    (("--tail", "1.5"), "invalid tail: '1.5' must be a non-negative integer or 'all'"),
    (("--since", "yesterday"), "invalid since: 'yesterday' is not a time or a duration"),
    (("--until", "2024-02-30"), "invalid until: '2024-02-30' is not a valid date"),
    (("--label", "=x"), "invalid filters: label"),
])
def test_bad_parameters_exit_2_before_asking_the_engine(dockgate, name, args, message):
    result = dockgate("logs", *args, name)  # no such container: exit 1 had the engine been asked
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_no_container_named_or_selected_is_a_usage_error(dockgate):
    result = dockgate("logs")
    assert result.returncode == 2
    assert "name at least one container, or select them with --label" in result.stderr


def test_unknown_container_is_a_clear_error(dockgate, name, test_label):
    unknown = dockgate("logs", name)
    assert unknown.returncode == 1
    assert unknown.stderr.splitlines() == [f"error: test1: No such container: {name}"]

    across = dockgate("logs", name, "--host", "test1", "--host", "test2")
    assert across.returncode == 1
    assert f"No such container: {name}" in across.stderr

    no_match = dockgate("logs", "-l", test_label)
    assert no_match.returncode == 1
    assert f"no container has the label {test_label}" in no_match.stderr
    assert "Traceback" not in unknown.stderr + across.stderr + no_match.stderr
