"""Revocation end to end: a user's open streams and sessions (``docker logs -f``, ``docker exec -it``,
``docker attach``) end within seconds of ``dockgate tokens revoke`` or ``dockgate users disable``, and
their next request is refused with 401."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable

import pexpect
import pytest
from tests.conftest import Person
from tests.integration.access_checks import make_person, raw

BOUND = 10.0  # seconds: the gateway checks every 2 s against credentials cached for 3 s


@pytest.fixture
def ticking(docker1, name):
    """A container that prints a line every half second, so a follower knows it is connected."""
    return docker1.containers.run("busybox", ["sh", "-c", "while true; do echo tick; sleep 0.5; done"],
                                  name=name, detach=True, stdin_open=True)


def open_sessions(person: Person, container: str) -> tuple[list[subprocess.Popen], pexpect.spawn]:
    """``docker logs -f`` and ``docker attach`` (each seen receiving) and ``docker exec -it`` at its
    prompt, all as ``person``."""
    env = {**os.environ, "DOCKER_HOST": person.gateway.tcp, "DOCKER_CONFIG": str(person.docker_config)}
    followers = [subprocess.Popen(["docker", *args, container], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, stdin=subprocess.PIPE, env=env)
                 for args in (["logs", "-f", "--tail", "1"], ["attach", "--no-stdin", "--sig-proxy=false"])]
    for follower in followers:
        assert follower.stdout is not None
        assert follower.stdout.readline() == b"tick\n"  # connected and streaming
    shell = pexpect.spawn("docker", ["exec", "-it", container, "sh"], env=env, timeout=20, encoding="utf-8")
    shell.expect(r"[#$] ")
    shell.sendline("echo alive-$((20+1))")
    shell.expect("alive-21")
    return followers, shell


def assert_sessions_end(person: Person, container: str,
                        cut_off: Callable[[], subprocess.CompletedProcess[str]]) -> None:
    """Open ``person``'s sessions on ``container``, run ``cut_off`` (a dockgate command), and assert
    that every session ends within BOUND seconds of it."""
    followers, shell = open_sessions(person, container)
    try:
        started = time.monotonic()
        done = cut_off()
        assert done.returncode == 0, done.stderr
        for follower in followers:
            follower.wait(timeout=BOUND + 5)
        shell.expect(pexpect.EOF, timeout=BOUND + 5)
        assert time.monotonic() - started < BOUND
    finally:
        for follower in followers:
            if follower.poll() is None:
                follower.kill()
            follower.communicate()
        shell.close(force=True)


@pytest.mark.timeout(90)
def test_revoking_a_token_ends_its_streams_and_sessions(cli_env, gateway, dockgate, docker1, ticking,
                                                        tmp_path, test_id):
    person, token_id = make_person(cli_env, gateway, tmp_path, f"rev-{test_id}", "operator@test1")
    # Another token of the same user is not revoked: it goes on working.
    other = dockgate("tokens", "create", "--user", person.name).stdout.strip()
    assert_sessions_end(person, ticking.name, lambda: dockgate("tokens", "revoke", token_id))
    result = person.docker("ps")
    assert result.returncode != 0 and f"token {token_id} has been revoked" in result.stderr, result.stderr
    answer = raw(gateway, "GET", "/v1.41/containers/json", token=person.token)
    assert answer.status == 401
    assert answer.message == f"authentication failed: token {token_id} has been revoked"
    assert raw(gateway, "GET", "/v1.41/containers/json", token=other).status == 200
    # The engine's container went on running: only the sessions ended.
    assert docker1.containers.get(ticking.id).status == "running"
    assert dockgate("users", "rm", person.name).returncode == 0


@pytest.mark.timeout(90)
def test_disabling_a_user_ends_their_streams_and_sessions(cli_env, gateway, dockgate, docker1, ticking,
                                                          tmp_path, test_id):
    user = f"dis-{test_id}"
    person, _ = make_person(cli_env, gateway, tmp_path, user, "operator@test1")
    assert_sessions_end(person, ticking.name, lambda: dockgate("users", "disable", user))
    answer = raw(gateway, "GET", "/v1.41/containers/json", token=person.token)
    assert (answer.status, answer.message) == (401, f"authentication failed: user '{user}' is disabled")
    assert dockgate("users", "enable", user).returncode == 0
    deadline = time.monotonic() + BOUND  # let in again within the cache's lifetime
    while raw(gateway, "GET", "/v1.41/containers/json", token=person.token).status != 200:
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert dockgate("users", "rm", user).returncode == 0
