"""The request policy, fed parsed bodies like the gateway will feed it: what passes, what is denied
and why, and which container references the caller must check against the user's scope."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

import pydantic
import pytest

from dockgate.access.body import BodyError, parse_body
from dockgate.access.policy import (
    RULE_SETTINGS,
    PolicyResult,
    PolicySettings,
    body_kind,
    evaluate,
    normalise_image,
)

LONG_S = "\u017f"
KELVIN = "\u212a"

# What `docker create --name web -p 8080:80 -e A=1 -l x=y -v data:/data --restart unless-stopped
# -m 256m --cpus 1 --health-cmd true --ulimit nofile=1024:1024 --tmpfs /run --dns 1.1.1.1
# --add-host a:1.2.3.4 --cap-drop ALL --cap-add CHOWN --read-only --init --mount
# type=volume,src=v9,dst=/v9 --mount type=tmpfs,dst=/t busybox sleep 1` sends (docker CLI 28.2).
OPERATOR_CREATE: dict[str, Any] = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": True,
    "AttachStderr": True, "ExposedPorts": {"80/tcp": {}}, "Tty": False, "OpenStdin": False,
    "StdinOnce": False, "Env": ["A=1"], "Cmd": ["sleep", "1"], "Healthcheck": {"Test": ["CMD-SHELL", "true"]},
    "Image": "busybox", "Volumes": {}, "WorkingDir": "", "Entrypoint": None, "OnBuild": None,
    "Labels": {"x": "y"},
    "HostConfig": {
        "Binds": ["data:/data"], "ContainerIDFile": "", "LogConfig": {"Type": "", "Config": {}},
        "NetworkMode": "default", "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]},
        "RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0}, "AutoRemove": False,
        "VolumeDriver": "", "VolumesFrom": None, "ConsoleSize": [0, 0], "CapAdd": ["CAP_CHOWN"],
        "CapDrop": ["ALL"], "CgroupnsMode": "", "Dns": ["1.1.1.1"], "DnsOptions": [], "DnsSearch": [],
        "ExtraHosts": ["a:1.2.3.4"], "GroupAdd": None, "IpcMode": "", "Cgroup": "", "Links": None,
        "OomScoreAdj": 0, "PidMode": "", "Privileged": False, "PublishAllPorts": False,
        "ReadonlyRootfs": True, "SecurityOpt": None, "Tmpfs": {"/run": ""}, "UTSMode": "", "UsernsMode": "",
        "ShmSize": 0, "Isolation": "", "CpuShares": 0, "Memory": 268435456, "NanoCpus": 1000000000,
        "CgroupParent": "", "BlkioWeight": 0, "BlkioWeightDevice": [], "BlkioDeviceReadBps": [],
        "BlkioDeviceWriteBps": [], "BlkioDeviceReadIOps": [], "BlkioDeviceWriteIOps": [], "CpuPeriod": 0,
        "CpuQuota": 0, "CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0, "CpusetCpus": "", "CpusetMems": "",
        "Devices": [], "DeviceCgroupRules": None, "DeviceRequests": None, "MemoryReservation": 0,
        "MemorySwap": 0, "MemorySwappiness": -1, "OomKillDisable": False, "PidsLimit": 0,
        "Ulimits": [{"Name": "nofile", "Hard": 1024, "Soft": 1024}], "CpuCount": 0, "CpuPercent": 0,
        "IOMaximumIOps": 0, "IOMaximumBandwidth": 0,
        "Mounts": [{"Type": "volume", "Source": "v9", "Target": "/v9"}, {"Type": "tmpfs", "Target": "/t"}],
        "MaskedPaths": None, "ReadonlyPaths": None, "Init": True,
        # docker CLI 20.10 also sends these two (fields of the 1.41 API).
        "KernelMemory": 0, "KernelMemoryTCP": 0,
    },
    "NetworkingConfig": {"EndpointsConfig": {"default": {
        "IPAMConfig": None, "Links": None, "Aliases": None, "MacAddress": "", "DriverOpts": None,
        "GwPriority": 0, "NetworkID": "", "EndpointID": "", "Gateway": "", "IPAddress": "",
        "IPPrefixLen": 0, "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
        "DNSNames": None}}},
}


def check(operation: str, body: Any = None, query: dict[str, list[str]] | None = None,
          **settings: Any) -> PolicyResult:
    """Evaluate as the gateway will: the body goes through parse_body first."""
    if isinstance(body, dict | list):
        body = json.dumps(body, ensure_ascii=False)
    kind = body_kind(operation)
    parsed = None if body is None else parse_body(body.encode(), expect=kind if kind in ("object", "array")
                                                  else "any")
    return evaluate(operation, parsed, query or {}, PolicySettings(**settings))


def create(host: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"Image": "busybox", **fields}
    if host is not None:
        body["HostConfig"] = host
    return body


def assert_denied(result: PolicyResult, rule: str, field: str) -> None:
    assert result.denial is not None, "expected a denial"
    assert (result.denial.rule, result.denial.field) == (rule, field), result.denial.message
    assert result.denial.message.startswith(f'policy rule "{rule}" denies ')
    assert field in result.denial.message


# --- harmless bodies pass -----------------------------------------------------------------------

@pytest.mark.parametrize(("operation", "body"), [
    ("ContainerCreate", OPERATOR_CREATE),
    ("ContainerCreate", create()),
    ("ContainerCreate", create({"Mounts": [{"Type": "volume", "Source": "v", "Target": "/v",
                                            "VolumeOptions": {"DriverConfig": {"Name": "local"}}}]})),
    ("ContainerCreate", create({"SecurityOpt": ["no-new-privileges", "no-new-privileges=false",
                                                "apparmor=docker-default", "label=level:s0:c1,c2",
                                                "seccomp=builtin"]})),
    ("ContainerCreate", create({"CapAdd": ["chown", "NET_BIND_SERVICE"], "CapDrop": ["ALL"]})),
    ("ContainerCreate", create({"Binds": ["/data"], "NetworkMode": "bridge", "IpcMode": "shareable",
                                "CgroupnsMode": "private", "PidMode": ""})),
    ("ContainerExec", {"User": "root", "Privileged": False, "Tty": False, "AttachStdin": False,
                       "AttachStderr": True, "AttachStdout": True, "Detach": False, "DetachKeys": "",
                       "Env": None, "WorkingDir": "", "Cmd": ["ls"]}),  # docker CLI
    ("ContainerExec", {"Container": "cid", "User": "root", "Privileged": False, "Tty": False,
                       "AttachStdin": False, "AttachStdout": True, "AttachStderr": True, "Cmd": ["ls"],
                       "Env": ["A=1"], "WorkingDir": "/", "detachKeys": "ctrl-p"}),  # docker-py
    ("ExecStart", {"Detach": False, "Tty": False}),
    ("VolumeCreate", {"Driver": "local", "DriverOpts": {}, "Labels": {}, "Name": "vv"}),
    ("VolumeCreate", {"Name": "t", "DriverOpts": {"type": "tmpfs", "device": "tmpfs", "o": "size=64m"}}),
    ("VolumeCreate", {"Name": "n", "DriverOpts": {"type": "nfs", "o": "addr=10.0.0.1,rw",
                                                  "device": ":/exports/a"}}),
    ("ServiceCreate", {"Name": "s", "Labels": {}, "TaskTemplate": {
        "ContainerSpec": {"Image": "busybox:latest@sha256:" + "b" * 64, "Init": False, "DNSConfig": {},
                          "Mounts": [{"Type": "volume", "Source": "x", "Target": "/x"}],
                          "CapabilityAdd": ["CAP_CHOWN"],
                          "Privileges": {"Seccomp": {"Mode": "default"}, "NoNewPrivileges": True}},
        "Resources": {"Limits": {"MemoryBytes": 104857600}, "Reservations": {}}, "Placement": {},
        "ForceUpdate": 0}, "Mode": {"Replicated": {}}, "EndpointSpec": {"Mode": "vip"}}),
    ("PluginPull", []),
    ("PluginSet", ["DEBUG=1", "args=-v"]),
    ("ContainerUpdate", {"Memory": 314572800, "RestartPolicy": {"Name": "always"}}),
    ("NetworkCreate", {"Name": "web", "Driver": "bridge", "Labels": {}, "Options": {}}),
])
def test_ordinary_bodies_pass(operation, body):
    result = check(operation, body)
    assert result.allowed, result.denial and result.denial.message
    assert result.container_refs == []


def test_operator_create_passes_strict_settings():
    result = check("ContainerCreate", OPERATOR_CREATE, require_limits=["memory", "cpu"],
                   allowed_images=["docker.io/library/*"])
    assert result.allowed, result.denial and result.denial.message


def test_denial_message_names_rule_field_and_setting():
    result = check("ContainerCreate", create({"Privileged": True}))
    assert result.denial is not None
    assert result.denial.message == ('policy rule "no-privileged" denies HostConfig.Privileged=true: '
                                     "a privileged container controls the host (setting allow_privileged)")


# --- every host-access field, in several spellings ----------------------------------------------

PRIVILEGED_SPELLINGS = [
    '{"Image": "busybox", "HostConfig": {"Privileged": true}}',
    '{"Image": "busybox", "hostconfig": {"privileged": true}}',
    '{"Image": "busybox", "HOSTCONFIG": {"PRIVILEGED": true}}',
    '{"Image": "busybox", "HostConfig": {"\\u0050rivileged": true}}',
    '{"Image": "busybox", "\\u0048ost\\u0043onfig": {"priv\\u0069leged": true}}',
    f'{{"Image": "busybox", "Ho{LONG_S}tConfig": {{"Privileged": true}}}}',
    '{"Image": "busybox", "HostConfig": {"Privileged": "yes"}}',
]


@pytest.mark.parametrize("raw", PRIVILEGED_SPELLINGS)
def test_privileged_in_any_spelling_is_denied(raw):
    assert_denied(check("ContainerCreate", raw), "no-privileged", "HostConfig.Privileged")


@pytest.mark.parametrize(("host", "rule", "field"), [
    ({"Binds": ["/etc:/h:ro"]}, "no-bind-mounts", "HostConfig.Binds[0]"),
    ({"binds": ["data:/d", "/:/host"]}, "no-bind-mounts", "HostConfig.Binds[1]"),
    ({"Binds": ["C:\\Windows:C:\\w"]}, "no-bind-mounts", "HostConfig.Binds[0]"),
    ({"Mounts": [{"Type": "bind", "Source": "/var/run/docker.sock", "Target": "/s"}]},
     "no-bind-mounts", "HostConfig.Mounts[0].Source"),
    ({"mounts": [{"type": "BIND", "source": "/root", "target": "/r"}]},
     "no-bind-mounts", "HostConfig.Mounts[0].Source"),
    ({"Mounts": [{"Type": "npipe", "Source": "\\\\.\\pipe\\docker_engine", "Target": "/p"}]},
     "no-bind-mounts", "HostConfig.Mounts[0].Source"),
    ({"Mounts": [{"Type": "volume", "Source": "v", "Target": "/v", "VolumeOptions": {"DriverConfig": {
        "Name": "local", "Options": {"type": "none", "o": "bind", "device": "/etc"}}}}]},
     "no-bind-mounts", "HostConfig.Mounts[0].VolumeOptions.DriverConfig.Options[device]"),
    ({"Mounts": [{"Type": "volume", "Source": "v", "Target": "/v", "VolumeOptions": {"DriverConfig": {
        "Options": {"type": "ext4", "device": "/dev/sda1"}}}}]},
     "no-bind-mounts", "HostConfig.Mounts[0].VolumeOptions.DriverConfig.Options[type]"),
    ({"Mounts": [{"Type": "volume", "Target": "/v", "VolumeOptions": {"DriverConfig": {"Name": "sshfs"}}}]},
     "allowed-volume-drivers", "HostConfig.Mounts[0].VolumeOptions.DriverConfig.Name"),
    ({"Mounts": [{"Type": "hostpath", "Source": "/", "Target": "/h"}]},
     "unknown-value", "HostConfig.Mounts[0].Type"),
    ({"VolumeDriver": "convoy"}, "allowed-volume-drivers", "HostConfig.VolumeDriver"),
    ({"NetworkMode": "host"}, "no-host-namespaces", "HostConfig.NetworkMode"),
    ({"pidmode": "HOST"}, "no-host-namespaces", "HostConfig.PidMode"),
    ({"IpcMode": "host"}, "no-host-namespaces", "HostConfig.IpcMode"),
    ({"UTSMode": "host"}, "no-host-namespaces", "HostConfig.UTSMode"),
    ({"UsernsMode": "host"}, "no-host-namespaces", "HostConfig.UsernsMode"),
    ({f"Cgroup{'n'}{LONG_S}Mode": "host"}, "no-host-namespaces", "HostConfig.CgroupnsMode"),
    ({f"Networ{KELVIN}Mode": "host"}, "no-host-namespaces", "HostConfig.NetworkMode"),
    ({"CapAdd": ["SYS_ADMIN"]}, "no-added-capabilities", "HostConfig.CapAdd[0]"),
    ({"CapAdd": ["chown", "cap_sys_module"]}, "no-added-capabilities", "HostConfig.CapAdd[1]"),
    ({"CapAdd": "ALL"}, "no-added-capabilities", "HostConfig.CapAdd[0]"),
    ({"Capabilities": ["CAP_CHOWN", "CAP_SYS_PTRACE"]},
     "no-added-capabilities", "HostConfig.Capabilities[1]"),
    ({"Devices": [{"PathOnHost": "/dev/sda", "PathInContainer": "/dev/sda", "CgroupPermissions": "rwm"}]},
     "no-devices", "HostConfig.Devices"),
    ({"DeviceRequests": [{"Driver": "", "Count": -1, "Capabilities": [["gpu"]]}]},
     "no-devices", "HostConfig.DeviceRequests"),
    ({"DeviceCgroupRules": ["c 1:3 mr"]}, "no-devices", "HostConfig.DeviceCgroupRules"),
    ({"SecurityOpt": ["seccomp=unconfined"]}, "no-unconfined", "HostConfig.SecurityOpt[0]"),
    ({"SecurityOpt": ["no-new-privileges", "seccomp:unconfined"]},
     "no-unconfined", "HostConfig.SecurityOpt[1]"),
    ({"SecurityOpt": ['seccomp={"defaultAction": "SCMP_ACT_ALLOW"}']},
     "no-unconfined", "HostConfig.SecurityOpt[0]"),
    ({"SecurityOpt": ["apparmor=unconfined"]}, "no-unconfined", "HostConfig.SecurityOpt[0]"),
    ({"SecurityOpt": ["label=disable"]}, "no-unconfined", "HostConfig.SecurityOpt[0]"),
    ({"SecurityOpt": ["label:type:spc_t"]}, "no-unconfined", "HostConfig.SecurityOpt[0]"),
    ({"SecurityOpt": ["disable"]}, "no-unconfined", "HostConfig.SecurityOpt[0]"),
    ({"SecurityOpt": ["writable-cgroups=true"]}, "no-unconfined", "HostConfig.SecurityOpt[0]"),
    ({"SecurityOpt": ["systempaths=unconfined"]}, "no-unconfined", "HostConfig.SecurityOpt[0]"),
    ({"MaskedPaths": []}, "no-unconfined", "HostConfig.MaskedPaths"),
    ({"ReadonlyPaths": []}, "no-unconfined", "HostConfig.ReadonlyPaths"),
    ({"CgroupParent": "/system.slice"}, "no-cgroup-parent", "HostConfig.CgroupParent"),
    ({"Sysctls": {"kernel.shm_rmid_forced": "1"}}, "no-sysctls", "HostConfig.Sysctls"),
    ({"Unknown": 1}, "unknown-field", "HostConfig.Unknown"),
    ({"Mounts": [{"Type": "tmpfs", "Target": "/t", "HostPath": "/"}]}, "unknown-field",
     "HostConfig.Mounts[0].HostPath"),
])
def test_host_access_fields_are_denied(host, rule, field):
    assert_denied(check("ContainerCreate", create(host)), rule, field)


@pytest.mark.parametrize(("host", "settings"), [
    ({"Privileged": True}, {"allow_privileged": True}),
    ({"Binds": ["/srv/data/app:/d"]}, {"allow_bind_mounts": ["/srv/data/"]}),
    ({"Mounts": [{"Type": "bind", "Source": "/srv/data", "Target": "/d"}]},
     {"allow_bind_mounts": ["/srv/data"]}),
    ({"NetworkMode": "host", "PidMode": "host"}, {"allow_host_namespaces": True}),
    ({"CapAdd": ["NET_ADMIN"]}, {"allow_capabilities": ["CAP_NET_ADMIN"]}),
    ({"CapAdd": ["SYS_ADMIN"]}, {"allow_capabilities": ["all"]}),
    ({"Devices": [{"PathOnHost": "/dev/fuse"}]}, {"allow_devices": True}),
    ({"SecurityOpt": ["seccomp=unconfined"], "MaskedPaths": []}, {"allow_unconfined": True}),
    ({"Sysctls": {"net.core.somaxconn": "1024"}}, {"allow_sysctls": True}),
    ({"CgroupParent": "x"}, {"allow_cgroup_parent": True}),
    ({"VolumeDriver": "convoy"}, {"allow_volume_drivers": ["convoy"]}),
    ({"Unknown": 1}, {"allow_unknown_fields": True}),
])
def test_settings_allow_what_they_name(host, settings):
    assert not check("ContainerCreate", create(host)).allowed
    assert check("ContainerCreate", create(host), **settings).allowed


@pytest.mark.parametrize("source", [
    "/srv/database:/d",          # a sibling, not under /srv/data
    "/srv/data/../../etc:/d",    # '..' is never trusted
    "/srv:/d",                   # the parent
])
def test_bind_prefixes_are_path_aware(source):
    assert_denied(check("ContainerCreate", create({"Binds": [source]}), allow_bind_mounts=["/srv/data"]),
                  "no-bind-mounts", "HostConfig.Binds[0]")


def test_same_field_given_twice_in_different_case_is_ambiguous():
    raw = '{"Image": "busybox", "HostConfig": {"Memory": 1}, "hostconfig": {"Privileged": true}}'
    with pytest.raises(BodyError) as info:
        check("ContainerCreate", raw)
    assert info.value.status == 400 and "HostConfig is given twice" in info.value.message


def test_nested_folded_duplicate_is_ambiguous():
    raw = f'{{"Image": "b", "HostConfig": {{"Binds": [], "Bind{LONG_S}": ["/:/h"]}}}}'
    with pytest.raises(BodyError) as info:
        check("ContainerCreate", raw)
    assert info.value.status == 400 and "HostConfig.Binds is given twice" in info.value.message


def test_top_level_host_config_fields_of_old_engines_are_policed():
    body = create(Privileged=True, Binds=["/:/host"])
    assert_denied(check("ContainerCreate", body), "unknown-field", "Privileged")
    assert_denied(check("ContainerCreate", body, allow_unknown_fields=True), "no-privileged", "Privileged")


def test_host_network_by_endpoint_is_denied():
    body = create(NetworkingConfig={"EndpointsConfig": {"host": {}}})
    assert_denied(check("ContainerCreate", body), "no-host-namespaces",
                  "NetworkingConfig.EndpointsConfig[host]")


def test_unknown_top_level_field_is_denied():
    assert_denied(check("ContainerCreate", create(Config={"Image": "x"})), "unknown-field", "Config")


# --- container references for the caller ---------------------------------------------------------

def test_container_references_are_reported():
    body = create({"NetworkMode": "container:web", "PidMode": "container:db", "IpcMode": "container:abc123",
                   "VolumesFrom": ["data:ro", "logs"], "Links": ["/cache:c"]},
                  NetworkingConfig={"EndpointsConfig": {"net": {"Links": ["queue:q"]}}})
    result = check("ContainerCreate", body)
    assert result.allowed
    assert result.container_refs == [
        ("HostConfig.NetworkMode", "web"), ("HostConfig.PidMode", "db"), ("HostConfig.IpcMode", "abc123"),
        ("HostConfig.VolumesFrom[0]", "data"), ("HostConfig.VolumesFrom[1]", "logs"),
        ("HostConfig.Links[0]", "cache"), ("NetworkingConfig.EndpointsConfig[net].Links[0]", "queue"),
    ]


@pytest.mark.parametrize(("operation", "body", "query", "refs"), [
    ("NetworkConnect", {"Container": "web", "EndpointConfig": {"Aliases": ["w"]}}, {},
     [("Container", "web")]),
    ("NetworkDisconnect", {"Container": "web", "Force": True}, {}, [("Container", "web")]),
    ("ImageCommit", {"Cmd": ["sh"]}, {"container": ["web"]}, [("container", "web")]),
    ("ImageBuild", None, {"networkmode": ["container:builder"]}, [("networkmode", "builder")]),
])
def test_other_operations_report_references(operation, body, query, refs):
    result = check(operation, body, query)
    assert result.allowed and result.container_refs == refs


# --- images and limits ---------------------------------------------------------------------------

@pytest.mark.parametrize(("reference", "normalised"), [
    ("busybox", "docker.io/library/busybox:latest"),
    ("busybox:1.36", "docker.io/library/busybox:1.36"),
    ("me/app", "docker.io/me/app:latest"),
    ("index.docker.io/me/app:v1", "docker.io/me/app:v1"),
    ("localhost:5000/app", "localhost:5000/app:latest"),
    ("ghcr.io/acme/tool@sha256:" + "a" * 64, "ghcr.io/acme/tool@sha256:" + "a" * 64),
])
def test_image_references_are_normalised(reference, normalised):
    assert normalise_image(reference) == normalised


@pytest.mark.parametrize(("image", "allowed"), [
    ("busybox", True), ("docker.io/library/busybox:latest", True), ("alpine:3.19", True),
    ("evil/busybox", False), ("registry.example.com/busybox", False),
    ("sha256:" + "c" * 64, False), ("deadbeef", False),
])
def test_allowed_images(image, allowed):
    result = check("ContainerCreate", create(Image=image),
                   allowed_images=["busybox", "docker.io/library/alpine:*"])
    assert result.allowed is allowed
    if not allowed:
        assert_denied(result, "allowed-images", "Image")


@pytest.mark.parametrize(("host", "required", "field"), [
    ({}, ["memory"], "HostConfig.Memory"),
    ({"Memory": 0}, ["memory"], "HostConfig.Memory"),
    ({"Memory": 1 << 28}, ["memory", "cpu"], "HostConfig.NanoCpus"),
])
def test_required_limits(host, required, field):
    assert_denied(check("ContainerCreate", create(host), require_limits=required), "required-limits", field)


def test_cpu_quota_counts_as_cpu_limit():
    assert check("ContainerCreate", create({"CpuQuota": 50000}), require_limits=["cpu"]).allowed


# --- other operations -----------------------------------------------------------------------------

@pytest.mark.parametrize(("operation", "body", "query", "rule", "field"), [
    ("ContainerExec", {"Cmd": ["sh"], "Privileged": True}, {}, "no-privileged", "Privileged"),
    ("ContainerExec", '{"Cmd": ["sh"], "privileged": true}', {}, "no-privileged", "Privileged"),
    ("VolumeCreate", {"Driver": "local", "DriverOpts": {"type": "none", "o": "bind", "device": "/etc"},
                      "Name": "hv"}, {}, "no-bind-mounts", "DriverOpts[device]"),
    ("VolumeCreate", {"Name": "b", "DriverOpts": {"o": "rbind,ro", "device": "/root"}}, {}, "no-bind-mounts",
     "DriverOpts[device]"),
    ("VolumeCreate", {"Name": "o", "DriverOpts": {"type": "overlay", "o": "lowerdir=/etc",
                                                  "device": "overlay"}},
     {}, "no-bind-mounts", "DriverOpts[type]"),
    ("VolumeCreate", {"Name": "p", "Driver": "local-persist", "DriverOpts": {"mountpoint": "/"}}, {},
     "allowed-volume-drivers", "Driver"),
    ("ImageBuild", None, {"networkmode": ["host"]}, "no-host-namespaces", "networkmode"),
    ("ImageBuild", None, {"t": ["x"], "NetworkMode": ["HOST"]}, "no-host-namespaces", "NetworkMode"),
    ("ImageBuild", None, {"cgroupparent": ["/"]}, "no-cgroup-parent", "cgroupparent"),
    ("ServiceCreate", {"Name": "s", "TaskTemplate": {"ContainerSpec": {
        "Image": "busybox", "Mounts": [{"Type": "bind", "Source": "/etc", "Target": "/e"}]}}},
     {}, "no-bind-mounts", "TaskTemplate.ContainerSpec.Mounts[0].Source"),
    ("ServiceUpdate", {"Name": "s", "TaskTemplate": {"ContainerSpec": {"Image": "b",
                                                                       "CapabilityAdd": ["SYS_ADMIN"]}}},
     {}, "no-added-capabilities", "TaskTemplate.ContainerSpec.CapabilityAdd[0]"),
    ("ServiceCreate", {"Name": "s", "TaskTemplate": {"ContainerSpec": {"Image": "b", "Sysctls": {"a": "b"}}}},
     {}, "no-sysctls", "TaskTemplate.ContainerSpec.Sysctls"),
    ("ServiceCreate", {"Name": "s", "TaskTemplate": {"ContainerSpec": {"Image": "b"},
                                                     "Networks": [{"Target": "host"}]}},
     {}, "no-host-namespaces", "TaskTemplate.Networks[0].Target"),
    ("ServiceCreate", {"Name": "s", "TaskTemplate": {"ContainerSpec": {
        "Image": "b", "Privileges": {"Seccomp": {"Mode": "unconfined"}}}}},
     {}, "no-unconfined", "TaskTemplate.ContainerSpec.Privileges.Seccomp.Mode"),
    ("ServiceCreate", {"Name": "s", "TaskTemplate": {"ContainerSpec": {
        "Image": "b", "Privileges": {"SELinuxContext": {"Disable": True}}}}},
     {}, "no-unconfined", "TaskTemplate.ContainerSpec.Privileges.SELinuxContext.Disable"),
    ("ServiceCreate", {"Name": "s", "TaskTemplate": {"Runtime": "plugin", "PluginSpec": {
        "Name": "p", "PluginPrivilege": [{"Name": "mount", "Value": ["/"]}]}}},
     {}, "no-plugin-privileges", "TaskTemplate.PluginSpec.PluginPrivilege[0]"),
    ("PluginPull", [{"Name": "network", "Description": "", "Value": ["host"]}], {}, "no-plugin-privileges",
     "body[0]"),
    ("PluginUpgrade", [{"Name": "mount", "Value": ["/var/lib"]}], {}, "no-plugin-privileges", "body[0]"),
    ("PluginSet", ["DEBUG=1", "data.source=/etc"], {}, "no-bind-mounts", "body[1]"),
    ("PluginSet", ["disk.path=/dev/sda"], {}, "no-devices", "body[0]"),
    ("ContainerUpdate", {"Devices": [{"PathOnHost": "/dev/kmsg"}]}, {}, "no-devices", "Devices"),
    ("ContainerUpdate", {"CgroupParent": "/"}, {}, "no-cgroup-parent", "CgroupParent"),
    ("ContainerStart", {"Binds": ["/:/host"], "Privileged": True}, {}, "unexpected-body", "body"),
    ("Grpc", None, {}, "no-host-namespaces", "/grpc"),
    ("ContainerTeleport", None, {}, "unknown-operation", "ContainerTeleport"),
])
def test_operations_deny_host_access(operation, body, query, rule, field):
    assert_denied(check(operation, body, query), rule, field)


def test_service_limits_required():
    body = {"Name": "s", "TaskTemplate": {"ContainerSpec": {"Image": "b"}, "Resources": {"Limits": {}}}}
    assert_denied(check("ServiceCreate", body, require_limits=["memory"]), "required-limits",
                  "TaskTemplate.Resources.Limits.MemoryBytes")


@pytest.mark.parametrize(("body", "allowed"), [
    ({"Memory": 0}, True),          # 0 on update means "unchanged"
    ({"Memory": 1 << 28}, True),
    ({"Memory": -1}, False),        # lifting the limit
    ({"CpuQuota": -1}, False),
])
def test_update_may_not_lift_required_limits(body, allowed):
    assert check("ContainerUpdate", body, require_limits=["memory", "cpu"]).allowed is allowed


def test_volume_bind_under_allowed_prefix_passes():
    body = {"Name": "d", "DriverOpts": {"type": "none", "o": "bind", "device": "/srv/data/d"}}
    assert check("VolumeCreate", body, allow_bind_mounts=["/srv/data"]).allowed


def test_build_query_without_host_access_passes():
    assert check("ImageBuild", None, {"t": ["app"], "networkmode": ["default"], "cgroupparent": [""]}).allowed


# --- settings --------------------------------------------------------------------------------------

def test_settings_reject_unknown_keys():
    with pytest.raises(pydantic.ValidationError, match="allow_everything"):
        PolicySettings(allow_everything=True)


@pytest.mark.parametrize("prefix", ["srv/data", "/srv/../etc"])
def test_settings_reject_unsafe_bind_prefixes(prefix):
    with pytest.raises(pydantic.ValidationError, match="allow_bind_mounts"):
        PolicySettings(allow_bind_mounts=[prefix])


def test_settings_normalise_names():
    settings = PolicySettings(allow_bind_mounts=["/srv//data/"], allow_capabilities=["net_admin", "ALL"],
                              allowed_images=["busybox", "ghcr.io/acme/*"])
    assert settings.allow_bind_mounts == ["/srv/data"]
    assert settings.allow_capabilities == ["CAP_NET_ADMIN", "ALL"]
    assert settings.allowed_images == ["docker.io/library/busybox:latest", "ghcr.io/acme/*"]


def test_every_rule_names_a_real_setting():
    for setting in RULE_SETTINGS.values():
        assert setting is None or setting in PolicySettings.model_fields


# --- the generated field list ----------------------------------------------------------------------

def test_body_kinds_come_from_the_spec():
    assert body_kind("ContainerCreate") == "object"
    assert body_kind("PluginPull") == "array"
    assert body_kind("ImageBuild") == "binary"
    assert body_kind("ContainerStart") == "none"
    assert body_kind("ContainerTeleport") is None


def test_every_routed_operation_has_a_body_kind():
    """The route table (operations.json) and the body fields come from the same specs; an operation
    missing here would be denied as unknown for everyone but admins."""
    table = json.loads(files("dockgate.access").joinpath("operations.json").read_text())
    assert [row["operation"] for row in table["routes"] if body_kind(row["operation"]) is None] == []


def test_body_fields_are_in_step_with_the_specs():
    """Where the specs are (not on a clean CI clone), the committed file is what they generate;
    elsewhere, at least every type it names is defined."""
    module = _generator()
    committed = files("dockgate.access").joinpath("body_fields.json").read_text()
    if all(spec.is_file() for spec in module.DEFAULT_SPECS):
        assert module.generate(module.DEFAULT_SPECS) == committed
    document = json.loads(committed)
    refs = [entry.get("type") for entry in document["operations"].values()]
    refs += [ref for fields in document["types"].values() for ref in fields.values()]
    names = {ref.lstrip("[]{}") for ref in refs if ref}
    assert names <= set(document["types"])


def _generator() -> Any:
    """scripts/gen-body-fields as a module (it has no .py suffix)."""
    script = Path(__file__).resolve().parents[2] / "scripts" / "gen-body-fields"
    loader = importlib.machinery.SourceFileLoader("gen_body_fields", str(script))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("gen_body_fields", loader))
    sys.modules["gen_body_fields"] = module  # dataclasses look their module up while defining
    try:
        loader.exec_module(module)
    finally:
        del sys.modules["gen_body_fields"]
    return module


def test_generator_derives_fields_from_a_spec(tmp_path):
    """scripts/gen-body-fields on a small spec: refs, allOf, arrays, maps, binary and bodiless."""
    spec = tmp_path / "spec.yaml"
    spec.write_text("""
