"""dockgate create against the real engines, with docker-py as the judge of what landed."""

from __future__ import annotations

import contextlib
import json
import re

import docker.errors
import pytest
from tests.conftest import container_exists
from tests.seed import SEED_BODY

ID = re.compile(r"^[0-9a-f]{64}$")



@pytest.fixture
def volume_name(docker1, name):
    """A named volume for this test, removed afterwards with the containers that use it."""
    vol = f"{name}-vol"
    yield vol
    for c in docker1.containers.list(all=True, filters={"volume": vol}):
        c.remove(force=True)
    with contextlib.suppress(docker.errors.NotFound):
        docker1.volumes.get(vol).remove()


@pytest.fixture
def anonymous_volumes_removed(docker1, name):
    """Remove this test's containers together with their anonymous volumes (the shared cleanup leaves
    volumes behind)."""
    yield
    for c in docker1.containers.list(all=True, filters={"name": name}):
        c.remove(force=True, v=True)


def test_create_from_flags_lands_every_setting(dockgate, docker1, name, test_label, volume_name, tmp_path):
    env_file = tmp_path / "app.env"
    env_file.write_text("# settings\nFROM_FILE=1\nPASSED\n")
    result = dockgate(
        "create", "--name", name, "-e", "A=1", "-e", "PASSED_TOO", "--env-file", str(env_file),
        "-l", test_label, "-l", "tier=web", "-p", "127.0.0.1:18080:80", "-p", "53/udp",
        "-v", f"{volume_name}:/data:ro", "-v", "/tmp:/hosttmp", "--restart", "on-failure:3",
        "-m", "256m", "--cpus", "0.5", "--entrypoint", "/bin/sh", "-w", "/tmp", "-u", "1000:1000",
        "--hostname", "web1", "-t", "-i", "busybox", "-c", "echo hi",
        env={"PASSED": "from-env", "PASSED_TOO": "yes"})
    assert result.returncode == 0, result.stderr
    assert ID.match(result.stdout.strip())
    info = docker1.api.inspect_container(name)
    assert info["Id"] == result.stdout.strip()
    config, host = info["Config"], info["HostConfig"]
    assert {"FROM_FILE=1", "PASSED=from-env", "A=1", "PASSED_TOO=yes"} <= set(config["Env"])
    assert config["Labels"]["tier"] == "web"
    assert config["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert host["PortBindings"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18080"}],
                                    "53/udp": [{"HostIp": "", "HostPort": ""}]}
    assert host["Binds"] == [f"{volume_name}:/data:ro", "/tmp:/hosttmp"]
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert host["Memory"] == 256 * 1024 * 1024
    assert host["NanoCpus"] == 500_000_000
    assert config["Entrypoint"] == ["/bin/sh"] and config["Cmd"] == ["-c", "echo hi"]
    assert (config["WorkingDir"], config["User"], config["Hostname"]) == ("/tmp", "1000:1000", "web1")
    assert config["Tty"] and config["OpenStdin"] and config["AttachStdin"]
    assert info["State"]["Status"] == "created"


def test_create_from_seed_body_file_with_flags_overriding(dockgate, docker1, name, test_label, tmp_path,
                                                          anonymous_volumes_removed):
    body = json.loads(json.dumps(SEED_BODY))
    body["Labels"]["dockgate.test"] = test_label.split("=", 1)[1]
    path = tmp_path / "create.json"
    path.write_text(json.dumps(body, indent=2))
    result = dockgate("create", "--config", str(path), "--name", name, "-e", "EXTRA=1",
                      "alpine:3.10", "echo", "overridden")
    assert result.returncode == 0, result.stderr
    assert ID.match(result.stdout.strip())
    info = docker1.api.inspect_container(name)
    config, host = info["Config"], info["HostConfig"]
    assert (config["Hostname"], config["Domainname"]) == ("seedhost", "example.org")
    assert config["AttachStdout"] and not config["AttachStdin"] and not config["Tty"]
    assert config["Image"] == "alpine:3.10" and config["Cmd"] == ["echo", "overridden"]
    assert {"FOO=bar", "BAZ=quux", "EXTRA=1"} <= set(config["Env"])
    assert config["Labels"]["com.example.vendor"] == "Acme"
    assert config["Volumes"] == {"/volumes/data": {}}
    assert host["Binds"] == ["/tmp:/tmp"] and host["CpuShares"] == 512
    assert host["PortBindings"] == {"22/tcp": [{"HostIp": "", "HostPort": "11022"}]}
    assert host["CapAdd"] == ["NET_ADMIN"] and host["Dns"] == ["8.8.8.8"]


