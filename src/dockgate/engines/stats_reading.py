"""One sample of ``GET /containers/{id}/stats``, read as people know it from ``docker stats``: CPU %
and memory by the docker CLI's arithmetic, I/O counters as totals since the container started.

The CLI's ``stats`` and the dashboard's Stats tab both read samples through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

# The engine's time of a sample of a container that is not running (Go's zero time).
_NEVER = datetime.fromisoformat("0001-01-01T00:00:00Z")


@dataclass(frozen=True)
class StatsReading:
    """One engine sample: CPU % and memory as ``docker stats`` shows them; I/O counters as totals."""

    time: float  # unix seconds, the engine's clock
    cpu_percent: float | None  # None without a previous CPU sample (the stream's first)
    memory_usage: int
    memory_limit: int
    net_rx: int
    net_tx: int
    block_read: int
    block_write: int
    pids: int

    @classmethod
    def from_engine(cls, raw: dict[str, Any]) -> StatsReading | None:
        """None for the empty samples the engine streams while the container is not running."""
        read = datetime.fromisoformat(raw["read"]) if raw.get("read") else _NEVER
        if read == _NEVER:
            return None
        memory = raw.get("memory_stats") or {}
        networks = (raw.get("networks") or {}).values()
        block_read, block_write = _block_io(raw.get("blkio_stats") or {})
        return cls(time=read.timestamp(), cpu_percent=_cpu_percent(raw),
                   memory_usage=_memory_without_cache(memory), memory_limit=int(memory.get("limit") or 0),
                   net_rx=sum(int(n.get("rx_bytes") or 0) for n in networks),
                   net_tx=sum(int(n.get("tx_bytes") or 0) for n in networks),
                   block_read=block_read, block_write=block_write,
                   pids=int((raw.get("pids_stats") or {}).get("current") or 0))

    @property
    def memory_percent(self) -> float:
        return self.memory_usage / self.memory_limit * 100.0 if self.memory_limit else 0.0

    @property
    def io(self) -> tuple[int, int, int, int]:
        """The I/O totals: network received and sent, block device read and written."""
        return self.net_rx, self.net_tx, self.block_read, self.block_write


def _cpu_percent(raw: dict[str, Any]) -> float | None:
    """The docker CLI's CPU %: the container's share of the host's CPU time since the previous
    sample, times the CPUs online (so one busy core is 100 %)."""
    cpu, pre = raw.get("cpu_stats") or {}, raw.get("precpu_stats") or {}
    if not pre.get("system_cpu_usage"):
        return None
    cpu_delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - \
        (pre.get("cpu_usage") or {}).get("total_usage", 0)
    system_delta = (cpu.get("system_cpu_usage") or 0) - pre["system_cpu_usage"]
    online = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
    if cpu_delta <= 0 or system_delta <= 0:
        return 0.0
    return cpu_delta / system_delta * online * 100.0


def _memory_without_cache(memory: dict[str, Any]) -> int:
    """Usage minus the page cache the kernel can reclaim at once, as the docker CLI shows it:
    ``total_inactive_file`` on cgroup v1, ``inactive_file`` on v2 (v1 has both; the total counts
    the container's child cgroups too)."""
    usage = int(memory.get("usage") or 0)
    counters = memory.get("stats") or {}
    inactive = counters.get("total_inactive_file", counters.get("inactive_file", 0))
    return usage - int(inactive) if inactive < usage else usage


def _block_io(blkio: dict[str, Any]) -> tuple[int, int]:
    """Bytes read and written, summed over devices (v1 spells the operations "Read", v2 "read")."""
    read = write = 0
    for entry in blkio.get("io_service_bytes_recursive") or []:
        op = str(entry.get("op", "")).lower()
        if op == "read":
            read += int(entry.get("value") or 0)
        elif op == "write":
            write += int(entry.get("value") or 0)
    return read, write


