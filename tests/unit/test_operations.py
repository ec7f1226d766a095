"""Requests to Engine API operations: the route table from the specs, matched the way moby's router does."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest

from dockgate.access.operations import (
    SPANNING,
    UnknownOperationError,
    all_operations,
    match,
    operation_info,
    spec_sources,
)

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = ROOT.parent / "shared" / "docker-api"
GENERATOR = ROOT / "scripts" / "gen-operations"
TABLE = json.loads(files("dockgate.access").joinpath("operations.json").read_text())


@pytest.mark.parametrize(("method", "path", "name", "params"), [
    ("GET", "/_ping", "SystemPing", {}),
    ("HEAD", "/_ping", "SystemPingHead", {}),
    ("GET", "/version", "SystemVersion", {}),
    ("GET", "/info", "SystemInfo", {}),
    ("GET", "/events", "SystemEvents", {}),
    ("GET", "/system/df", "SystemDataUsage", {}),
    ("GET", "/containers/json", "ContainerList", {}),
    ("POST", "/containers/create", "ContainerCreate", {}),
    ("POST", "/containers/prune", "ContainerPrune", {}),
    ("GET", "/containers/3f4e5d6c/json", "ContainerInspect", {"id": "3f4e5d6c"}),
    ("GET", "/containers/web-1/logs", "ContainerLogs", {"id": "web-1"}),
    ("POST", "/containers/web.1/start", "ContainerStart", {"id": "web.1"}),
    ("DELETE", "/containers/web", "ContainerDelete", {"id": "web"}),
    ("GET", "/containers/web/archive", "ContainerArchive", {"id": "web"}),
    ("HEAD", "/containers/web/archive", "ContainerArchiveInfo", {"id": "web"}),
    ("PUT", "/containers/web/archive", "PutContainerArchive", {"id": "web"}),
    ("POST", "/containers/web/exec", "ContainerExec", {"id": "web"}),
    ("GET", "/exec/abc123/json", "ExecInspect", {"id": "abc123"}),
    ("POST", "/exec/abc123/resize", "ExecResize", {"id": "abc123"}),
    ("GET", "/images/json", "ImageList", {}),
    ("GET", "/images/search", "ImageSearch", {}),
    ("GET", "/images/get", "ImageGetAll", {}),
    ("POST", "/images/load", "ImageLoad", {}),
    ("POST", "/images/create", "ImageCreate", {}),
    ("POST", "/images/prune", "ImagePrune", {}),
    ("GET", "/images/busybox/json", "ImageInspect", {"name": "busybox"}),
    ("GET", "/images/registry:5000/foo/bar:1/json", "ImageInspect", {"name": "registry:5000/foo/bar:1"}),
    ("GET", "/images/foo@sha256:0123abcd/history", "ImageHistory", {"name": "foo@sha256:0123abcd"}),
    ("GET", "/images/foo/bar/get", "ImageGet", {"name": "foo/bar"}),
    ("POST", "/images/foo/bar/push", "ImagePush", {"name": "foo/bar"}),
    ("POST", "/images/foo/bar/tag", "ImageTag", {"name": "foo/bar"}),
    ("DELETE", "/images/foo/bar", "ImageDelete", {"name": "foo/bar"}),
    ("DELETE", "/images/localhost:5000/a/b/c:latest", "ImageDelete", {"name": "localhost:5000/a/b/c:latest"}),
    ("GET", "/images/foo/attestations", "ImageAttestations", {"name": "foo"}),
    ("GET", "/distribution/docker.io/library/busybox:1/json", "DistributionInspect",
     {"name": "docker.io/library/busybox:1"}),
    ("GET", "/plugins", "PluginList", {}),
    ("GET", "/plugins/privileges", "GetPluginPrivileges", {}),
    ("POST", "/plugins/pull", "PluginPull", {}),
    ("POST", "/plugins/create", "PluginCreate", {}),
    ("GET", "/plugins/vieux/sshfs:latest/json", "PluginInspect", {"name": "vieux/sshfs:latest"}),
    ("POST", "/plugins/vieux/sshfs/enable", "PluginEnable", {"name": "vieux/sshfs"}),
    ("DELETE", "/plugins/vieux/sshfs", "PluginDelete", {"name": "vieux/sshfs"}),
    ("GET", "/networks", "NetworkList", {}),
    ("GET", "/networks/", "NetworkList", {}),  # moby registers both
    ("POST", "/networks/create", "NetworkCreate", {}),
    ("POST", "/networks/prune", "NetworkPrune", {}),
    ("GET", "/networks/bridge", "NetworkInspect", {"id": "bridge"}),
    ("POST", "/networks/front/connect", "NetworkConnect", {"id": "front"}),
    ("GET", "/volumes", "VolumeList", {}),
    ("POST", "/volumes/create", "VolumeCreate", {}),
    ("POST", "/volumes/prune", "VolumePrune", {}),
    ("GET", "/volumes/data", "VolumeInspect", {"name": "data"}),
    ("PUT", "/volumes/data", "VolumeUpdate", {"name": "data"}),
    ("DELETE", "/volumes/data", "VolumeDelete", {"name": "data"}),
    ("POST", "/build", "ImageBuild", {}),
    ("POST", "/build/prune", "BuildPrune", {}),
    ("POST", "/build/cancel", "BuildCancel", {}),
    ("POST", "/commit", "ImageCommit", {}),
    ("POST", "/auth", "SystemAuth", {}),
    ("POST", "/swarm/init", "SwarmInit", {}),
    ("GET", "/swarm", "SwarmInspect", {}),
    ("GET", "/services/web/logs", "ServiceLogs", {"id": "web"}),
    ("POST", "/secrets/create", "SecretCreate", {}),
    ("GET", "/secrets/s1", "SecretInspect", {"id": "s1"}),
])
def test_match(method, path, name, params):
    operation = match(method, path)
    assert operation is not None
    assert (operation.name, dict(operation.params)) == (name, params)


@pytest.mark.parametrize(("method", "path", "name", "params"), [
    ("POST", "/containers/{id}/attach", "ContainerAttach", {"id": "c1"}),
    ("GET", "/containers/{id}/attach/ws", "ContainerAttachWebsocket", {"id": "c1"}),
    ("POST", "/exec/{id}/start", "ExecStart", {"id": "c1"}),
    ("POST", "/session", "Session", {}),
    ("POST", "/grpc", "Grpc", {}),
])
def test_every_hijacked_route_matches(method, path, name, params):
    operation = match(method, path.replace("{id}", "c1"))
    assert operation is not None
    assert (operation.name, operation.template, dict(operation.params)) == (name, path, params)


@pytest.mark.parametrize(("method", "path", "name", "params"), [
    # a literal wins where it leads somewhere; otherwise the same segment is a parameter, as in moby
    ("DELETE", "/containers/json", "ContainerDelete", {"id": "json"}),
    ("GET", "/containers/create/json", "ContainerInspect", {"id": "create"}),
    ("GET", "/containers/prune/logs", "ContainerLogs", {"id": "prune"}),
    ("DELETE", "/images/json", "ImageDelete", {"name": "json"}),
    ("GET", "/images/json/json", "ImageInspect", {"name": "json"}),
    ("GET", "/images/get/json", "ImageInspect", {"name": "get"}),
    ("GET", "/images/search/get", "ImageGet", {"name": "search"}),
    ("POST", "/images/create/tag", "ImageTag", {"name": "create"}),
    ("GET", "/images/foo/json/json", "ImageInspect", {"name": "foo/json"}),  # the tail is anchored
    ("GET", "/networks/create", "NetworkInspect", {"id": "create"}),
    ("GET", "/volumes/create", "VolumeInspect", {"name": "create"}),
    ("DELETE", "/volumes/prune", "VolumeDelete", {"name": "prune"}),
    ("GET", "/plugins/pull/json", "PluginInspect", {"name": "pull"}),
])
def test_literal_or_parameter(method, path, name, params):
    operation = match(method, path)
    assert operation is not None
    assert (operation.name, dict(operation.params)) == (name, params)


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/"),
    ("GET", "/nothing/here"),
    ("GET", "/containers"),
    ("GET", "/containers/json/"),  # the engine keeps a trailing slash and answers 404
    ("DELETE", "/containers/web/"),
    ("GET", "/volumes/"),
    ("DELETE", "/images/foo/"),
    ("GET", "/images/"),
    ("GET", "/containers/a/b/json"),  # no container name holds a slash
    ("POST", "/exec/a/b/start"),
    ("GET", "/Containers/json"),  # paths are case-sensitive
    ("GET", "/images/foo/bar"),  # no GET without a tail
    ("GET", "/debug/pprof/"),  # only with the engine's debug mode; not in the specs
    ("DELETE", "/containers/web/checkpoints/c1"),  # experimental
    ("GET", "containers/json"),  # not a path
    ("", "/containers/json"),
])
def test_unknown_route_matches_nothing(method, path):
    assert match(method, path) is None


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/containers/json"),
    ("GET", "/containers/create"),
    ("DELETE", "/containers/web/json"),
    ("PUT", "/containers/web/start"),
    ("GET", "/exec/abc/start"),
    ("get", "/containers/json"),  # methods are case-sensitive, as in Go's router
    ("OPTIONS", "/containers/json"),  # moby answers CORS preflight for any path; it acts on nothing
    ("HEAD", "/containers/json"),  # HEAD is not GET: moby registers it for two routes only
    ("HEAD", "/version"),
    ("HEAD", "/containers/web/json"),
    ("HEAD", "/images/foo/bar/json"),
])
def test_wrong_method_matches_nothing(method, path):
    assert match(method, path) is None


def test_every_route_of_the_table_matches_itself():
    for row in TABLE["routes"]:
        path = row["template"].replace("{id}", "x1").replace("{name}", "x1")
        operation = match(row["method"], path)
        assert operation is not None, row
        assert (operation.name, operation.template) == (row["operation"], row["template"])


# swarm/cluster.go writes plain "{id}" (one segment); the other routers write "{name:.*}" / "{id:.+}".
_MUX_ONE_SEGMENT = {"configs", "nodes", "secrets", "services", "tasks"}


def _mux_pattern(template: str) -> re.Pattern[str]:
    """How gorilla/mux reads moby's template: "{name:.*}" takes any characters, slashes included.

    Non-empty here: in a clean path only a trailing slash leaves a parameter empty, and there moby acts
    on an empty name (404) where we match nothing, on purpose.
    """
    param = "([^/]+)" if template.split("/")[1] in _MUX_ONE_SEGMENT else "(.+)"
    return re.compile("^" + re.sub(r"\\\{\w+\\\}", param, re.escape(template)) + "$")


def test_the_engine_would_pick_the_same_route():
    """Whatever we match, moby's loosest reading of the same-method routes matches only that route."""
    values = ["x1", "json", "create", "prune", "get", "search", "a/b", "r:5000/a/b:1", "x/json"]
    by_method: dict[str, list[str]] = {}
    for row in TABLE["routes"]:
        by_method.setdefault(row["method"], []).append(row["template"])
    checked = 0
    for method, templates in by_method.items():
        patterns = {t: _mux_pattern(t) for t in templates}
        for template in templates:
            for value in values:
                path = re.sub(r"\{\w+\}", value, template)
                operation = match(method, path)
                if operation is None:
                    assert "/" in value and not any(path.startswith(f"/{s}/") for s, _ in SPANNING)
                    continue
                engine = [t for t, pattern in patterns.items() if pattern.match(path)]
                assert engine == [operation.template], (method, path)
                checked += 1
    assert checked > 300


