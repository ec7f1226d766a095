"""The images, networks, volumes and audit pages' pure parts: rows from engine listings, what a
request may ask, and the audit query, each without a browser or an engine."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from multidict import MultiDict

from dockgate.dashboard.pages.audit import MAX_LIMIT, PAGE_SIZE, audit_query
from dockgate.dashboard.pages.images import image_facts, image_path, image_rows, removal
from dockgate.dashboard.pages.networks import network_facts, network_rows
from dockgate.dashboard.pages.resources import (
    list_request,
    prune_request,
    remove_request,
    size_text,
    unix_time,
    used_by,
)
from dockgate.dashboard.pages.volumes import api_version, prune_filters, volume_facts, volume_rows
from dockgate.engines.errors import BadParameter
from dockgate.engines.filters import IMAGE_FILTERS, VOLUME_FILTERS

BUSYBOX = {"Id": "sha256:aaa", "RepoTags": ["busybox:latest", "127.0.0.1:5055/team/busybox:v1"],
           "RepoDigests": [], "Created": 1700000000, "Size": 2_000_000, "Labels": None}
DANGLING = {"Id": "sha256:bbb", "RepoTags": ["<none>:<none>"], "Created": 1, "Size": 5,
            "RepoDigests": ["alpine@sha256:1", "alpine@sha256:2", "mirror/alpine@sha256:3"]}


def container(name: str, image_id: str = "", *, networks: dict | None = None,
              mounts: list | None = None) -> dict:
    return {"Id": f"id-{name}", "Names": [f"/{name}"], "ImageID": image_id,
            "NetworkSettings": {"Networks": networks or {}}, "Mounts": mounts or []}


def test_an_image_has_a_row_per_tag_each_removable_by_that_tag():
    rows = image_rows([BUSYBOX], [container("web", "sha256:aaa"), container("db", "sha256:ccc")])
    assert [(r["Ref"], r["Repository"], r["Tag"]) for r in rows] == [
        ("busybox:latest", "busybox", "latest"),
        ("127.0.0.1:5055/team/busybox:v1", "127.0.0.1:5055/team/busybox", "v1")]
    assert all(r["UsedBy"] == ["web"] and r["Id"] == "sha256:aaa" and not r["Dangling"] for r in rows)


def test_an_untagged_image_is_one_row_under_its_digests_repositories_removable_by_id():
    [row] = image_rows([DANGLING], [])
    assert row["Ref"] == "sha256:bbb" and row["Tag"] == "<none>" and row["Dangling"]
    assert row["Repository"] == "alpine, mirror/alpine"
    assert row["UsedBy"] == []


def test_containers_unknown_leave_used_by_unknown_rather_than_zero():
    assert [r["UsedBy"] for r in image_rows([BUSYBOX], None)] == [None, None]
    assert used_by(None, lambda c: [c["Id"]])("x") is None


def test_an_image_path_keeps_what_the_engine_reads_across_segments_and_escapes_the_rest():
    assert image_path("127.0.0.1:5055/team/busybox:v1") == "127.0.0.1:5055/team/busybox:v1"
    assert image_path("busybox@sha256:abc") == "busybox@sha256:abc"
    assert image_path("a b?c#d%") == "a%20b%3Fc%23d%25"


@pytest.mark.parametrize("ref", ["../containers/x", "busybox/../../info", "a//b", "/busybox", "busybox/",
                                 "./x"])
def test_an_image_ref_a_url_parser_would_fold_is_refused(ref):
    with pytest.raises(BadParameter, match="not an image name or id"):
        image_path(ref)


def test_removed_images_read_as_the_docker_cli_prints_them():
    done = removal([{"Untagged": "busybox:v1"}, {"Deleted": "sha256:aaa"}, {"Deleted": "sha256:layer"}], 1234)
    assert done.lines == ["untagged: busybox:v1", "deleted: sha256:aaa", "deleted: sha256:layer"]
    assert done.summary == "1 untagged, 2 deleted" and done.reclaimed == 1234
    assert removal(None, 0).summary == "nothing to remove"


def test_image_facts_summarise_inspect():
    facts = dict(image_facts({
        "Id": "sha256:aaa", "RepoTags": ["busybox:latest"], "Size": 2_000_000, "Os": "linux",
        "Architecture": "amd64",
        "Config": {"Cmd": ["sh"], "Entrypoint": None, "ExposedPorts": {"80/tcp": {}}},
        "RootFS": {"Layers": ["l1", "l2"]}}))
    assert facts["Tags"] == "busybox:latest" and facts["Size"] == "2 MB"
    assert facts["Platform"] == "linux/amd64"
    assert facts["Command"] == "sh" and facts["Ports"] == "80/tcp" and facts["Layers"] == "2"
    assert facts["User"] == "root"


def test_a_network_counts_running_and_stopped_containers_and_flags_the_engines_own():
    networks = [{"Id": "n1", "Name": "app", "Driver": "bridge", "Scope": "local",
                 "Created": "2024-05-01T10:00:00.5Z",
                 "IPAM": {"Config": [{"Subnet": "172.20.0.0/16", "Gateway": "172.20.0.1"}]}},
                {"Id": "n2", "Name": "bridge", "Driver": "bridge", "IPAM": {"Config": []}}]
    containers = [container("running", networks={"app": {"NetworkID": "n1"}}),
                  container("stopped", networks={"app": {"NetworkID": ""}, "bridge": {"NetworkID": ""}})]
    app, bridge = network_rows(networks, containers)
    assert app["UsedBy"] == ["running", "stopped"] and app["Subnets"] == ["172.20.0.0/16"]
    assert app["Created"] == datetime(2024, 5, 1, 10, 0, 0, 500000, UTC).timestamp() and not app["Predefined"]
    assert bridge["UsedBy"] == ["stopped"] and bridge["Predefined"]
    assert network_rows(networks, None)[0]["UsedBy"] is None


def test_network_facts_show_subnets_and_attached_containers():
    facts = dict(network_facts({"Id": "n1", "Name": "app", "IPAM": {"Config": [{"Subnet": "10.0.0.0/24",
                                                                                 "Gateway": "10.0.0.1"}]},
                                "Containers": {"c1": {"Name": "web", "IPv4Address": "10.0.0.2/24"}},
                                "Internal": True, "Labels": {"b": "2", "a": "1"}}))
    assert facts["Subnets"] == "10.0.0.0/24 via 10.0.0.1" and facts["Internal"] == "yes"
    assert facts["Running containers"] == "web (10.0.0.2/24)" and facts["Labels"] == "a=1, b=2"


def test_a_volume_is_used_by_containers_mounting_it_and_sized_only_when_known():
    volumes = [{"Name": "data", "Driver": "local", "Mountpoint": "/var/lib/docker/volumes/data/_data",
                "CreatedAt": "2024-05-01T10:00:00+02:00", "Labels": None},
               {"Name": "f00", "Driver": "local", "Labels": {"com.docker.volume.anonymous": ""}}]
    containers = [container("db", mounts=[{"Type": "volume", "Name": "data"}]),
                  container("web", mounts=[{"Type": "bind", "Name": "", "Source": "data"}])]
    data, anonymous = volume_rows(volumes, containers, {"data": 4096, "f00": -1})
    assert data["UsedBy"] == ["db"] and data["Size"] == 4096 and not data["Anonymous"]
    assert data["Created"] == datetime(2024, 5, 1, 8, 0, tzinfo=UTC).timestamp()
    assert anonymous["UsedBy"] == [] and anonymous["Size"] is None and anonymous["Anonymous"]
    assert volume_rows(volumes, containers, None)[0]["Size"] is None


def test_volume_facts_add_the_size_when_inspect_has_it():
    assert "Size" not in dict(volume_facts({"Name": "v"}))
    assert dict(volume_facts({"Name": "v", "UsageData": {"Size": 1500, "RefCount": 0}}))["Size"] == "1.5 kB"


def test_volume_prune_asks_each_api_version_for_what_the_person_chose():
    assert prune_filters(True, ["team=a"], (1, 43)) == {"all": ["true"], "label": ["team=a"]}
    assert prune_filters(False, [], (1, 43)) == {}
    # Before 1.42 every unused volume goes, and the engine knows no "all" filter...
    assert prune_filters(True, [], (1, 41)) == {}
    # ...so "anonymous only" cannot be asked of it, and is refused rather than widened.
    with pytest.raises(BadParameter, match="prunes named volumes too"):
        prune_filters(False, [], (1, 41))
    assert api_version("v1.41") == (1, 41) and api_version("1.50") == (1, 50)


def test_list_requests_take_the_engines_filters_checked():
    listing = list_request(MultiDict([("dangling", "true"), ("reference", " busybox "), ("reference", ""),
                                      ("label", "a=1"), ("size", "1"), ("host", "test1")]), IMAGE_FILTERS)
    assert listing.filters == {"dangling": ["true"], "reference": ["busybox"], "label": ["a=1"]}
    assert listing.sizes
    with pytest.raises(BadParameter, match="dangling: '1' is not one of true, false"):
        list_request(MultiDict(dangling="1"), IMAGE_FILTERS)
    with pytest.raises(BadParameter, match="size"):
        list_request(MultiDict(size="maybe"), IMAGE_FILTERS)


def test_remove_and_prune_requests_say_what_is_wrong():
    assert remove_request({"ref": " busybox:v1 ", "force": True}) == ("busybox:v1", True)
    assert remove_request({"ref": "x"}) == ("x", False)
    for bad in ({}, {"ref": ""}, {"ref": 3}, ["x"], {"ref": "x", "force": "yes"}):
        with pytest.raises(BadParameter):
            remove_request(bad)
    assert prune_request({}, VOLUME_FILTERS) == (False, [])
    assert prune_request({"all": True, "label": " team=a "}, VOLUME_FILTERS) == (True, ["team=a"])
    for bad in ({"all": "true"}, {"label": 1}, {"label": "=x"}, None):
        with pytest.raises(BadParameter):
            prune_request(bad, VOLUME_FILTERS)


def test_engine_times_and_sizes_read_as_docker_shows_them():
    nanos = unix_time("2024-05-01T10:00:00.123456789Z")
    assert nanos == datetime(2024, 5, 1, 10, 0, 0, 123456, UTC).timestamp()
    assert unix_time("") is None and unix_time("yesterday") is None
    assert [size_text(n) for n in (None, -1, 0, 999, 1000, 2_345_678, 10**13)] == \
        ["", "", "0 B", "999 B", "1 kB", "2.35 MB", "10 TB"]


NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC).timestamp()


def test_the_audit_query_reads_the_cli_filters_and_since_as_the_cli_does():
    params = MultiDict(user="vic", host="test1", operation="ImageDelete", decision="deny", since="1h")
    query = audit_query(params, now=NOW)
    where = query.where
    assert (where.user, where.host, where.operation) == ("vic", "test1", "ImageDelete")
    assert where.decision == "deny"
    assert where.since == datetime(2024, 5, 1, 11, 0, tzinfo=UTC)
    assert where.until is None and query.limit == PAGE_SIZE
    dated = audit_query(MultiDict(since="2024-04-30T00:00:00Z"))
    assert dated.where.since == datetime(2024, 4, 30, tzinfo=UTC)
    empty = audit_query(MultiDict(user=" ", decision=""))
    assert empty.where.user is None and empty.where.decision is None


def test_load_more_asks_up_to_the_oldest_shown_record_inclusive():
    until = audit_query(MultiDict(through="2024-05-01T10:00:00.000005+00:00")).where.until
    assert until == datetime(2024, 5, 1, 10, 0, 0, 6, UTC)
    # A time without a zone is the store's: UTC.
    naive = audit_query(MultiDict(through="2024-05-01T10:00:00"))
    assert naive.where.until == datetime(2024, 5, 1, 10, 0, 0, 1, UTC)


@pytest.mark.parametrize(("params", "param"), [
    ({"decision": "maybe"}, "decision"), ({"since": "yesterday"}, "since"), ({"through": "soon"}, "through"),
    ({"limit": "0"}, "limit"), ({"limit": str(MAX_LIMIT + 1)}, "limit"), ({"limit": "ten"}, "limit"),
])
def test_a_wrong_audit_filter_is_named(params, param):
    with pytest.raises(BadParameter) as caught:
        audit_query(MultiDict(params))
    assert caught.value.param == param
