"""The list query: every seed parameter validated and translated for current engines."""

from __future__ import annotations

import json

import pytest

from dockgate.engines.container_query import BadParameter, ContainerListQuery, parse_bool


def test_legacy_since_and_before_become_filters():
    query = ContainerListQuery(since="abc123", before="def456", all=True, limit=3, size=True)
    params = query.engine_params()
    assert params["all"] == "1" and params["limit"] == "3" and params["size"] == "1"
    assert json.loads(params["filters"]) == {"since": ["abc123"], "before": ["def456"]}


def test_from_query_reads_the_seeds_request():
    query = ContainerListQuery.from_query(
        {"all": "1", "before": "8dfafdbc3a40", "size": "1",
         "filters": '{"status": ["exited"], "exited": ["0"]}'})
    assert query.all and query.size and query.before == "8dfafdbc3a40"
    assert query.effective_filters() == {"status": ["exited"], "exited": ["0"], "before": ["8dfafdbc3a40"]}


@pytest.mark.parametrize("value", ["1", "True", "true"])
def test_seed_true_values(value):
    assert parse_bool("all", value) is True


@pytest.mark.parametrize("value", ["0", "False", "false", ""])
def test_seed_false_values(value):
    assert parse_bool("all", value) is False


@pytest.mark.parametrize(("query", "param", "fragment"), [
    ({"limit": "ten"}, "limit", "'ten' is not an integer"),
    ({"limit": "-5"}, "limit", "non-negative"),
    ({"all": "yes"}, "all", "not a boolean"),
    ({"size": "2"}, "size", "not a boolean"),
    ({"filters": "{not json"}, "filters", "not valid JSON"),
    ({"filters": "[1]"}, "filters", "JSON object"),
    ({"filters": '{"status": "running"}'}, "filters", "list of strings"),
    ({"filters": '{"status": ["sleeping"]}'}, "filters", "'sleeping' is not one of"),
    ({"filters": '{"exited": ["x"]}'}, "filters", "not an integer exit code"),
    ({"filters": '{"health": ["ok"]}'}, "filters", "'ok' is not one of"),
    ({"filters": '{"is-task": ["yes"]}'}, "filters", "is not one of true, false"),
    ({"filters": '{"publish": ["80/xyz"]}'}, "filters", "not a port"),
    ({"filters": '{"label": ["=v"]}'}, "filters", "key or key=value"),
    ({"filters": '{"bogus": ["1"]}'}, "filters", "unknown filter 'bogus'"),
    ({"since": "a b"}, "since", "not a container id"),
])
def test_bad_parameters_name_the_parameter(query, param, fragment):
    with pytest.raises(BadParameter) as info:
        ContainerListQuery.from_query(query)
    assert info.value.param == param
    assert fragment in str(info.value)


def test_legacy_filter_map_form_is_accepted():
    query = ContainerListQuery.from_query({"filters": '{"status": {"running": true}}'})
    assert query.filters == {"status": ["running"]}


def test_valid_filters_pass():
    query = ContainerListQuery.from_filter_args(
        ["status=running", "status=paused", "label=a=b", "publish=8000-8080/udp", "exited=137",
         "health=none", "is-task=false", "expose=80"])
    assert query.filters["status"] == ["running", "paused"]
    assert query.filters["label"] == ["a=b"]


def test_no_parameters_send_nothing():
    assert ContainerListQuery().engine_params() == {}
