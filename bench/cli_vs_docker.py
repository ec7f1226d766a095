"""Side-by-side benchmark: the dockgate CLI and engine client against the docker CLI and docker-py,
on the same private engine in one run. Prints each figure and the ratio.

    scripts/bootstrap test && .venv/bin/python bench/cli_vs_docker.py [--containers 50] [--log-mb 50]

The engine is scripts/engine-rig's "bench" engine, so nothing else is disturbed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dockgate.engines.client import EngineClient, LogOptions  # noqa: E402
from dockgate.engines.container_query import ContainerListQuery  # noqa: E402
from dockgate.engines.endpoint import Endpoint  # noqa: E402

LABEL = "dockgate.bench"


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def row(what: str, ours: float, theirs: float, unit: str, higher_is_better: bool) -> None:
    ratio = ours / theirs if theirs else float("nan")
    better = "higher is better" if higher_is_better else "lower is better"
    print(f"{what:<44} dockgate {ours:10.2f} {unit:<6} docker {theirs:10.2f} {unit:<6} "
          f"ratio {ratio:5.2f} ({better})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--log-mb", type=int, default=50)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    url = subprocess.run([str(ROOT / "scripts/engine-rig"), "up", "bench"], check=True,
                         capture_output=True, text=True).stdout.strip()
    client = docker.DockerClient(base_url=url)
    for c in client.containers.list(all=True, filters={"label": LABEL}):
        c.remove(force=True)
    for i in range(args.containers):
        client.containers.create("busybox", ["true"], name=f"bench-{i}", labels={LABEL: "1"})
    lines = args.log_mb * 1024 * 1024 // 100
    logger = client.containers.run(
        "busybox", ["sh", "-c", f"yes {'x' * 98} | head -n {lines}"], detach=True,
        labels={LABEL: "1"}, name="bench-logs")
    logger.wait()

    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; engine {client.version()['Version']}")
    print(f"{args.containers} containers, {args.log_mb} MB log, {args.runs} runs per figure (median)\n")

    endpoint = Endpoint("bench", url)

    async def list_rate(n: int) -> float:
        async with EngineClient(endpoint) as engine:
            query = ContainerListQuery(all=True)
            await engine.containers(query)
            start = time.perf_counter()
            for _ in range(n):
                await engine.containers(query)
            return n / (time.perf_counter() - start)

    n = args.runs * 10
    ours = asyncio.run(list_rate(n))
    start = time.perf_counter()
    for _ in range(n):
        client.api.containers(all=True)
    theirs = n / (time.perf_counter() - start)
    row(f"library: list {args.containers} containers", ours, theirs, "req/s", True)

    async def read_logs() -> int:
        async with EngineClient(endpoint) as engine:
            total = 0
            async for chunk in engine.logs("bench-logs", LogOptions()):
                total += len(chunk.data)
            return total

    size = asyncio.run(read_logs())
    ours = statistics.median(timed(lambda: asyncio.run(read_logs()), 3))
    theirs = statistics.median(timed(lambda: sum(len(b) for b in logger.logs(stream=True)), 3))
    row(f"library: read a {size / 1e6:.0f} MB log", size / 1e6 / ours, size / 1e6 / theirs, "MB/s", True)

    env = {**os.environ, "DOCKER_HOST": url, "DOCKGATE_CONFIG": "/nonexistent/dockgate.toml"}
    dockgate = [str(ROOT / ".venv/bin/dockgate")]
    docker_cli = [shutil.which("docker") or "docker"]

    def cli(cmd: list[str]) -> Callable[[], object]:
        return lambda: subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True)

    ours = statistics.median(timed(cli([*dockgate, "ps", "-a"]), args.runs))
    theirs = statistics.median(timed(cli([*docker_cli, "ps", "-a"]), args.runs))
    row("CLI: ps -a (whole command, wall time)", ours * 1000, theirs * 1000, "ms", False)

    ours = statistics.median(timed(cli([*dockgate, "logs", "bench-logs"]), 3))
    theirs = statistics.median(timed(cli([*docker_cli, "logs", "bench-logs"]), 3))
    row(f"CLI: logs of a {size / 1e6:.0f} MB log", size / 1e6 / ours, size / 1e6 / theirs, "MB/s", True)

    for c in client.containers.list(all=True, filters={"label": LABEL}):
        c.remove(force=True)


if __name__ == "__main__":
    main()
