"""images, networks and volumes against the real engines, each test on objects of its own."""

from __future__ import annotations

import json
import re

import pytest


def _table(stdout: str) -> list[list[str]]:
    """The table's rows split on runs of two or more spaces (cells hold single spaces at most)."""
    return [re.split(r"\s{2,}", line.strip()) for line in stdout.splitlines() if line.strip()]


@pytest.fixture
def label(test_label):
    key, _, value = test_label.partition("=")
    return key, value


@pytest.fixture
def network(docker1, test_id, label):
    net = docker1.networks.create(f"dgt-{test_id}-net", driver="bridge", labels=dict([label]))
    yield net
    net.remove()


@pytest.fixture
def volume(docker1, test_id, label):
    vol = docker1.volumes.create(f"dgt-{test_id}-vol", labels=dict([label]))
    yield vol
    vol.remove()


def test_images_lists_a_row_per_tag(dockgate, docker1, tagged):
    result = dockgate("images", "--filter", f"reference={tagged}")
    assert result.returncode == 0, result.stderr
    image_id = docker1.images.get(f"{tagged}:v1").short_id.removeprefix("sha256:")
    rows = _table(result.stdout)
    assert rows[0] == ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]
    assert sorted(row[:3] for row in rows[1:]) == [[tagged, "v1", image_id], [tagged, "v2", image_id]]
    assert all(row[4].endswith("MB") for row in rows[1:])


def test_images_json_is_the_engine_list_per_host(dockgate, docker1, tagged):
    result = dockgate("images", "-f", f"reference={tagged}", "-f", "dangling=false", "--format", "json")
    assert result.returncode == 0, result.stderr
    [host] = json.loads(result.stdout)
    assert host["host"] == "test1" and host["state"] == "up"
    [image] = host["images"]
    assert image["Id"] == docker1.images.get(f"{tagged}:v1").id
    assert sorted(image["RepoTags"]) == [f"{tagged}:v1", f"{tagged}:v2"]


def test_images_dangling_filter_leaves_out_tagged_images(dockgate, tagged):
    result = dockgate("images", "-f", f"reference={tagged}", "-f", "dangling=true", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["images"] == []


def test_images_on_several_hosts_has_a_host_column_and_a_down_host_hides_nothing(dockgate, tagged):
    result = dockgate("images", "-f", f"reference={tagged}", "-H", "test1", "-H", "test2", "-H", "down")
    assert result.returncode == 0, result.stderr
    rows = _table(result.stdout)
    assert rows[0][:3] == ["HOST", "REPOSITORY", "TAG"]
    assert sorted(row[:3] for row in rows[1:]) == [
        ["test1", tagged, "v1"], ["test1", tagged, "v2"], ["test2", tagged, "two"]]
    assert "error: host down is down: cannot reach the engine at tcp://127.0.0.1:1" in result.stderr


@pytest.mark.parametrize("command", ["images", "networks", "volumes"])
def test_listing_on_only_a_down_host_fails(dockgate, command):
    result = dockgate(command, "--host", "down")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "host down is down: cannot reach the engine" in result.stderr


def test_networks_lists_id_name_driver_scope(dockgate, network, test_id):
    result = dockgate("networks", "--filter", f"name=dgt-{test_id}")
    assert result.returncode == 0, result.stderr
    assert _table(result.stdout) == [["NETWORK ID", "NAME", "DRIVER", "SCOPE"],
                                     [network.id[:12], network.name, "bridge", "local"]]


def test_networks_label_filter_and_json(dockgate, network, test_label):
    result = dockgate("networks", "-f", f"label={test_label}", "-f", "type=custom",
                      "--format", "json")
    assert result.returncode == 0, result.stderr
    [host] = json.loads(result.stdout)
    assert [n["Id"] for n in host["networks"]] == [network.id]
    builtin = dockgate("networks", "-f", "type=builtin", "--format", "json")
    names = [n["Name"] for n in json.loads(builtin.stdout)[0]["networks"]]
    assert names == ["bridge", "host", "none"]  # sorted by name, ours is not built in


def test_networks_on_all_hosts(dockgate, network, test_id):
    result = dockgate("networks", "--all-hosts", "-f", f"name=dgt-{test_id}")
    assert result.returncode == 0, result.stderr
    rows = _table(result.stdout)
    assert rows[0] == ["HOST", "NETWORK ID", "NAME", "DRIVER", "SCOPE"]
    assert rows[1:] == [["test1", network.id[:12], network.name, "bridge", "local"]]
    assert "host down is down" in result.stderr


def test_volumes_lists_driver_and_name(dockgate, volume, test_id):
    result = dockgate("volumes", "--filter", f"name=dgt-{test_id}")
    assert result.returncode == 0, result.stderr
    assert _table(result.stdout) == [["DRIVER", "VOLUME NAME"], ["local", volume.name]]


def test_volumes_label_filter_and_json(dockgate, volume, label, test_label):
    result = dockgate("volumes", "-f", f"label={test_label}", "-f", "dangling=1",
                      "--format", "json")
    assert result.returncode == 0, result.stderr
    [host] = json.loads(result.stdout)
    assert [(v["Name"], v["Labels"]) for v in host["volumes"]] == [(volume.name, dict([label]))]


@pytest.mark.parametrize(("args", "message"), [
    (("images", "-f", "colour=red"), "invalid filters: unknown filter 'colour' (known: before, dangling"),
    (("images", "-f", "dangling=1"), "invalid filters: dangling: '1' is not one of true, false"),
    (("images", "-f", "label="), "invalid filters: label: '' must be key or key=value"),
    (("images", "-f", "noequals"), "invalid filter: 'noequals' is not key=value"),
    (("networks", "-f", "scope=planet"), "invalid filters: scope: 'planet' is not one of swarm, global"),
    (("networks", "-f", "type=weird"), "invalid filters: type: 'weird' is not one of custom, builtin"),
    (("networks", "-f", "reference=x"), "invalid filters: unknown filter 'reference'"),
    (("volumes", "-f", "dangling=maybe"), "invalid filters: dangling: 'maybe' is not one of true"),
    (("volumes", "-f", "name="), "invalid filters: name: must not be empty"),
    (("volumes", "-f", "=x"), "invalid filter: '=x' is not key=value"),
])
def test_bad_filters_exit_2_before_any_host_is_asked(dockgate, args, message):
    result = dockgate(*args, "--host", "down")  # 'down' would fail if it were asked
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "cannot reach" not in result.stderr and "Traceback" not in result.stderr
