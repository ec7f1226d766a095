"""Roles end to end: the stock docker CLI and docker-py as an operator, a viewer, a user without
grants and nobody at all, through the session gateway, judged on the engine with docker1."""

from __future__ import annotations

import json
import os
import subprocess

import docker
import pytest
from tests.integration.access_checks import py, raw


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


def refused(result, fragment: str) -> str:
    """The docker CLI failed and printed the gateway's message (one line, as the daemon's own)."""
    assert result.returncode != 0, result.stdout
    assert fragment in result.stderr, result.stderr
    return result.stderr


# -- operator ---------------------------------------------------------------------------------------

def test_operator_runs_a_workload_with_the_docker_cli(people, docker1, name, tmp_path):
    olga = people["olga"]
    ok(olga.docker("run", "-d", "--name", name, "-l", "app=web", "busybox", "sh", "-c",
                   "echo started; sleep 300"))
    container = docker1.containers.get(name)
    assert container.status == "running"
    assert container.labels == {"app": "web", "dockgate.owner": "olga"}
    assert ok(olga.docker("exec", name, "sh", "-c", "echo in-$((40+2))")).stdout == "in-42\n"
    assert ok(olga.docker("exec", "-i", name, "wc", "-c", input="12345")).stdout.strip() == "5"
    assert ok(olga.docker("logs", name)).stdout == "started\n"
    (tmp_path / "in.txt").write_text("copied in\n")
    ok(olga.docker("cp", str(tmp_path / "in.txt"), f"{name}:/tmp/in.txt"))
    ok(olga.docker("cp", f"{name}:/tmp/in.txt", str(tmp_path / "out.txt")))
    assert (tmp_path / "out.txt").read_text() == "copied in\n"
    assert "sleep 300" in ok(olga.docker("top", name)).stdout
    ok(olga.docker("stop", "-t", "1", name))
    assert docker1.containers.get(name).status == "exited"
    ok(olga.docker("rm", name))
    assert not docker1.containers.list(all=True, filters={"name": name})


def test_operator_runs_a_workload_with_docker_py(people, docker1, name, test_id):
    client = py(people["olga"])
    try:
        container = client.containers.run("busybox", ["sh", "-c", "echo py-started; sleep 300"], name=name,
                                          detach=True)
        assert docker1.containers.get(name).labels["dockgate.owner"] == "olga"
        assert container.exec_run(["echo", "py-exec"]).output == b"py-exec\n"
        container.stop(timeout=1)
        assert container.logs() == b"py-started\n"
        container.remove()
        assert not docker1.containers.list(all=True, filters={"name": name})
        # Compose needs networks and volumes: an operator may create and remove them.
        network = client.networks.create(f"dgt-{test_id}-net")
        volume = client.volumes.create(f"dgt-{test_id}-vol")
        assert docker1.networks.get(network.id).name == f"dgt-{test_id}-net"
        assert docker1.volumes.get(volume.name)
        network.remove()
        volume.remove()
        with pytest.raises(docker.errors.NotFound):
            docker1.networks.get(network.id)
    finally:
        client.close()


def test_operator_is_refused_another_host_and_cluster_or_host_level_calls(people, docker1, docker2, name):
    olga = people["olga"]
    refused(olga.docker("ps", host="test2"), "user olga has no access to host test2")
    refused(olga.docker("run", "--name", name, "busybox", "true", host="test2"),
            "user olga has no access to host test2")
    assert not docker2.containers.list(all=True, filters={"name": name})
    refused(olga.docker("swarm", "init"), "user olga (operator on test1) may not SwarmInit")
    refused(olga.docker("plugin", "install", "--grant-all-permissions", "vieux/sshfs"),
            "user olga (operator on test1) may not GetPluginPrivileges")
    refused(olga.docker("container", "prune", "-f"), "may not ContainerPrune")
    assert docker1.info()["Swarm"]["LocalNodeState"] == "inactive"
    client = py(olga, host="test2")
    try:
        with pytest.raises(docker.errors.APIError) as caught:
            client.containers.list()
        assert caught.value.status_code == 403
        assert caught.value.explanation == "user olga has no access to host test2"
    finally:
        client.close()


# -- viewer -----------------------------------------------------------------------------------------

def test_viewer_reads_everything_on_its_hosts(people, docker1, docker2, name):
    docker1.containers.run("busybox", ["sh", "-c", "echo viewed; sleep 300"], name=name, detach=True)
    docker2.containers.run("busybox", ["sleep", "300"], name=f"{name}-2", detach=True)
    vic = people["vic"]
    assert name in ok(vic.docker("ps", "-a", "--format", "{{.Names}}")).stdout.split()
    assert json.loads(ok(vic.docker("inspect", name)).stdout)[0]["Name"] == f"/{name}"
    assert ok(vic.docker("logs", name)).stdout == "viewed\n"
    assert "sleep 300" in ok(vic.docker("top", name)).stdout
    assert name in ok(vic.docker("stats", "--no-stream", "--format", "{{.Name}}", name)).stdout
    assert f"{name}-2" in ok(vic.docker("ps", "--format", "{{.Names}}", host="test2")).stdout.split()
    client = py(vic)
    try:
        container = client.containers.get(name)
        assert container.logs() == b"viewed\n"
        assert "sleep 300" in json.dumps(container.top())
    finally:
        client.close()