def test_create_from_stdin_prints_engine_warnings(dockgate, docker1, name, test_label):
    key, value = test_label.split("=", 1)
    body = {"Image": "busybox", "Cmd": ["true"], "Labels": {key: value},
            "HostConfig": {"NetworkMode": "host", "PortBindings": {"80/tcp": [{"HostPort": "18081"}]}}}
    result = dockgate("create", "--config", "-", "--name", name, input=json.dumps(body))
    assert result.returncode == 0, result.stderr
    assert ID.match(result.stdout.strip())
    assert "warning: Published ports are discarded when using host network mode" in result.stderr
    assert docker1.api.inspect_container(name)["HostConfig"]["NetworkMode"] == "host"


def test_create_on_tls_host(dockgate, docker2, name):
    result = dockgate("create", "--host", "test2", "--name", name, "busybox", "true")
    assert result.returncode == 0, result.stderr
    assert docker2.api.inspect_container(name)["Id"] == result.stdout.strip()


def test_create_missing_image_hints_pull(dockgate, docker1, name):
    result = dockgate("create", "--name", name, "busybox:dgt-no-such-tag")
    assert result.returncode == 1
    assert "error: test1: No such image: busybox:dgt-no-such-tag" in result.stderr
    assert "pull it first: dockgate pull busybox:dgt-no-such-tag --host test1" in result.stderr
    assert "Traceback" not in result.stderr
    assert not container_exists(docker1, name)


def test_create_name_conflict(dockgate, docker1, name):
    first = docker1.containers.create("busybox", ["true"], name=name)
    result = dockgate("create", "--name", name, "busybox", "true")
    assert result.returncode == 1
    assert f'The container name "/{name}" is already in use' in result.stderr
    assert result.stdout == ""
    assert [c.id for c in docker1.containers.list(all=True, filters={"name": name})] == [first.id]


@pytest.mark.parametrize(("text", "message"), [
    ('{"Image": "busybox",', "invalid --config: {path} is not valid JSON (Expecting"),
    ('["busybox"]', "invalid --config: {path} must hold a JSON object (a create body), not a list"),
    ('"busybox"', "must hold a JSON object (a create body), not a string"),
    ('{"Image": "busybox", "Image": "alpine"}', "key 'Image' is given twice"),
    ('{"Cmd": ["true"]}', "invalid IMAGE: no image given"),
    ('{"Image": "busybox", "Env": "A=1"}', "invalid --config: Env must be a list, not a string"),
])
def test_create_refuses_bad_config_and_creates_nothing(dockgate, docker1, name, tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    result = dockgate("create", "--config", str(path), "--name", name, "-e", "X=1")
    assert result.returncode == 2
    assert message.format(path=path) in result.stderr
    assert "Traceback" not in result.stderr
    assert not container_exists(docker1, name)


def test_create_config_file_missing(dockgate, tmp_path):
    result = dockgate("create", "--config", str(tmp_path / "nope.json"))
    assert result.returncode == 2
    assert f"invalid --config: cannot read {tmp_path / 'nope.json'}: No such file or directory" \
        in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("-p", "http"), "invalid --publish: 'http': 'http' is not a port"),
    (("-p", "70000:80"), "invalid --publish: '70000:80': port 70000 is out of range"),
    (("-v", "data"), "invalid --volume: 'data': container path 'data' is not absolute"),
    (("-v", "./rel:/data"), "invalid --volume: './rel:/data': './rel' is neither"),
    (("--restart", "sometimes"), "invalid --restart: 'sometimes' is not one of"),
    (("--restart", "always:3"), "invalid --restart: 'always:3': a retry count applies only to on-failure"),
    (("-m", "lots"), "invalid --memory: 'lots' is not a size"),
    (("--cpus", "two"), "invalid --cpus: 'two' is not a number"),
    (("--cpus", "0"), "invalid --cpus: '0' must be a number greater than 0"),
    (("-e", "=x"), "invalid --env"),
    (("-l", "=x"), "invalid --label: '=x' is not key=value"),
    (("-w", "relative"), "invalid --workdir: 'relative' is not an absolute path"),
    (("--hostname", "bad_host!"), "invalid --hostname"),
    (("--env-file", "/nonexistent/dgt.env"), "invalid --env-file: cannot read /nonexistent/dgt.env"),
])
def test_create_refuses_bad_flags_and_creates_nothing(dockgate, docker1, name, args, message):
    result = dockgate("create", "--name", name, *args, "busybox", "true")
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not container_exists(docker1, name)


def test_create_refuses_bad_name(dockgate, docker1):
    result = dockgate("create", "--name", "bad name", "busybox")
    assert result.returncode == 2
    assert "invalid --name: 'bad name' is not a valid container name" in result.stderr
    assert not container_exists(docker1, "bad name")
