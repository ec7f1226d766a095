"""The request policy end to end: what an operator's docker CLI asks of the host is refused with the
rule and the field named, nothing reaches the engine, the same request without the flag works,
``dockgate policy explain`` agrees with the gateway, and a ``[[policy]]`` entry relaxes one rule."""

from __future__ import annotations

import functools
import http.server
import io
import json
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from tests.conftest import Person, start_gateway, stop_gateway
from tests.integration.access_checks import raw


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.parametrize(("flags", "rule", "field"), [
    (["--privileged"], "no-privileged", "HostConfig.Privileged=true"),
    (["-v", "/:/host"], "no-bind-mounts", 'HostConfig.Binds[0]="/:/host"'),
    (["--mount", "type=bind,src=/etc,dst=/host-etc"], "no-bind-mounts", "HostConfig.Mounts[0].Source"),
    (["--pid", "host"], "no-host-namespaces", 'HostConfig.PidMode="host"'),
    (["--network", "host"], "no-host-namespaces", 'HostConfig.NetworkMode="host"'),
    (["--cap-add", "SYS_ADMIN"], "no-added-capabilities", "HostConfig.CapAdd"),
    (["--device", "/dev/null"], "no-devices", "HostConfig.Devices"),
    (["--security-opt", "seccomp=unconfined"], "no-unconfined", "HostConfig.SecurityOpt[0]"),
    (["--cgroup-parent", "/dgt-escape"], "no-cgroup-parent", "HostConfig.CgroupParent"),
    (["--sysctl", "net.ipv4.ip_forward=1"], "no-sysctls", "HostConfig.Sysctls"),
    (["--log-driver", "syslog", "--log-opt", "syslog-address=unix:///run/dgt.sock"], "allowed-log-drivers",
     'HostConfig.LogConfig.Type="syslog"'),
])
def test_run_flags_that_reach_the_host_are_refused_and_nothing_is_created(people, docker1, name, flags,
                                                                          rule, field):
    result = people["olga"].docker("run", "-d", "--name", name, *flags, "busybox", "sleep", "300")
    assert result.returncode != 0
    assert f'Error response from daemon: policy rule "{rule}" denies {field}' in result.stderr, result.stderr
    assert not docker1.containers.list(all=True, filters={"name": name})


def test_the_same_run_without_the_flag_works(people, docker1, name):
    ok(people["olga"].docker("run", "-d", "--name", name, "-v", f"{name}-data:/data", "--cap-add", "CHOWN",
                             "--network", "bridge", "--security-opt", "no-new-privileges", "busybox",
                             "sleep", "300"))
    assert docker1.containers.get(name).status == "running"
    docker1.containers.get(name).remove(force=True)
    docker1.volumes.get(f"{name}-data").remove()