def test_resource_of_an_operation():
    exec_create = match("POST", "/containers/web/exec")
    assert exec_create is not None
    assert (exec_create.kind, exec_create.resource_kind, exec_create.resource) == ("exec", "container", "web")
    image = match("GET", "/distribution/foo/bar/json")
    assert image is not None and (image.resource_kind, image.resource) == ("image", "foo/bar")
    listing = match("GET", "/containers/json")
    assert listing is not None and (listing.resource_kind, listing.resource) == (None, None)


def test_operation_info():
    info = operation_info("VolumeInspect")
    assert (info.kind, info.resource_kind, info.resource_param) == ("volume", "volume", "name")
    assert operation_info("NetworkList").routes == (("GET", "/networks"), ("GET", "/networks/"))
    with pytest.raises(UnknownOperationError, match="'ContainerLst'"):
        operation_info("ContainerLst")


def test_all_operations_is_the_table():
    assert all_operations() == {row["operation"] for row in TABLE["routes"]}
    assert {"ContainerList", "ContainerExec", "ExecStart", "Grpc", "Session"} <= all_operations()


def test_table_is_well_formed():
    rows = TABLE["routes"]
    keys = [(row["template"], row["method"]) for row in rows]
    assert keys == sorted(set(keys)), "routes are unique and sorted"
    assert len(rows) >= 110
    for row in rows:
        assert row["method"] in {"GET", "HEAD", "POST", "PUT", "DELETE"}
        assert row["template"].startswith("/") and row["operation"][0].isupper()
        assert row["kind"] == row["tag"].lower()
        assert bool(row["specs"]) != ("note" in row), "a route comes from a spec or says where from"
        assert (row["resource_param"] is None) == ("{" not in row["template"])
    assert {s["api_version"] for s in TABLE["specs"]} == {"1.41", "1.56"}
    assert spec_sources() == tuple(TABLE["specs"])


