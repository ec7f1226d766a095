"""A host reached over ssh (docker system dial-stdio), served by the gateway like any other."""

from __future__ import annotations

import os
import subprocess

import pytest
from tests.conftest import start_gateway, stop_gateway


@pytest.fixture(scope="module")
def ssh_gateway(cli_env, ssh_engine, tmp_path_factory):
    url, home = ssh_engine
    folder = tmp_path_factory.mktemp("sshgw")
    config = folder / "config.toml"
    config.write_text(f'default_host = "viassh"\n[hosts.viassh]\nurl = "{url}"\n')
    gw = start_gateway({**cli_env, "DOCKGATE_CONFIG": str(config), "HOME": str(home)}, folder, "--no-unix")
    yield gw
    stop_gateway(gw)


def test_docker_cli_through_the_gateway_to_an_ssh_host(ssh_gateway, docker1, name):
    docker1.containers.run("busybox", ["sh", "-c", "echo hi; sleep 300"], name=name, detach=True)
    env = {**os.environ, "DOCKER_HOST": ssh_gateway.tcp}

    def docker(*args, input=None):
        return subprocess.run(["docker", *args], capture_output=True, text=True, env=env, input=input,
                              timeout=60)

    assert name in docker("ps").stdout
    assert docker("logs", name).stdout == "hi\n"
    # exec without -i half-closes right after the 101: over an ssh channel too, every byte arrives.
    result = docker("exec", name, "sh", "-c", "seq 1 3000; exit 6")
    assert result.returncode == 6
    assert result.stdout.split() == [str(i) for i in range(1, 3001)]
    assert docker("exec", "-i", name, "wc", "-c", input="y" * 50_000).stdout.strip() == "50000"
