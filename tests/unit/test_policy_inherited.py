"""What an existing container hands on: entering it or sharing its namespaces and volumes reaches
the host when the container itself does (policy.inherited_access, fed inspect answers)."""

from __future__ import annotations

from typing import Any

import pytest

from dockgate.access.policy import PolicySettings, inherited_access

# The parts of `docker inspect` of a plain `docker run -d busybox sleep 1` on a cgroup v1 engine:
# defaults that must not count as host access (cgroupns host, masked paths, a named volume).
PLAIN: dict[str, Any] = {
    "HostConfig": {"NetworkMode": "default", "PidMode": "", "IpcMode": "private", "UTSMode": "",
                   "UsernsMode": "", "CgroupnsMode": "host", "Privileged": False, "CapAdd": None,
                   "SecurityOpt": None, "Devices": [], "DeviceRequests": None,
                   "MaskedPaths": ["/proc/kcore"], "ReadonlyPaths": ["/proc/sys"]},
    "Mounts": [{"Type": "volume", "Name": "data", "Source": "/var/lib/docker/volumes/data/_data",
                "Destination": "/data", "Driver": "local"}],
}


def container(host_config: dict[str, Any] | None = None, mounts: list[dict[str, Any]] | None = None,
              ) -> dict[str, Any]:
    return {"HostConfig": {**PLAIN["HostConfig"], **(host_config or {})},
            "Mounts": PLAIN["Mounts"] + (mounts or [])}


def test_a_plain_container_hands_on_nothing():
    assert inherited_access(PLAIN, "exec into web", PolicySettings()) is None


@pytest.mark.parametrize(("host_config", "mounts", "rule"), [
    ({"Privileged": True}, None, "no-privileged"),
    ({"NetworkMode": "host"}, None, "no-host-namespaces"),
    ({"PidMode": "host"}, None, "no-host-namespaces"),
    ({"UsernsMode": "host"}, None, "no-host-namespaces"),
    (None, [{"Type": "bind", "Source": "/etc", "Destination": "/x"}], "no-bind-mounts"),
    ({"CapAdd": ["SYS_ADMIN"]}, None, "no-added-capabilities"),
    ({"Devices": [{"PathOnHost": "/dev/mem"}]}, None, "no-devices"),
    ({"SecurityOpt": ["seccomp=unconfined"]}, None, "no-unconfined"),
    ({"MaskedPaths": []}, None, "no-unconfined"),
])
def test_host_access_of_the_container_is_denied_naming_the_rule_and_request(host_config, mounts, rule):
    denial = inherited_access(container(host_config, mounts), "exec into web", PolicySettings())
    assert denial is not None and denial.rule == rule
    assert "exec into web" in denial.message


def test_settings_that_allow_the_access_allow_inheriting_it():
    settings = PolicySettings(allow_bind_mounts=["/srv"], allow_capabilities=["SYS_ADMIN"],
                              allow_host_namespaces=True)
    inside = container({"NetworkMode": "host", "CapAdd": ["SYS_ADMIN", "CHOWN"]},
                       [{"Type": "bind", "Source": "/srv/data", "Destination": "/d"}])
    assert inherited_access(inside, "VolumesFrom web", settings) is None
    outside = container(None, [{"Type": "bind", "Source": "/srv2", "Destination": "/d"}])
    assert inherited_access(outside, "VolumesFrom web", settings).rule == "no-bind-mounts"


def test_an_answer_without_host_config_is_read_as_plain():
    assert inherited_access({}, "attach to web", PolicySettings()) is None
