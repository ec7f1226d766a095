"""The Stats tab's figures from engine samples as engines send them: ``docker stats`` arithmetic for
CPU and memory on cgroup v1 and v2, and I/O rates from two samples in a row."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dockgate.dashboard.pages.container_stats import point
from dockgate.engines.stats_reading import StatsReading as Reading

# Recorded from Docker 20.10 on a cgroup v1 host (one busy-looping busybox), trimmed of the counters
# nobody reads; the memory figures changed to have page cache, and the v1 total unlike its local value.
V1_SAMPLE: dict[str, Any] = {
    "read": "2026-11-27T15:51:49.100061472Z",
    "preread": "2026-11-27T15:51:48.090951825Z",
    "pids_stats": {"current": 1},
    "blkio_stats": {
        "io_service_bytes_recursive": [
            {"major": 8, "minor": 0, "op": "Read", "value": 2_097_152},
            {"major": 8, "minor": 0, "op": "Write", "value": 65_536},
            {"major": 8, "minor": 0, "op": "Sync", "value": 2_162_688},
            {"major": 8, "minor": 0, "op": "Total", "value": 2_162_688},
        ],
        "io_serviced_recursive": [],
    },
    "cpu_stats": {
        "cpu_usage": {"total_usage": 2_980_021_670, "percpu_usage": [2_797_287_665, 182_734_005],
                      "usage_in_kernelmode": 20_000_000, "usage_in_usermode": 2_950_000_000},
        "system_cpu_usage": 66_104_530_000_000,
        "online_cpus": 2,
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    },
    "precpu_stats": {
        "cpu_usage": {"total_usage": 2_065_007_742, "percpu_usage": [2_046_468_363, 18_539_379],
                      "usage_in_kernelmode": 10_000_000, "usage_in_usermode": 2_050_000_000},
        "system_cpu_usage": 66_102_560_000_000,
        "online_cpus": 2,
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    },
    "memory_stats": {
        "usage": 10_485_760,
        "max_usage": 14_075_520,
        "stats": {"active_anon": 4096, "active_file": 1_048_576, "cache": 5_242_880, "inactive_anon": 53_248,
                  "inactive_file": 1_048_576, "rss": 57_344, "total_active_file": 1_048_576,
                  "total_cache": 5_242_880, "total_inactive_file": 4_194_304, "total_rss": 57_344},
        "limit": 25_276_502_016,
    },
    "name": "/busy",
    "id": "bb173178bf289b5f9a20c41b60b5fc7db6519a19958ec22080aa25367e3adb86",
    "networks": {"eth0": {"rx_bytes": 516, "rx_packets": 6, "rx_errors": 0, "rx_dropped": 0,
                          "tx_bytes": 0, "tx_packets": 0, "tx_errors": 0, "tx_dropped": 0}},
}

# The shape of a cgroup v2 host's sample (Docker 24): no per-CPU list, lower-case block I/O
# operations, memory counters without v1's "total_" family; a container on two networks.
V2_SAMPLE: dict[str, Any] = {
    "read": "2026-11-27T16:00:02.250000000Z",
    "preread": "2026-11-27T16:00:01.250000000Z",
    "pids_stats": {"current": 3, "limit": 18_446_744_073_709_551_615},
    "blkio_stats": {
        "io_service_bytes_recursive": [
            {"major": 254, "minor": 0, "op": "read", "value": 8_388_608},
            {"major": 254, "minor": 0, "op": "write", "value": 1_048_576},
            {"major": 7, "minor": 1, "op": "read", "value": 1_048_576},
            {"major": 7, "minor": 1, "op": "write", "value": 0},
        ],
        "io_serviced_recursive": None,
    },
    "cpu_stats": {
        "cpu_usage": {"total_usage": 7_400_000_000, "usage_in_kernelmode": 400_000_000,
                      "usage_in_usermode": 7_000_000_000},
        "system_cpu_usage": 120_004_000_000_000,
        "online_cpus": 4,
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    },
    "precpu_stats": {
        "cpu_usage": {"total_usage": 6_900_000_000, "usage_in_kernelmode": 380_000_000,
                      "usage_in_usermode": 6_520_000_000},
        "system_cpu_usage": 120_000_000_000_000,
        "online_cpus": 4,
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    },
    "memory_stats": {
        "usage": 52_428_800,
        "stats": {"active_anon": 0, "active_file": 4_194_304, "anon": 31_457_280, "file": 20_971_520,
                  "inactive_anon": 31_457_280, "inactive_file": 16_777_216, "shmem": 0, "slab": 786_432},
        "limit": 8_000_000_000,
    },
    "name": "/web",
    "id": "5d6f0e8a3c1b2a4f6e8d0c2b4a6f8e0d2c4b6a8f0e2d4c6b8a0f2e4d6c8b0a2f",
    "networks": {
        "eth0": {"rx_bytes": 10_000, "rx_packets": 40, "tx_bytes": 2_000, "tx_packets": 20},
        "eth1": {"rx_bytes": 5_000, "rx_packets": 10, "tx_bytes": 1_000, "tx_packets": 8},
    },
}


def later(sample: dict[str, Any], *, read: str, rx: tuple[int, int], tx: tuple[int, int],
          disk_read: int, disk_write: int) -> dict[str, Any]:
    """The v2 sample as the engine sends it some time later: new time, grown counters."""
    sample = copy.deepcopy(sample)
    sample["preread"], sample["read"] = sample["read"], read
    for counters, received, sent in zip(sample["networks"].values(), rx, tx, strict=True):
        counters["rx_bytes"], counters["tx_bytes"] = received, sent
    sample["blkio_stats"]["io_service_bytes_recursive"] = [
        {"major": 254, "minor": 0, "op": "read", "value": disk_read},
        {"major": 254, "minor": 0, "op": "write", "value": disk_write},
    ]
    return sample


def reading(sample: dict[str, Any]) -> Reading:
    result = Reading.from_engine(sample)
    assert result is not None
    return result


def test_cpu_percent_is_the_docker_cli_s_share_of_host_time_times_online_cpus():
    # v1: (2980021670 - 2065007742) / (66104530000000 - 66102560000000) * 2 CPUs, as docker stats shows
    assert reading(V1_SAMPLE).cpu_percent == pytest.approx(92.895, abs=0.001)
    # v2: 0.5 s of CPU time over 4 s of host time (1 s on each of 4 CPUs): half a core
    assert reading(V2_SAMPLE).cpu_percent == pytest.approx(50.0)


def test_cpu_percent_counts_the_per_cpu_list_when_an_engine_omits_online_cpus():
    sample = copy.deepcopy(V1_SAMPLE)
    del sample["cpu_stats"]["online_cpus"]
    assert reading(sample).cpu_percent == pytest.approx(92.895, abs=0.001)


def test_the_first_sample_of_a_stream_has_no_cpu_figure_rather_than_a_lifetime_average():
    # The engine's first streamed sample has an empty precpu_stats; the docker CLI's formula would
    # then give the container's CPU time over the host's since boot: a meaningless near-zero.
    sample = copy.deepcopy(V2_SAMPLE)
    sample["precpu_stats"] = {"cpu_usage": {"total_usage": 0}, "throttling_data": {}}
    assert reading(sample).cpu_percent is None


def test_an_idle_container_is_zero_percent():
    sample = copy.deepcopy(V2_SAMPLE)
    sample["cpu_stats"]["cpu_usage"]["total_usage"] = sample["precpu_stats"]["cpu_usage"]["total_usage"]
    assert reading(sample).cpu_percent == 0.0


def test_memory_leaves_out_the_reclaimable_page_cache_v1_counting_child_cgroups():
    v1 = reading(V1_SAMPLE)
    assert v1.memory_usage == 10_485_760 - 4_194_304  # usage - total_inactive_file
    assert v1.memory_limit == 25_276_502_016
    v2 = reading(V2_SAMPLE)
    assert v2.memory_usage == 52_428_800 - 16_777_216  # usage - inactive_file
    assert v2.memory_limit == 8_000_000_000


def test_memory_is_the_raw_usage_when_the_cache_figure_is_not_below_it():
    sample = copy.deepcopy(V2_SAMPLE)
    sample["memory_stats"]["stats"]["inactive_file"] = sample["memory_stats"]["usage"]
    assert reading(sample).memory_usage == 52_428_800


def test_io_totals_sum_interfaces_and_devices_whatever_the_operation_s_case():
    v1 = reading(V1_SAMPLE)
    assert (v1.net_rx, v1.net_tx, v1.block_read, v1.block_write) == (516, 0, 2_097_152, 65_536)
    v2 = reading(V2_SAMPLE)
    assert (v2.net_rx, v2.net_tx, v2.block_read, v2.block_write) == (15_000, 3_000, 9_437_184, 1_048_576)


def test_a_point_has_io_rates_per_second_since_the_previous_sample():
    first = reading(V2_SAMPLE)
    second = reading(later(V2_SAMPLE, read="2026-11-27T16:00:04.250000000Z", rx=(30_000, 5_000),
                           tx=(2_000, 1_000), disk_read=17_825_792, disk_write=1_048_576))
    drawn = point(second, first)
    assert drawn == {
        "t": pytest.approx(first.time + 2.0), "cpu": pytest.approx(50.0),
        "mem": 52_428_800 - 16_777_216, "mem_limit": 8_000_000_000,
        "net_rx": pytest.approx(10_000.0),  # (35000 - 15000) bytes over 2 s
        "net_tx": 0.0,
        "blk_read": pytest.approx(4_194_304.0),  # 8 MiB over 2 s
        "blk_write": pytest.approx(0.0),
    }


def test_the_first_point_and_a_restart_have_no_rates_rather_than_wild_ones():
    first = reading(V2_SAMPLE)
    alone = point(first, None)
    assert [alone[k] for k in ("net_rx", "net_tx", "blk_read", "blk_write")] == [None] * 4
    assert alone["mem"] == 52_428_800 - 16_777_216
    restarted = reading(later(V2_SAMPLE, read="2026-11-27T16:00:03.250000000Z", rx=(100, 0), tx=(50, 0),
                              disk_read=9_437_184, disk_write=2_097_152))
    drawn = point(restarted, first)
    assert (drawn["net_rx"], drawn["net_tx"]) == (None, None)  # counters fell: a new network namespace
    assert drawn["blk_read"] == 0.0 and drawn["blk_write"] == pytest.approx(1_048_576.0)


def test_a_container_that_is_not_running_gives_no_reading():
    # What the engine streams, once a second, for a stopped container: Go's zero time, no counters.
    stopped = {"read": "0001-01-01T00:00:00Z", "preread": "0001-01-01T00:00:00Z", "pids_stats": {},
               "blkio_stats": {"io_service_bytes_recursive": None},
               "cpu_stats": {"cpu_usage": {"total_usage": 0}, "throttling_data": {}},
               "precpu_stats": {"cpu_usage": {"total_usage": 0}, "throttling_data": {}},
               "memory_stats": {}, "name": "/stopped", "id": "e1689e55dd96"}
    assert Reading.from_engine(stopped) is None
