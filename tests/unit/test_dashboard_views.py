"""What the dashboard's pages make of the engines' answers and of their own controls, without I/O."""

from __future__ import annotations

import asyncio

import pytest
from multidict import MultiDict

from dockgate.dashboard.pages import container
from dockgate.dashboard.pages.container import batched_lines, log_options, sections
from dockgate.dashboard.pages.containers import list_query
from dockgate.dashboard.pages.hosts import disk_summary
from dockgate.engines.errors import BadParameter
from dockgate.engines.frames import Chunk, StreamKind


def test_the_list_controls_become_the_seeds_query():
    query = list_query(MultiDict([("all", "1"), ("limit", "5"), ("since", "web1"), ("before", ""),
                                  ("size", "1"), ("status", "exited"), ("exited", "3"), ("label", "a=b"),
                                  ("label", "c"), ("name", " "), ("host", "test1")]))
    assert (query.all, query.limit, query.since, query.before, query.size) == (True, 5, "web1", None, True)
    assert query.filters == {"status": ["exited"], "exited": ["3"], "label": ["a=b", "c"]}


@pytest.mark.parametrize(("params", "param"), [
    ([("limit", "many")], "limit"), ([("exited", "x")], "exited"), ([("status", "sleeping")], "status"),
    ([("all", "maybe")], "all"),
])
def test_a_bad_control_names_itself(params, param):
    with pytest.raises(BadParameter) as caught:
        list_query(MultiDict(params))
    assert caught.value.param == param
    assert str(caught.value).startswith(f"invalid {param}: ")


def test_log_controls():
    options = log_options(MultiDict([("tail", "100"), ("timestamps", "1"), ("stderr", "0")]))
    assert (options.follow, options.tail, options.timestamps, options.stdout, options.stderr) == \
        (True, "100", True, True, False)
    assert log_options(MultiDict([("tail", "")])).tail == "all"
    with pytest.raises(BadParameter, match="tail"):
        log_options(MultiDict([("tail", "-5")]))


async def _collect(chunks: list[Chunk | float]) -> list[list[list[object]]]:
    async def source():
        for item in chunks:
            if isinstance(item, float):
                await asyncio.sleep(item)
            else:
                yield item

    return [batch async for batch in batched_lines(source())]


async def test_log_lines_are_whole_lines_per_stream_in_batches():
    out, err = StreamKind.STDOUT, StreamKind.STDERR
    batches = await _collect([Chunk(out, b"one\ntw"), Chunk(err, b"bad\n"), Chunk(out, b"o\nthree"),
                              Chunk(out, "é".encode()[:1]), Chunk(out, "é".encode()[1:] + b"\n")])
    lines = [line for batch in batches for line in batch]
    assert lines == [[1, "one"], [2, "bad"], [1, "two"], [1, "threeé"]]
    assert len(batches) == 1  # all within one flush interval


async def test_a_quiet_stream_flushes_what_it_has_and_a_partial_line_comes_at_the_end(monkeypatch):
    monkeypatch.setattr(container, "FLUSH_SECONDS", 0.02)
    out = StreamKind.STDOUT
    batches = await _collect([Chunk(out, b"first\nhalf"), 0.2, Chunk(out, b" done\n"), Chunk(out, b"tail")])
    assert batches == [[[1, "first"]], [[1, "half done"]], [[1, "tail"]]]


def test_inspect_sections_mark_secret_variables_and_list_ports():
    info = {"Id": "abc", "Name": "/web", "Config": {"Env": ["MODE=x", "DB_PASSWORD=y", "PATH=/bin"],
                                                     "Cmd": ["sleep", "1"], "Labels": {"b": "2", "a": "1"}},
            "HostConfig": {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
                           "NanoCpus": 500000000},
            "State": {"Status": "running"},
            "NetworkSettings": {"Ports": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}], "443/tcp": None}}}
    view = sections(info)
    assert [(e["key"], e["secret"]) for e in view["env"]] == [("MODE", False), ("DB_PASSWORD", True),
                                                                ("PATH", False)]
    assert view["ports"] == [{"container": "80/tcp", "host": "0.0.0.0:8080"},
                             {"container": "443/tcp", "host": ""}]
    assert view["labels"] == [("a", "1"), ("b", "2")]
    summary = dict(view["summary"])
    assert summary["Restart policy"] == "on-failure (max 3)" and summary["CPUs"] == 0.5
    assert summary["Command"] == "sleep 1"


def test_disk_use_is_summed_per_kind_and_unknown_sizes_count_as_nothing():
    df = {"LayersSize": 1000, "Containers": [{"SizeRw": 10}, {"SizeRw": None}],
          "Volumes": [{"UsageData": {"Size": 5}}, {"UsageData": {"Size": -1}}, {}],
          "BuildCache": [{"Size": 7}]}
    assert disk_summary(df) == {"images": 1000, "containers": 10, "volumes": 5, "build_cache": 7}
