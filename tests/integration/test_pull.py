"""pull against the real engines and the rig's loopback registry.

Shared images (busybox, alpine) are never pulled or removed here: each test pushes an image of its
own, with a layer no engine has yet, so the pull really downloads and extracts.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tarfile
import urllib.request
from collections import Counter

import docker
import pexpect
import pytest

REGISTRY = "127.0.0.1:5055"


def _remove_image(client: docker.DockerClient, ref: str) -> None:
    with contextlib.suppress(docker.errors.ImageNotFound):
        client.images.remove(ref, force=True)


def _delete_from_registry(repo: str, tag: str) -> None:
    """Drop the manifest so the shared registry keeps no trace of the test (blobs wait for its GC)."""
    accept = "application/vnd.docker.distribution.manifest.v2+json"
    head = urllib.request.Request(f"http://{REGISTRY}/v2/{repo}/manifests/{tag}", method="HEAD",
                                  headers={"Accept": accept})
    with urllib.request.urlopen(head, timeout=10) as response:
        digest = response.headers["Docker-Content-Digest"]
    delete = urllib.request.Request(f"http://{REGISTRY}/v2/{repo}/manifests/{digest}", method="DELETE")
    urllib.request.urlopen(delete, timeout=10).close()


@pytest.fixture
def pushed_image(docker1, docker2, test_id):
    """``127.0.0.1:5055/dgt-<id>/img:v1``: busybox plus a 2 MB layer of its own, in the registry
    only (not on any engine)."""
    repo = f"dgt-{test_id}/img"
    ref = f"{REGISTRY}/{repo}:v1"
    container = docker1.containers.create("busybox:latest", ["true"], name=f"dgt-{test_id}-build")
    data = os.urandom(2_000_000)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        info = tarfile.TarInfo("payload")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    container.put_archive("/", archive.getvalue())
    container.commit(f"{REGISTRY}/{repo}", "v1")
    container.remove()
    for line in docker1.api.push(f"{REGISTRY}/{repo}", tag="v1", stream=True, decode=True):
        assert "error" not in line, line
    _remove_image(docker1, ref)
    yield ref
    _remove_image(docker1, ref)
    _remove_image(docker2, ref)
    _delete_from_registry(repo, "v1")


def test_pull_downloads_the_image_with_one_line_per_layer_state(dockgate, docker1, pushed_image, test_id):
    result = dockgate("pull", pushed_image)
    assert result.returncode == 0, result.stderr
    assert docker1.images.get(pushed_image).tags == [pushed_image]
    lines = result.out_lines
    assert lines[0] == f"v1: Pulling from dgt-{test_id}/img"
    assert lines[-2].startswith("Digest: sha256:")
    assert lines[-1] == f"Status: Downloaded newer image for {pushed_image}"
    layer_lines = [line.split(": ", 1) for line in lines[1:-2]]
    states = Counter(tuple(pair) for pair in layer_lines)
    assert all(count == 1 for count in states.values()), "a state was printed twice: " + result.stdout
    new_layer = next(layer for layer, state in layer_lines if state == "Pulling fs layer")
    assert [state for layer, state in layer_lines if layer == new_layer][-1] == "Pull complete"
    assert (new_layer, "Downloading") in states and (new_layer, "Extracting") in states
    assert not re.search(r"\d+(\.\d+)?[kM]B", result.stdout), "plain output shows no byte counts"


def test_pull_of_an_image_already_there_says_up_to_date(dockgate, pushed_image):
    assert dockgate("pull", pushed_image).returncode == 0
    again = dockgate("pull", pushed_image)
    assert again.returncode == 0, again.stderr
    assert again.out_lines[-1] == f"Status: Image is up to date for {pushed_image}"
    assert "Pulling fs layer" not in again.stdout


def test_pull_on_several_hosts_pulls_on_each_and_fails_if_one_fails(dockgate, docker1, docker2,
                                                                    pushed_image):
    result = dockgate("pull", pushed_image, "--host", "test1", "--host", "test2", "--host", "down")
    assert result.returncode == 1
    assert docker1.images.get(pushed_image) and docker2.images.get(pushed_image)
    for host in ("test1", "test2"):
        assert f"[{host}] Status: Downloaded newer image for {pushed_image}" in result.out_lines
    assert all(line.startswith(("[test1] ", "[test2] ")) for line in result.out_lines)
    assert "down: cannot reach the engine at tcp://127.0.0.1:1: connection refused" in result.stderr
    assert "Traceback" not in result.stderr


def test_pull_of_a_missing_image_is_a_one_line_error(dockgate, docker1, test_id):
    ref = f"{REGISTRY}/dgt-{test_id}/absent:v1"
    result = dockgate("pull", ref)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert f"test1: manifest for {ref} not found" in result.stderr
    assert not docker1.images.list(name=ref)


@pytest.mark.parametrize("ref", ["Busybox", "busybox:", "a//b", "busybox:bad tag", "img@sha256:12"])
def test_pull_rejects_a_bad_reference_before_asking_any_host(dockgate, ref):
    result = dockgate("pull", ref, "--host", "down")  # 'down' would fail if it were asked
    assert result.returncode == 2, result.stderr
    assert f"invalid image: {ref!r} is not an image reference" in result.stderr
    assert "cannot reach" not in result.stderr


@pytest.mark.timeout(90)
def test_pull_on_a_terminal_shows_a_bar_per_layer_then_status(cli_env, docker1, pushed_image):
    child = pexpect.spawn(sys.executable, ["-m", "dockgate", "pull", pushed_image], env=cli_env,
                          dimensions=(40, 160), encoding="utf-8", timeout=60)
    child.expect(pexpect.EOF)
    child.close()
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.before)  # colours and cursor moves
    assert child.exitstatus == 0, screen
    assert docker1.images.get(pushed_image)
    # A sized state shows a bar and its byte counts (rich's DownloadColumn: "0.5/2.0 MB").
    assert re.search(r"(Downloading|Extracting)\s+\S+\s+[\d.]+/2\.0 MB", screen), screen
    assert "Pull complete" in screen
    # Like docker, Digest and Status come once, below the layers.
    status = f"Status: Downloaded newer image for {pushed_image}"
    assert screen.count(status) == 1
    assert screen.rindex("Pull complete") < screen.index("Digest: sha256:") < screen.index(status)