def test_table_is_in_step_with_the_specs():
    """Where the specs are (not on a clean CI clone), the committed table is what they generate."""
    present = [SPEC_DIR / s["file"] for s in TABLE["specs"] if (SPEC_DIR / s["file"]).is_file()]
    if not present:
        assert all(len(s["sha256"]) == 64 for s in TABLE["specs"])
        assert all(row["operation"] for row in TABLE["routes"])
        return
    recorded = {s["file"]: s["sha256"] for s in TABLE["specs"]}
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in present} == {
        p.name: recorded[p.name] for p in present}
    result = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_generator_refuses_specs_that_disagree(tmp_path):
    def spec(version: str, operation_id: str) -> str:
        return (f'swagger: "2.0"\ninfo: {{version: "{version}"}}\npaths:\n  /containers/json:\n'
                f'    get: {{operationId: {operation_id}, tags: [Container]}}\n')

    (tmp_path / "a.yaml").write_text(spec("1.50", "ContainerList"))
    (tmp_path / "b.yaml").write_text(spec("1.51", "ContainerListAll"))
    output = tmp_path / "operations.json"
    result = subprocess.run([sys.executable, str(GENERATOR), str(tmp_path / "a.yaml"),
                             str(tmp_path / "b.yaml"), "--output", str(output)],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "GET /containers/json is ContainerList in one spec and ContainerListAll in b.yaml" in result.stderr
    assert not output.exists()


def test_generator_names_a_missing_spec(tmp_path):
    result = subprocess.run([sys.executable, str(GENERATOR), str(tmp_path / "nope.yaml"),
                             "--output", str(tmp_path / "out.json")], capture_output=True, text=True)
    assert result.returncode == 2 and "spec not found" in result.stderr and "nope.yaml" in result.stderr