def test_viewer_cannot_change_anything_and_is_told_which_operation(people, docker1, name):
    docker1.containers.run("busybox", ["sleep", "300"], name=name, detach=True)
    vic = people["vic"]
    refused(vic.docker("run", "--name", f"{name}-new", "busybox", "true"),
            "Error response from daemon: user vic (viewer on test1) may not ContainerCreate")
    refused(vic.docker("rm", "-f", name), "user vic (viewer on test1) may not ContainerDelete")
    refused(vic.docker("exec", name, "true"), "user vic (viewer on test1) may not ContainerExec")
    refused(vic.docker("stop", name), "may not ContainerStop")
    refused(vic.docker("cp", f"{name}:/etc/hostname", "-"), "may not ContainerArchive")
    assert docker1.containers.get(name).status == "running"
    assert docker1.containers.get(name).attrs["ExecIDs"] is None
    assert not docker1.containers.list(all=True, filters={"name": f"{name}-new"})
    client = py(people["vic"])
    try:
        with pytest.raises(docker.errors.APIError) as caught:
            client.containers.run("busybox", ["true"], name=f"{name}-py")
        assert caught.value.status_code == 403
        assert caught.value.explanation == "user vic (viewer on test1) may not ContainerCreate"
        with pytest.raises(docker.errors.APIError, match="may not ContainerDelete"):
            client.containers.get(name).remove(force=True)
    finally:
        client.close()
    assert not docker1.containers.list(all=True, filters={"name": f"{name}-py"})


# -- no grants, no token, a wrong token ---------------------------------------------------------------

@pytest.mark.parametrize("host", [None, "test2"])
def test_a_user_without_grants_is_refused_everywhere(people, docker1, name, host):
    nora = people["nora"]
    target = host or "test1"
    message = f"user nora has no access to host {target}"
    for args in (["ps"], ["images"], ["run", "--name", name, "busybox", "true"], ["volume", "ls"],
                 ["info"]):
        refused(nora.docker(*args, host=host), message)
    assert not docker1.containers.list(all=True, filters={"name": name})
    answer = raw(nora.gateway, "GET", f"{'/hosts/' + host if host else ''}/_ping", token=nora.token)
    assert (answer.status, answer.message) == (403, message)
    client = py(nora, host=host)
    try:
        with pytest.raises(docker.errors.APIError) as caught:
            client.containers.list()
        assert (caught.value.status_code, caught.value.explanation) == (403, message)
    finally:
        client.close()
    listing = raw(nora.gateway, "GET", "/hosts", token=nora.token)
    assert (listing.status, listing.json) == (200, [])  # no host to see


def test_no_token_is_401_and_the_docker_cli_prints_the_message(gateway, tmp_path):
    empty = tmp_path / "docker-config"
    empty.mkdir()
    result = gateway.docker("ps", env={"DOCKER_CONFIG": str(empty)})
    refused(result, "authentication required: send a dockgate token (dockgate login --token ...) or a TLS "
                    "client certificate")
    answer = raw(gateway, "GET", "/v1.41/containers/json")
    assert answer.status == 401
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["www-authenticate"] == 'Bearer realm="dockgate"'
    assert answer.message.startswith("authentication required")
    client = docker.DockerClient(base_url=gateway.tcp.replace("tcp://", "http://"), version="1.41")
    client.api._general_configs.pop("HttpHeaders", None)  # not the session admin's token
    try:
        with pytest.raises(docker.errors.APIError) as caught:
            client.containers.list()
        assert caught.value.status_code == 401
        assert "authentication required" in caught.value.explanation
    finally:
        client.close()


@pytest.mark.parametrize(("token", "message"), [
    ("dgt_0123456789ab_" + "A" * 43, "authentication failed: unknown or wrong token"),
    ("not-a-token", "authentication failed: not a dockgate token"),
])
def test_a_wrong_token_is_401(gateway, tmp_path, token, message):
    config = tmp_path / "docker-config"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"HttpHeaders": {"Authorization": f"Bearer {token}"}}))
    refused(gateway.docker("ps", env={"DOCKER_CONFIG": str(config)}), message)
    answer = raw(gateway, "GET", "/containers/json", token=token)
    assert answer.status == 401 and answer.message.startswith(message)



def test_root_on_the_unix_socket_needs_no_token_but_a_bad_one_is_still_refused(gateway, tmp_path):
    empty = tmp_path / "docker-config"
    empty.mkdir()
    env = {**os.environ, "DOCKER_HOST": f"unix://{gateway.unix}", "DOCKER_CONFIG": str(empty)}
    listed = subprocess.run(["docker", "ps", "--format", "{{.ID}}"], capture_output=True, text=True, env=env,
                            timeout=60)
    assert listed.returncode == 0, listed.stderr  # the tests run as root: root on the host already
    (empty / "config.json").write_text(json.dumps({"HttpHeaders": {"Authorization": "Bearer wrong"}}))
    wrong = subprocess.run(["docker", "ps"], capture_output=True, text=True, env=env, timeout=60)
    assert wrong.returncode != 0 and "authentication failed" in wrong.stderr, wrong.stderr
