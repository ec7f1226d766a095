"""Roles: what the built-in ones grant, and custom ones from the config file with clear errors."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from dockgate.access.operations import all_operations, match
from dockgate.access.roles import (
    ADMIN,
    BUILT_IN,
    OPERATOR,
    VIEWER,
    Role,
    RoleConfig,
    RoleError,
    resolve_roles,
)


def test_built_in_roles_name_real_operations():
    for role in BUILT_IN.values():
        assert role.operations <= all_operations(), role.name


def test_roles_grow_from_viewer_to_admin():
    assert VIEWER.operations < OPERATOR.operations < ADMIN.operations == all_operations()


@pytest.mark.parametrize("name", [
    "ContainerList", "ContainerInspect", "ContainerLogs", "ContainerTop", "ContainerStats",
    "ContainerChanges", "SystemEvents", "SystemVersion", "SystemInfo", "SystemPing", "SystemPingHead",
    "SystemDataUsage", "ImageList", "ImageInspect", "ImageHistory", "NetworkList", "NetworkInspect",
    "VolumeList", "VolumeInspect", "ExecInspect",
])
def test_viewer_reads_state(name):
    assert name in VIEWER.operations


@pytest.mark.parametrize("name", [
    "ContainerCreate", "ContainerStart", "ContainerDelete", "ContainerArchive", "ContainerArchiveInfo",
    "ContainerExport", "ImageGet", "ImageGetAll", "ContainerAttach", "ContainerAttachWebsocket",
    "ContainerExec", "ExecStart", "ImageSearch", "DistributionInspect", "SystemAuth", "SwarmInspect",
    "SwarmUnlockkey", "ConfigInspect", "ImageCreate",
])
def test_viewer_reads_no_files_and_changes_nothing(name):
    assert name not in VIEWER.operations


@pytest.mark.parametrize("name", [
    "ContainerCreate", "ContainerStart", "ContainerStop", "ContainerRestart", "ContainerKill",
    "ContainerPause", "ContainerUnpause", "ContainerWait", "ContainerRename", "ContainerUpdate",
    "ContainerDelete", "ContainerResize", "ContainerAttach", "ContainerAttachWebsocket",
    "ContainerExec", "ExecStart", "ExecResize", "ContainerArchive", "ContainerArchiveInfo",
    "PutContainerArchive", "ImageCreate", "ImageTag", "ImageBuild", "Session", "NetworkCreate",
    "NetworkConnect", "VolumeCreate",
])
def test_operator_runs_workloads(name):
    assert name in OPERATOR.operations


@pytest.mark.parametrize("name", [
    "SwarmInit", "SwarmJoin", "PluginPull", "PluginEnable", "ServiceCreate", "SecretCreate",
    "ConfigCreate", "NodeUpdate", "ContainerPrune", "ImagePrune", "VolumePrune", "NetworkPrune",
    "BuildPrune", "Grpc", "VolumeUpdate",
])
def test_operator_has_no_cluster_plugin_or_prune_power(name):
    assert name not in OPERATOR.operations


def test_allows_a_matched_request():
    start = match("POST", "/containers/web/start")
    assert OPERATOR.allows(start) and not VIEWER.allows(start)
    exec_start = match("POST", "/exec/abc/start")
    assert OPERATOR.allows(exec_start) and not VIEWER.allows(exec_start)
    assert not OPERATOR.allows(match("POST", "/swarm/init"))
    assert VIEWER.allows(match("GET", "/images/registry:5000/team/app:1/json"))


def test_only_admin_allows_unmatched_routes():
    unknown = match("GET", "/debug/pprof/")
    assert unknown is None
    assert ADMIN.allows(unknown)
    assert not OPERATOR.allows(unknown) and not VIEWER.allows(unknown)


def test_admin_allows_every_operation():
    assert all(ADMIN.allows(match(*route)) for route in [
        ("POST", "/swarm/init"), ("POST", "/plugins/pull"), ("POST", "/grpc"), ("POST", "/images/prune")])


def test_custom_role_includes_and_adds():
    roles = resolve_roles({
        "deployer": RoleConfig(include=["viewer"], operations=["ContainerCreate", "ContainerStart"]),
        "lead": RoleConfig(include=["deployer"], operations=["Grpc"]),
    })
    assert roles["deployer"] == Role("deployer", VIEWER.operations | {"ContainerCreate", "ContainerStart"})
    assert roles["lead"].operations == roles["deployer"].operations | {"Grpc"}
    assert not roles["lead"].allows_unmatched
    assert roles["viewer"] is VIEWER and set(roles) == {"viewer", "operator", "admin", "deployer", "lead"}


def test_including_admin_brings_unmatched_routes():
    roles = resolve_roles({"root": RoleConfig(include=["admin"])})
    assert roles["root"].allows_unmatched and roles["root"].operations == all_operations()


def test_no_custom_roles_gives_the_built_ins():
    assert resolve_roles({}) == dict(BUILT_IN)


def test_unknown_operation_is_named_with_a_suggestion():
    with pytest.raises(ValidationError) as info:
        RoleConfig.model_validate({"operations": ["ContainerList", "ContainerLst"]})
    message = str(info.value)
    assert "unknown operation 'ContainerLst'; did you mean 'ContainerList'?" in message
    assert "operations" in message


def test_unknown_operation_without_a_close_name():
    with pytest.raises(ValidationError, match="unknown operation 'Frobnicate' \\(names are"):
        RoleConfig(operations=["Frobnicate"])


def test_unknown_setting_is_refused():
    with pytest.raises(ValidationError, match="operation"):
        RoleConfig.model_validate({"operation": ["ContainerList"]})


def test_built_in_role_cannot_be_redefined():
    expected = r"roles\.viewer: 'viewer' is a built-in role .* include = \[\"viewer\"\]"
    with pytest.raises(RoleError, match=expected):
        resolve_roles({"viewer": RoleConfig(operations=["ContainerCreate"])})


def test_include_of_an_unknown_role_suggests_one():
    expected = re.escape("roles.ops.include: no role 'operater'; did you mean 'operator'?")
    with pytest.raises(RoleError, match=expected):
        resolve_roles({"ops": RoleConfig(include=["operater"])})


def test_include_cycle_is_refused():
    with pytest.raises(RoleError, match=r"include forms a cycle \(a -> b -> c -> a\)"):
        resolve_roles({
            "a": RoleConfig(include=["b"]),
            "b": RoleConfig(include=["c"]),
            "c": RoleConfig(include=["a"]),
        })


def test_role_including_itself_is_a_cycle():
    with pytest.raises(RoleError, match=r"cycle \(me -> me\)"):
        resolve_roles({"me": RoleConfig(include=["me"])})


@pytest.mark.parametrize("name", ["", "Ops", "1ops", "ops team", "x" * 65])
def test_bad_role_name_is_refused(name):
    with pytest.raises(RoleError, match="a role name is 1-64 lower-case letters"):
        resolve_roles({name: RoleConfig()})
