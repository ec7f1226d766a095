"""exec against the real private engines: streams kept apart, exit codes, stdin with half-close, a
real pseudo-terminal, detached runs, and the errors a person meets."""

from __future__ import annotations

import re
import sys
import time

import docker
import pexpect
import pytest


def sleeper(client: docker.DockerClient, name: str):
    """A running busybox container to exec into."""
    return client.containers.run("busybox", ["sleep", "300"], name=name, detach=True)


def spawn(cli_env: dict[str, str], command: str, rows: int = 33, cols: int = 111) -> pexpect.spawn:
    """``command`` (a shell line) on a real pseudo-terminal of the given size."""
    return pexpect.spawn("sh", ["-c", command], dimensions=(rows, cols), env=cli_env, timeout=20,
                         encoding="utf-8")


def test_output_streams_stay_apart_and_the_exit_code_is_the_process_s(dockgate, docker1, name):
    sleeper(docker1, name)
    result = dockgate("exec", name, "sh", "-c", "echo out; echo err >&2; exit 7")
    assert result.returncode == 7
    assert result.stdout == "out\n"
    assert result.stderr == "err\n"


def test_env_user_workdir_and_dashed_arguments_reach_the_process(dockgate, docker1, name):
    sleeper(docker1, name)
    result = dockgate("exec", "-e", "FOO=bar", "-e", "FROM_US", "-u", "1000", "-w", "/etc", name,
                      "sh", "-c", 'echo "$FOO $FROM_US $(id -u) $(pwd)"; ls -d -1 /etc/passwd',
                      env={"FROM_US": "ours"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == "bar ours 1000 /etc\n/etc/passwd\n"


@pytest.mark.parametrize(("command", "data", "expected"), [
    (["cat"], "hi\n", "hi\n"),
    (["wc", "-c"], "x" * 300_000, "300000\n"),
    (["sh", "-c", "cat >/dev/null; sleep 0.3; echo after-eof"], "ignored\n", "after-eof\n"),
])
def test_interactive_stdin_is_sent_then_half_closed_and_all_output_read(dockgate, docker1, name,
                                                                      command, data, expected):
    sleeper(docker1, name)
    result = dockgate("exec", "-i", name, *command, input=data)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected.strip()


def test_tls_host_runs_exec_with_stdin_half_close_and_exit_code(dockgate, docker2, name):
    sleeper(docker2, name)
    plain = dockgate("exec", "--host", "test2", name, "sh", "-c", "echo tls; exit 3")
    assert (plain.returncode, plain.stdout) == (3, "tls\n")
    expected = "6\n" + "".join(f"{i}\n" for i in range(1, 3001))
    for _ in range(3):  # the engine's close_notify often arrives with the last output: none may be lost
        piped = dockgate("exec", "-i", "--host", "test2", name, "sh", "-c", "wc -c; seq 1 3000",
                         input="hello\n", timeout=20)
        assert piped.returncode == 0, piped.stderr
        assert piped.stdout == expected


def test_container_is_found_on_whichever_host_has_it(dockgate, docker2, name):
    sleeper(docker2, name)
    result = dockgate("exec", "--all-hosts", name, "hostname")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == docker2.containers.get(name).id[:12]


@pytest.mark.timeout(60)
def test_tty_session_in_a_real_terminal_follows_its_size_and_exit(cli_env, docker1, name):
    sleeper(docker1, name)
    child = spawn(cli_env, f"{sys.executable} -m dockgate exec -it {name} sh")
    child.expect("# ")
    child.sendline("echo $((6*7))")
    child.expect("\r\n42\r\n")
    child.sendline("stty size")
    child.expect("\r\n33 111\r\n")
    child.setwinsize(40, 120)  # the kernel sends SIGWINCH; dockgate passes the new size on
    deadline = time.monotonic() + 10
    while True:
        child.sendline("stty size")
        if child.expect([r"\r\n40 120\r\n", r"\r\n33 111\r\n"]) == 0 or time.monotonic() > deadline:
            break
    assert child.match.group(0).strip() == "40 120"
    child.sendline("exit 3")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 3


def test_terminal_is_restored_after_a_tty_session(cli_env, docker1, name):
    sleeper(docker1, name)
    child = spawn(cli_env, f"stty -a; {sys.executable} -m dockgate exec -it {name} true; "
                           "echo RESTORED; stty -a")
    child.expect(pexpect.EOF)
    before, after = child.before.split("RESTORED")
    assert re.search(r"(?<![-\w])icanon", before) and re.search(r"(?<![-\w])echo\b", before)
    assert re.search(r"(?<![-\w])icanon", after), after
    assert re.search(r"(?<![-\w])echo\b", after), after


def test_interactive_tty_without_a_terminal_is_refused(dockgate, docker1, name):
    sleeper(docker1, name)
    result = dockgate("exec", "-it", name, "sh", input="echo hi\n")
    assert result.returncode == 2
    assert "the input device is not a TTY" in result.stderr
    assert not docker1.api.inspect_container(name)["ExecIDs"]


def test_detached_exec_returns_at_once_and_runs_in_the_background(dockgate, docker1, name):
    container = sleeper(docker1, name)
    result = dockgate("exec", "-d", name, "sh", "-c", "sleep 2; echo done > /tmp/marker")
    assert (result.returncode, result.stdout) == (0, "")
    assert container.exec_run(["cat", "/tmp/marker"]).exit_code != 0  # not finished yet
    deadline = time.monotonic() + 10
    while container.exec_run(["cat", "/tmp/marker"]).output != b"done\n":
        assert time.monotonic() < deadline, "the detached command never finished"
        time.sleep(0.2)


def test_command_not_found_or_not_executable_is_126_and_a_shell_s_missing_command_127(
        dockgate, docker1, name):
    sleeper(docker1, name)
    missing = dockgate("exec", name, "no-such-command")
    assert missing.returncode == 126
    assert 'exec: "no-such-command": executable file not found' in missing.stdout
    not_executable = dockgate("exec", name, "/etc/passwd")
    assert not_executable.returncode == 126
    assert "permission denied" in not_executable.stdout
    from_shell = dockgate("exec", name, "sh", "-c", "no-such-command")
    assert from_shell.returncode == 127
    assert "not found" in from_shell.stderr


def test_stopped_and_unknown_containers_fail_with_one_line(dockgate, docker1, name):
    docker1.containers.create("busybox", ["sleep", "300"], name=name)
    stopped = dockgate("exec", name, "true")
    assert stopped.returncode == 1
    assert stopped.stderr.startswith("error: test1: Container ") and "is not running" in stopped.stderr
    assert len(stopped.stderr.splitlines()) == 1
    unknown = dockgate("exec", f"{name}-nope", "true")
    assert unknown.returncode == 1
    assert f"No such container: {name}-nope" in unknown.stderr
    assert "Traceback" not in stopped.stderr + unknown.stderr
    detached = dockgate("exec", "-d", name, "true")
    assert detached.returncode == 1 and "is not running" in detached.stderr


def test_bad_env_is_refused_before_anything_runs(dockgate, docker1, name):
    sleeper(docker1, name)
    result = dockgate("exec", "-e", "=oops", name, "true")
    assert result.returncode == 2
    assert "invalid env: '=oops'" in result.stderr
    assert not docker1.api.inspect_container(name)["ExecIDs"]
