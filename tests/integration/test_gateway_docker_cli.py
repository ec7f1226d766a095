"""The stock docker CLI through the gateway: it must not be able to tell dockgate from dockerd."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import time
import uuid

import pexpect
import pytest


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


def test_version_negotiates_with_the_engine(gateway):
    out = ok(gateway.docker("version", "--format", "{{.Server.APIVersion}} {{.Client.APIVersion}}")).stdout
    assert out.split() == ["1.41", "1.41"]


def test_run_create_start_inspect_top_rm(gateway, docker1, name):
    assert ok(gateway.docker("run", "--rm", "busybox", "echo", "hello")).stdout == "hello\n"
    ok(gateway.docker("run", "-d", "--name", name, "-l", "app=web", "busybox", "sleep", "300"))
    assert docker1.containers.get(name).status == "running"
    inspected = json.loads(ok(gateway.docker("inspect", name)).stdout)[0]
    assert inspected["Config"]["Labels"] == {"app": "web", "dockgate.owner": "tester"}  # who made it
    assert "sleep 300" in ok(gateway.docker("top", name)).stdout
    ok(gateway.docker("stop", "-t", "1", name))
    assert docker1.containers.get(name).status == "exited"
    ok(gateway.docker("rm", name))
    assert not docker1.containers.list(all=True, filters={"name": name})


def test_logs_follow_tail_timestamps_and_streams_apart(gateway, docker1, name):
    # stdout and stderr are separate pipes: only the order within each is certain, hence the pause.
    docker1.containers.run("busybox", ["sh", "-c", "for i in 1 2 3; do echo out$i; done; sleep 0.5; "
                                       "for i in 1 2 3; do echo err$i >&2; done; sleep 2; echo late"],
                           name=name, detach=True)
    time.sleep(1.2)
    result = ok(gateway.docker("logs", name))
    assert result.stdout.split() == ["out1", "out2", "out3"]
    assert result.stderr.split() == ["err1", "err2", "err3"]
    tail = ok(gateway.docker("logs", "--tail", "4", name))
    assert (tail.stdout, tail.stderr) == ("out3\n", "err1\nerr2\nerr3\n")
    stamped = ok(gateway.docker("logs", "--timestamps", "--tail", "4", name)).stdout
    assert stamped.split()[0].startswith("20") and stamped.split()[1] == "out3"
    followed = ok(gateway.docker("logs", "-f", name, timeout=30)).stdout
    assert followed.split() == ["out1", "out2", "out3", "late"]


def test_exec_without_stdin_still_gets_all_output(gateway, docker1, name):
    """docker exec (no -i) half-closes its write side right after the 101: every byte must arrive."""
    docker1.containers.run("busybox", ["sleep", "300"], name=name, detach=True)
    result = gateway.docker("exec", name, "sh", "-c", "seq 1 20000; echo err >&2; exit 4")
    assert result.returncode == 4
    assert result.stdout.split() == [str(i) for i in range(1, 20001)]
    assert result.stderr == "err\n"


def test_exec_with_stdin(gateway, docker1, name):
    docker1.containers.run("busybox", ["sleep", "300"], name=name, detach=True)
    data = "".join(f"line {i}\n" for i in range(5000))
    result = ok(gateway.docker("exec", "-i", name, "wc", "-l", input=data))
    assert result.stdout.strip() == "5000"


def test_exec_tty_interactive(gateway, docker1, name):
    docker1.containers.run("busybox", ["sleep", "300"], name=name, detach=True)
    child = pexpect.spawn("docker", ["exec", "-it", name, "sh"], dimensions=(33, 101), timeout=20,
                          env={**os.environ, "DOCKER_HOST": gateway.tcp}, encoding="utf-8")
    child.expect(r"[#$] ")
    child.sendline("echo $((6*7)); stty size")
    child.expect("42")
    child.expect("33 101")
    child.sendline("exit 5")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 5


def test_run_interactive_tty(gateway, name):
    child = pexpect.spawn("docker", ["run", "--rm", "-it", "--name", name, "busybox", "sh"],
                          env={**os.environ, "DOCKER_HOST": gateway.tcp}, timeout=20, encoding="utf-8")
    child.expect(r"[#$] ")
    child.sendline("echo ready-$((1+1))")
    child.expect("ready-2")
    child.sendline("exit")
    child.expect(pexpect.EOF)


def test_attach_sees_output_and_sends_input(gateway, docker1, name):
    docker1.containers.create("busybox", ["sh", "-c", "read x; echo got-$x"], name=name, stdin_open=True)
    result = ok(gateway.docker("start", "-a", "-i", name, input="abc\n"))
    assert result.stdout == "got-abc\n"


def test_cp_both_ways(gateway, docker1, name, tmp_path):
    docker1.containers.run("busybox", ["sleep", "300"], name=name, detach=True)
    payload = os.urandom(300_000)
    (tmp_path / "in.bin").write_bytes(payload)
    ok(gateway.docker("cp", str(tmp_path / "in.bin"), f"{name}:/tmp/in.bin"))
    ok(gateway.docker("cp", f"{name}:/tmp/in.bin", str(tmp_path / "out.bin")))
    assert (tmp_path / "out.bin").read_bytes() == payload


def test_save_and_load(gateway, docker1, tmp_path):
    tag = f"dgt-save-{uuid.uuid4().hex[:8]}:v1"
    docker1.images.get("busybox:latest").tag(tag)
    try:
        ok(gateway.docker("save", "-o", str(tmp_path / "img.tar"), tag))
        assert tarfile.is_tarfile(tmp_path / "img.tar")
        docker1.images.remove(tag)
        assert "Loaded image" in ok(gateway.docker("load", "-i", str(tmp_path / "img.tar"))).stdout
        assert docker1.images.get(tag)
    finally:
        subprocess.run(["docker", "-H", gateway.tcp, "rmi", tag], capture_output=True)


def test_pull_from_the_loopback_registry(gateway, docker1):
    repo = f"127.0.0.1:5055/dgt-{uuid.uuid4().hex[:8]}/img"
    docker1.images.get("busybox:latest").tag(repo, "v1")
    docker1.images.push(repo, "v1")
    docker1.images.remove(f"{repo}:v1")
    try:
        result = ok(gateway.docker("pull", f"{repo}:v1"))
        assert "Downloaded newer image" in result.stdout or "Image is up to date" in result.stdout
        assert docker1.images.get(f"{repo}:v1")
    finally:
        subprocess.run(["docker", "-H", gateway.tcp, "rmi", f"{repo}:v1"], capture_output=True)


def test_classic_build(gateway, docker1, tmp_path):
    tag = f"dgt-build-{uuid.uuid4().hex[:8]}"
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox:latest\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt\n")
    (tmp_path / "hello.txt").write_text(f"built through dockgate {tag}\n")  # unique: no build cache
    try:
        result = gateway.docker("build", "-t", tag, str(tmp_path), env={"DOCKER_BUILDKIT": "0"})
        assert result.returncode == 0, result.stderr + result.stdout
        assert "built through dockgate" in result.stdout
        assert docker1.images.get(tag)
    finally:
        subprocess.run(["docker", "-H", gateway.tcp, "rmi", tag], capture_output=True)


def test_networks_volumes_and_system_df(gateway, docker1):
    net, vol = f"dgt-net-{uuid.uuid4().hex[:8]}", f"dgt-vol-{uuid.uuid4().hex[:8]}"
    ok(gateway.docker("network", "create", net))
    ok(gateway.docker("volume", "create", vol))
    try:
        assert net in ok(gateway.docker("network", "ls")).stdout
        assert vol in ok(gateway.docker("volume", "ls")).stdout
        assert "Images" in ok(gateway.docker("system", "df")).stdout
    finally:
        ok(gateway.docker("network", "rm", net))
        ok(gateway.docker("volume", "rm", vol))
    assert not docker1.networks.list(names=[net])


def test_stats_and_events(gateway, docker1, name):
    since = int(time.time()) - 1
    docker1.containers.run("busybox", ["sleep", "300"], name=name, detach=True)
    stats = ok(gateway.docker("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", name)).stdout
    assert stats.split() == [name, "1"]
    events = ok(gateway.docker("events", "--since", str(since), "--until", str(int(time.time()) + 1),
                               "--filter", f"container={name}", "--format", "{{.Action}}")).stdout
    assert "create" in events.split() and "start" in events.split()


def test_multi_host_routing_with_the_stock_cli(gateway, docker2, name):
    ok(gateway.docker("run", "-d", "--name", name, "busybox", "sleep", "300", host="test2"))
    assert docker2.containers.get(name).status == "running"
    assert name in ok(gateway.docker("ps", host="test2")).stdout
    assert name not in ok(gateway.docker("ps")).stdout
    down = gateway.docker("ps", host="down")
    assert down.returncode != 0 and "connection refused" in down.stderr


def test_unix_socket_listener(gateway):
    result = subprocess.run(["docker", "-H", f"unix://{gateway.unix}", "version", "--format",
                             "{{.Server.APIVersion}}"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1.41"


@pytest.mark.parametrize("command", [["export"], ["diff"], ["port"]])
def test_more_container_endpoints(gateway, docker1, name, command, tmp_path):
    docker1.containers.run("busybox", ["sh", "-c", "touch /newfile; sleep 300"], name=name, detach=True,
                           ports={"80/tcp": None})
    time.sleep(0.5)
    if command == ["export"]:
        ok(gateway.docker("export", "-o", str(tmp_path / "fs.tar"), name))
        with tarfile.open(tmp_path / "fs.tar") as tar:
            assert "newfile" in tar.getnames()
    elif command == ["diff"]:
        assert "A /newfile" in ok(gateway.docker("diff", name)).stdout
    else:
        assert "80/tcp" in ok(gateway.docker("port", name)).stdout


@pytest.fixture(scope="session")
def compose_binary() -> str:
    """Debian's docker-compose (1.29, on docker-py), installed on first use."""
    if not shutil.which("docker-compose"):
        proc = subprocess.run(["apt-get", "install", "-y", "-qq", "-o", "DPkg::Lock::Timeout=300",
                               "docker-compose"], capture_output=True, text=True, timeout=600,
                              env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        assert proc.returncode == 0, proc.stderr
    return shutil.which("docker-compose") or "docker-compose"


def test_compose_up_ps_logs_down(gateway, docker1, compose_binary, tmp_path, test_id):
    (tmp_path / "docker-compose.yml").write_text(
        'version: "3"\nservices:\n'
        '  web:\n    image: busybox:latest\n    command: sh -c "echo web-up; sleep 300"\n'
        '  worker:\n    image: busybox:latest\n    command: sh -c "echo worker-up; sleep 300"\n'
        "    depends_on: [web]\n")
    project = f"dgt{test_id}"

    def compose(*args):
        return subprocess.run([compose_binary, "-p", project, *args], cwd=tmp_path, capture_output=True,
                              text=True, timeout=120, env={**os.environ, "DOCKER_HOST": gateway.tcp})

    try:
        assert compose("up", "-d").returncode == 0
        running = docker1.containers.list(filters={"label": f"com.docker.compose.project={project}"})
        assert sorted(c.name for c in running) == [f"{project}_web_1", f"{project}_worker_1"]
        assert "Up" in compose("ps").stdout
        logs = compose("logs", "--no-color").stdout
        assert "web-up" in logs and "worker-up" in logs
    finally:
        assert compose("down", "-t", "1").returncode == 0
    assert not docker1.containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"})