definitions:
  Mount:
    type: object
    properties: {Type: {type: string}, Source: {type: string}}
  HostConfig:
    allOf:
      - {type: object, properties: {Memory: {type: integer}}}
      - type: object
        properties:
          Mounts: {type: array, items: {$ref: "#/definitions/Mount"}}
          Sysctls: {type: object, additionalProperties: {type: string}}
          LogConfig: {type: object, properties: {Type: {type: string}}}
paths:
  /containers/create:
    post:
      operationId: ContainerCreate
      parameters:
        - in: body
          name: body
          schema:
            allOf:
              - {type: object, properties: {Image: {type: string}}}
              - {type: object, properties: {HostConfig: {$ref: "#/definitions/HostConfig"}}}
  /build:
    post:
      operationId: ImageBuild
      parameters: [{in: body, name: inputStream, schema: {type: string, format: binary}}]
  /containers/{id}/start:
    post:
      operationId: ContainerStart
      parameters: [{in: path, name: id, type: string}]
""")
    module = _generator()
    module.EXTRA_FIELDS = {"HostConfig": ["Capabilities"]}
    module.EXTRA_OPERATIONS = {}
    document = json.loads(module.generate([spec]))
    assert document["operations"] == {
        "ContainerCreate": {"body": "object", "type": "ContainerCreate"},
        "ContainerStart": {"body": "none"},
        "ImageBuild": {"body": "binary"},
    }
    assert document["types"] == {
        "ContainerCreate": {"HostConfig": "HostConfig", "Image": None},
        "HostConfig": {"Capabilities": None, "LogConfig": "HostConfig.LogConfig", "Memory": None,
                       "Mounts": "[]Mount", "Sysctls": None},
        "HostConfig.LogConfig": {"Type": None},
        "Mount": {"Source": None, "Type": None},
    }


@pytest.mark.parametrize("driver", ["syslog", "gelf", "fluentd", "splunk"])
def test_log_drivers_that_send_to_an_address_are_refused(driver):
    body = parse_body(json.dumps({"Image": "busybox", "HostConfig": {"LogConfig": {
        "Type": driver, "Config": {f"{driver}-address": "unix:///run/docker.sock"}}}}).encode())
    result = evaluate("ContainerCreate", body, {}, PolicySettings())
    assert result.denial is not None and result.denial.rule == "allowed-log-drivers"
    assert result.denial.field == "HostConfig.LogConfig.Type"
    allowed = evaluate("ContainerCreate", body, {}, PolicySettings(allow_log_drivers=[driver]))
    assert allowed.denial is None


@pytest.mark.parametrize("driver", ["json-file", "local", "journald", "none", ""])
def test_log_drivers_that_write_on_the_host_pass(driver):
    body = parse_body(json.dumps({"Image": "busybox", "HostConfig": {"LogConfig": {
        "Type": driver, "Config": {"max-size": "1m"} if driver else {}}}}).encode())
    assert evaluate("ContainerCreate", body, {}, PolicySettings()).denial is None


@pytest.mark.parametrize(("operation", "query", "field"), [
    ("ImageBuild", {"remote": ["https://example.com/app.git"]}, "remote"),
    ("ImageBuild", {"t": ["app"], "remote": ["http://169.254.169.254/latest/user-data"]}, "remote"),
    ("ImageCreate", {"fromSrc": ["http://127.0.0.1:8080/rootfs.tar"], "repo": ["x"]}, "fromSrc"),
    ("ImageCreate", {"FROMSRC": ["file:///etc/shadow"]}, "FROMSRC"),
])
def test_sources_the_engine_would_fetch_itself_are_refused(operation, query, field):
    result = evaluate(operation, None, query, PolicySettings())
    assert result.denial is not None and result.denial.rule == "no-remote-sources"
    assert result.denial.field == field and "allow_remote_sources" in result.denial.message
    assert evaluate(operation, None, query, PolicySettings(allow_remote_sources=True)).denial is None


@pytest.mark.parametrize(("operation", "query"), [
    ("ImageBuild", {"t": ["app"], "remote": [""]}),
    ("ImageCreate", {"fromSrc": ["-"], "repo": ["x"]}),  # the archive is the request body
    ("ImageCreate", {"fromImage": ["busybox"], "tag": ["latest"]}),  # a pull from a registry
])
def test_builds_and_imports_from_what_the_client_sends_pass(operation, query):
    assert evaluate(operation, None, query, PolicySettings()).denial is None


@pytest.mark.parametrize(("body", "rule", "field"), [
    ({"Name": "n", "Driver": "macvlan", "Options": {"parent": "eth0"}}, "allowed-network-drivers", "Driver"),
    ({"Name": "n", "Driver": "ipvlan"}, "allowed-network-drivers", "Driver"),
    ({"Name": "n", "Driver": "vendor/weave:latest"}, "allowed-network-drivers", "Driver"),
    ({"Name": "n", "IPAM": {"Driver": "vendor/ipam"}}, "allowed-network-drivers", "IPAM.Driver"),
    ({"Name": "n", "Options": {"com.docker.network.bridge.name": "docker0"}}, "no-host-namespaces",
     "Options[com.docker.network.bridge.name]"),
    ({"Name": "n", "ConfigOnly": True, "Options": {"com.docker.network.bridge.name": "br0"}},
     "no-host-namespaces", "Options[com.docker.network.bridge.name]"),
])
def test_networks_that_reach_the_host_segment_are_refused(body, rule, field):
    result = evaluate("NetworkCreate", parse_body(json.dumps(body).encode()), {}, PolicySettings())
    assert result.denial is not None and (result.denial.rule, result.denial.field) == (rule, field)


def test_allowed_network_drivers_and_ordinary_networks_pass():
    macvlan = parse_body(b'{"Name": "n", "Driver": "macvlan", "Options": {"parent": "eth0"}}')
    assert evaluate("NetworkCreate", macvlan, {}, PolicySettings(allow_network_drivers=["macvlan"])).denial \
        is None
    compose = parse_body(json.dumps({"Name": "app_default", "Driver": "bridge", "Internal": False,
                                     "Attachable": True, "IPAM": {"Driver": "default", "Config": [
                                         {"Subnet": "172.28.0.0/16"}]},
                                     "Options": {"com.docker.network.driver.mtu": "1400"},
                                     "Labels": {"com.docker.compose.network": "default"}}).encode())
    assert evaluate("NetworkCreate", compose, {}, PolicySettings()).denial is None
