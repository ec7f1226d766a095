"""Where a gateway request goes, decided without I/O: hosts prefix, versions, decoding, cleaning."""

from __future__ import annotations

import pytest

from dockgate.engines.errors import BadParameter
from dockgate.gateway.legacy import is_container_list, parse_container_list_query
from dockgate.gateway.target import TargetError, clean_path, is_dashboard_target, parse_target, version_tuple


@pytest.mark.parametrize(("raw", "host", "version", "path", "query"), [
    ("/containers/json?all=1", None, None, "/containers/json", "all=1"),
    ("/v1.41/containers/json", None, "1.41", "/containers/json", ""),
    ("/hosts/prod/v1.41/containers/json?x=y", "prod", "1.41", "/containers/json", "x=y"),
    ("/hosts/prod/_ping", "prod", None, "/_ping", ""),
    ("/hosts/prod", "prod", None, "/", ""),
    ("/v1.41/%63ontainers/json", None, "1.41", "/containers/json", ""),
    ("http://example:6732/v1.41/version", None, "1.41", "/version", ""),
    ("/v1.41", None, "1.41", "/", ""),
])
def test_parse_target(raw, host, version, path, query):
    target = parse_target(raw)
    assert (target.host, target.version, target.path, target.query) == (host, version, path, query)


def test_hosts_listing():
    assert parse_target("/hosts").listing and parse_target("/hosts/").listing


@pytest.mark.parametrize(("raw", "location"), [
    ("//containers/json", "/containers/json"),
    ("/v1.41/./containers/json?all=1", "/v1.41/containers/json?all=1"),
    ("/v1.41/images/../containers/json", "/v1.41/containers/json"),
    ("/v1.41/%2E%2E/containers/json", "/containers/json"),
])
def test_non_canonical_paths_redirect(raw, location):
    with pytest.raises(TargetError) as info:
        parse_target(raw)
    assert info.value.status == 301 and info.value.location == location


@pytest.mark.parametrize("raw", ["containers/json", "/v1.41/a%00b", "/v1.41/containers/create%ff"])
def test_invalid_targets(raw):
    with pytest.raises(TargetError) as info:
        parse_target(raw)
    assert info.value.status == 400


def test_engine_target_reencodes_the_decided_path():
    target = parse_target("/hosts/h/v1.41/containers/my%20name/json?x=1")
    assert target.path == "/containers/my name/json"
    assert target.engine_target() == "/v1.41/containers/my%20name/json?x=1"
    assert target.engine_target("a=b") == "/v1.41/containers/my%20name/json?a=b"


@pytest.mark.parametrize(("a", "b"), [("1.41", "1.41.0"), ("01.41", "1.41"), ("1.4", "1.4.0.0")])
def test_versions_compare_numerically(a, b):
    assert version_tuple(a) == version_tuple(b)


def test_version_order():
    assert version_tuple("1.9") < version_tuple("1.18") < version_tuple("1.41")


def test_clean_path_keeps_trailing_slash():
    assert clean_path("/a/b/") == "/a/b/" and clean_path("/a//b/./c/..") == "/a/b"


def test_container_list_query_first_value_wins_and_validates():
    query = parse_container_list_query("limit=2&limit=x&before=abc")
    assert query.limit == 2 and query.before == "abc"
    with pytest.raises(BadParameter, match="invalid limit"):
        parse_container_list_query("limit=x")
    assert is_container_list("GET", "/containers/json") and not is_container_list("POST", "/containers/json")


@pytest.mark.parametrize(("method", "raw", "accept", "expected"), [
    (b"GET", b"/", b"text/html,application/xhtml+xml", True),  # a browser at the gateway's address
    (b"GET", b"/", None, False),  # an API client asking for / gets the engine's answer
    (b"GET", b"/", b"application/json", False),
    (b"POST", b"/", b"text/html", False),
    (b"GET", b"/ui/containers?all=1", None, True),
    (b"POST", b"/ui/login", None, True),
    (b"GET", b"/ui", None, True),
    (b"GET", b"/uix/containers", None, False),
    (b"GET", b"/v1.41/containers/json", b"text/html", False),
])
def test_which_requests_are_the_dashboards(method, raw, accept, expected):
    assert is_dashboard_target(method, raw, accept) is expected


def test_the_dashboards_prefix_is_a_whole_path_segment():
    assert is_dashboard_target(b"GET", b"/ui?x=1", None)
    assert not is_dashboard_target(b"GET", b"/uifoo", None)
    assert is_dashboard_target(b"GET", b"/?x=1", b"text/html")