@pytest.fixture
def web_folder(tmp_path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on loopback, where the engine (on this host) can fetch from."""
    folder = tmp_path / "web"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_imports_and_builds_from_a_url_are_refused_for_an_operator(people, gateway, docker1, name,
                                                                   web_folder):
    """The engine would fetch the URL from the host's own network position: an operator may not
    send it there; an admin may (and the fetch really happens)."""
    folder, url = web_folder
    olga = people["olga"]
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = 6
        tar.addfile(info, io.BytesIO(b"hello\n"))
    (folder / "rootfs.tar").write_bytes(archive.getvalue())
    (folder.parent / "local.tar").write_bytes(archive.getvalue())
    (folder / "Dockerfile").write_text("FROM busybox\nRUN true\n")
    image = f"dgt-{name}:imported"

    result = olga.docker("import", f"{url}/rootfs.tar", image)
    assert result.returncode != 0
    assert f'policy rule "no-remote-sources" denies query parameter fromSrc="{url}/rootfs.tar"' \
        in result.stderr, result.stderr
    # The docker CLI downloads a URL context itself; docker-py passes it on as ``remote``.
    with pytest.raises(docker.errors.APIError) as refused:
        list(olga.py().api.build(path=f"{url}/Dockerfile", tag=image))
    assert refused.value.status_code == 403
    assert f'policy rule "no-remote-sources" denies query parameter remote="{url}/Dockerfile"' \
        in refused.value.explanation
    with pytest.raises(docker.errors.ImageNotFound):
        docker1.images.get(image)
    # An import from a file the client sends stays allowed.
    ok(olga.docker("import", str(folder.parent / "local.tar"), image))
    docker1.images.remove(image)

    ok(gateway.docker("import", f"{url}/rootfs.tar", image))
    assert docker1.images.get(image).attrs["Size"] == 6
    docker1.images.remove(image)


def test_a_privileged_exec_is_refused_and_never_created(people, docker1, name):
    docker1.containers.run("busybox", ["sleep", "300"], name=name, detach=True)
    result = people["olga"].docker("exec", "--privileged", name, "true")
    assert result.returncode != 0
    assert ('policy rule "no-privileged" denies Privileged=true: a privileged exec controls the host'
            in result.stderr), result.stderr
    assert docker1.containers.get(name).attrs["ExecIDs"] is None
    assert ok(people["olga"].docker("exec", name, "echo", "plain")).stdout == "plain\n"


def test_a_local_volume_binding_a_host_folder_is_refused(people, docker1, test_id):
    volume = f"dgt-{test_id}-bind"
    result = people["olga"].docker("volume", "create", "-o", "type=none", "-o", "o=bind", "-o", "device=/etc",
                                   volume)
    assert result.returncode != 0
    assert 'policy rule "no-bind-mounts" denies DriverOpts[device]="/etc"' in result.stderr, result.stderr
    with pytest.raises(docker.errors.NotFound):
        docker1.volumes.get(volume)
    ok(people["olga"].docker("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", volume))
    docker1.volumes.get(volume).remove()


def test_an_admins_named_volume_that_binds_a_host_folder_cannot_be_mounted_by_an_operator(
        people, docker1, name, test_id):
    volume = f"dgt-{test_id}-etc"
    binding = {"type": "none", "o": "bind", "device": "/etc"}
    docker1.volumes.create(volume, driver="local", driver_opts=binding)
    try:
        for flags in (["-v", f"{volume}:/data"], ["--mount", f"source={volume},target=/data"]):
            result = people["olga"].docker("run", "-d", "--name", name, *flags, "busybox", "sleep", "300")
            assert result.returncode != 0
            assert 'policy rule "no-bind-mounts" denies' in result.stderr and volume in result.stderr
            assert not docker1.containers.list(all=True, filters={"name": name})
        ok(people["olga"].docker("run", "--rm", "-v", f"{name}-plain:/data", "busybox", "true"))
    finally:
        docker1.volumes.get(volume).remove()
        docker1.volumes.get(f"{name}-plain").remove()


BODIES = [
    {"Image": "busybox", "HostConfig": {"Privileged": True}},
    {"Image": "busybox", "hostconfig": {"binds": ["/etc:/x"]}},
    {"Image": "busybox", "HostConfig": {"CapAdd": ["NET_ADMIN"], "Memory": 1 << 26}},
    {"Image": "busybox", "HostConfig": {"Binds": ["data:/data"], "CapAdd": ["CHOWN"]}},
    {"Image": "busybox", "HostConfig": {"Ulimits": [{"Name": "nofile", "Soft": 1, "Hard": 2}]}, "Bogus": 1},
]


@pytest.mark.parametrize("body", BODIES)
def test_policy_explain_decides_as_the_gateway_does(people, dockgate, docker1, name, tmp_path, body):
    olga = people["olga"]
    data = json.dumps(body).encode()
    path = f"/v1.41/containers/create?name={name}"
    (tmp_path / "body.json").write_bytes(data)
    explained = dockgate("policy", "explain", "POST", path, "--role", "operator", "--user", "olga",
                         "--body", str(tmp_path / "body.json"), "--format", "json")
    verdict = json.loads(explained.stdout)
    answer = raw(olga.gateway, "POST", path, token=olga.token, body=data)
    if verdict["decision"] == "deny":
        assert explained.returncode == 1
        assert (answer.status, answer.message) == (verdict["status"], verdict["message"])
        assert not docker1.containers.list(all=True, filters={"name": name})
    else:
        assert explained.returncode == 0 and verdict["body_changed"]
        assert answer.status == 201, answer.body
        assert docker1.containers.get(name).labels == {"dockgate.owner": "olga"}


def test_a_policy_entry_allows_bind_mounts_under_its_prefix(cli_env, config_file, people, docker1, name,
                                                           tmp_path, tmp_path_factory):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "note.txt").write_text("from the host\n")
    config = tmp_path / "config.toml"
    config.write_text(config_file.read_text() + f'\n[[policy]]\nrole = "operator"\nhost = "test1"\n'
                                                f'allow_bind_mounts = ["{shared}"]\n')
    env = {**cli_env, "DOCKGATE_CONFIG": str(config)}
    body = json.dumps({"Image": "busybox", "HostConfig": {"Binds": [f"{shared}:/s:ro"]}})
    explained = subprocess.run(
        [sys.executable, "-m", "dockgate", "policy", "explain", "POST", "/containers/create", "--format",
         "json", "--body", "-"], input=body, capture_output=True, text=True, env=env, timeout=60)
    assert explained.returncode == 0 and json.loads(explained.stdout)["decision"] == "allow", explained.stdout
    gateway = start_gateway(env, tmp_path_factory.mktemp("policy-gateway"))
    try:
        olga = Person("olga", people["olga"].token, people["olga"].docker_config, gateway)
        run = ok(olga.docker("run", "--name", name, "-v", f"{shared}:/s:ro", "busybox", "cat", "/s/note.txt"))
        assert run.stdout == "from the host\n"
        ok(olga.docker("run", "--name", f"{name}-mount", "--mount", f"type=bind,src={shared},dst=/s",
                       "busybox", "true"))
        for flags, where in ((["-v", "/etc:/host-etc"], "HostConfig.Binds[0]"),
                             (["-v", f"{shared}/../:/up"], "HostConfig.Binds[0]"),
                             (["--privileged"], "HostConfig.Privileged")):
            result = olga.docker("run", "--name", f"{name}-no", *flags, "busybox", "true")
            assert result.returncode != 0 and where in result.stderr, result.stderr
        assert not docker1.containers.list(all=True, filters={"name": f"{name}-no"})
        # The session gateway, without the entry, still refuses the allowed folder.
        result = people["olga"].docker("run", "--name", f"{name}-no", "-v", f"{shared}:/s", "busybox", "true")
        assert result.returncode != 0 and 'policy rule "no-bind-mounts"' in result.stderr
    finally:
        stop_gateway(gateway)
