"""Side-by-side benchmark of the gateway: the engine directly, HAProxy in front of it, and
``dockgate serve`` in front of it, in one run on one private engine. Prints each figure, the ratios
to direct, and a verdict per target of the issue (>= 0.9x direct throughput, < 1 ms added p50
latency, gateway ratio within 10% of HAProxy's ratio).

    .venv/bin/python bench/gateway.py [--quick] [--skip-memory] [--duration 10] [--rounds 3]

Transports are equal: the engine is exposed on plain loopback TCP (``engine-rig up bench --tcp
PORT``), every client reaches its target over loopback TCP, and HAProxy and the gateway reach the
engine over that same TCP port. ``--upstream unix`` makes the two proxies use the engine's unix
socket instead (their usual deployment; the engine answers faster there, which flatters them against
direct TCP). Load for the listing is made by wrk (C, keep-alive), the log stream is read by curl,
exec round trips by docker-py, the log followers by raw asyncio sockets. HAProxy and wrk are
installed from Debian when missing. Every figure is the median of ``--rounds`` interleaved rounds.

The engine is scripts/engine-rig's "bench" engine; the containers made here carry the label
``dockgate.bench.gateway`` and are removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parents[1]
RIG = ROOT / "scripts" / "engine-rig"
LABEL = "dockgate.bench.gateway"
API = "v1.41"
LIST_PATH = f"/{API}/containers/json?all=1"

# wrk prints this one line at the end: latencies in microseconds.
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"errors": %d, "non2xx": %d}\\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass
class Target:
    """One way to reach the engine: a loopback TCP port, and the process serving it (not for direct)."""

    name: str
    port: int
    process: subprocess.Popen | None = None
    token: str = ""  # the gateway's admin token; every target gets the same header (engines ignore it)

    @property
    def auth(self) -> str:
        return f"Authorization: Bearer {self.token}"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User and system CPU the target's process has used so far (none for direct)."""
        return 0.0 if self.process is None else process_cpu_seconds(self.process.pid)

    def rss_kib(self) -> int:
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for {self.name}")


@dataclass
class Figures:
    """Per metric, per target name: the median over rounds."""

    samples: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def add(self, metric: str, target: str, value: float) -> None:
        self.samples.setdefault(metric, {}).setdefault(target, []).append(value)

    def get(self, metric: str, target: str) -> float:
        return statistics.median(self.samples[metric][target])


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def engine_pid() -> int:
    """The bench engine's dockerd, from the rig's pid file."""
    root = Path(os.environ.get("DOCKGATE_RIG_ROOT", "/var/tmp/dockgate-rig"))
    return int((root / "engines" / "bench" / "pid").read_text().strip())


def sh(*cmd: str) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited:\n{log.read_text()}")
        time.sleep(0.1)
    raise RuntimeError(f"{process.args} did not listen on {port}:\n{log.read_text()}")


def ensure_tools() -> None:
    missing = [pkg for pkg, exe in (("haproxy", "haproxy"), ("wrk", "wrk"), ("curl", "curl"))
               if shutil.which(exe) is None]
    if missing:
        print(f"installing {' '.join(missing)} from Debian", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def engine_up(tcp_port: int) -> str:
    """The rig's "bench" engine with its plain TCP listener; restarted once if it runs without one."""
    sock_url = sh(str(RIG), "up", "bench", "--tcp", str(tcp_port))
    try:
        docker.APIClient(base_url=f"tcp://127.0.0.1:{tcp_port}", version="1.41", timeout=3).ping()
    except Exception:
        sh(str(RIG), "down", "bench")
        sock_url = sh(str(RIG), "up", "bench", "--tcp", str(tcp_port))
    return sock_url


def machine(client: docker.DockerClient) -> list[str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")),
                 platform.processor() or "unknown")
    mem_kib = int(next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines()
                       if ln.startswith("MemTotal:")))
    haproxy = sh("haproxy", "-v").splitlines()[0].split(" - ")[0]
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0].split(" [")[0]
    engine = client.version()
    return [f"machine: {os.cpu_count()} cores, {mem_kib / 1024 / 1024:.1f} GiB RAM, {model}, "
            f"kernel {platform.release()}",
            f"software: Python {platform.python_version()}, engine {engine['Version']} "
            f"(API {engine['ApiVersion']}), {haproxy}, {wrk}"]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# -- fixtures on the engine ------------------------------------------------------------------------------

def remove_ours(client: docker.DockerClient) -> None:
    for c in client.api.containers(all=True, filters={"label": LABEL}):
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_container(c["Id"], force=True)


def make_fixtures(client: docker.DockerClient, containers: int, log_mb: int) -> tuple[str, str]:
    """``containers`` stopped containers, one that wrote ``log_mb`` MB to stdout, one printing a line
    per second (also the exec target). Returns (log container id, ticker container id)."""
    remove_ours(client)
    for i in range(containers):
        client.api.create_container("busybox", ["true"], labels={LABEL: "list"}, name=f"bgw-list-{i}")
    lines = log_mb * 1024 * 1024 // 100
    logger = client.containers.run("busybox", ["sh", "-c", f"yes {'x' * 98} | head -n {lines}"], detach=True,
                                   labels={LABEL: "logs"}, name="bgw-logs")
    ticker = client.containers.run("busybox", ["sh", "-c", "while true; do echo tick; sleep 1; done"],
                                   detach=True, labels={LABEL: "ticker"}, name="bgw-ticker")
    logger.wait()
    return logger.id, ticker.id


# -- the two proxies ---------------------------------------------------------------------------------------

def start_haproxy(folder: Path, upstream: str) -> Target:
    port = free_port()
    server = upstream[len("unix://"):] if upstream.startswith("unix://") else upstream[len("tcp://"):]
    config = folder / "haproxy.cfg"
    config.write_text(f"""global
    maxconn 4000

defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout tunnel 1h

frontend docker
    bind 127.0.0.1:{port}
    default_backend engine

backend engine
    server bench {server}
""")
    sh("haproxy", "-c", "-q", "-f", str(config))
    log = folder / "haproxy.log"  # named after the target: read back if it dies
    process = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)
    wait_listening(port, process, log)
    return Target("haproxy", port, process)


def start_gateway(folder: Path, upstream: str) -> Target:
    port = free_port()
    config = folder / "dockgate.toml"
    config.write_text(f'default_host = "bench"\n\n[hosts.bench]\nurl = "{upstream}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "DOCKGATE_"))}
    env["DOCKGATE_CONFIG"] = str(config)
    # Access control is always on: a store of its own, whose first-run admin token the clients send.
    env["DOCKGATE_STORE_URL"] = f"sqlite:///{folder}/dockgate.db"
    env["XDG_DATA_HOME"] = str(folder)
    log = folder / "dockgate.log"
    process = subprocess.Popen([str(ROOT / ".venv/bin/python"), "-m", "dockgate", "serve", "--no-unix",
                                "--listen", f"127.0.0.1:{port}"], env=env, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)
    wait_listening(port, process, log)
    return Target("dockgate", port, process, (folder / "dockgate" / "admin-token").read_text().strip())


def stop(target: Target) -> None:
    if target.process is None or target.process.poll() is not None:
        return
    target.process.terminate()
    try:
        target.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        target.process.kill()
        target.process.wait()


# -- the measurements ---------------------------------------------------------------------------------------

def wrk(target: Target, script: Path, concurrency: int, seconds: float) -> dict[str, float]:
    out = sh("wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
             "-H", target.auth, "-s", str(script), target.base + LIST_PATH)
    report = json.loads(next(ln for ln in out.splitlines() if ln.startswith("WRK "))[4:])
    if report["errors"] or report["non2xx"]:
        raise RuntimeError(f"wrk against {target.name}: {report['errors']} errors, "
                           f"{report['non2xx']} non-2xx answers")
    return report


def rotated(targets: list[Target], round_: int) -> list[Target]:
    """The targets in the order of this round: interleaved, so that slow drifts in machine load hit
    all three alike, and each round starting with the next one, so that none always goes first."""
    shift = round_ % len(targets)
    return targets[shift:] + targets[:shift]


def bench_listing(targets: list[Target], figures: Figures, script: Path, seconds: float,
                  warmup: float, rounds: int) -> None:
    """Throughput and latency; then the CPU each request cost the engine and the proxy (user and
    system, from /proc), the steadier figure behind the ratios: on 2 cores the proxy's CPU is
    taken from the engine's."""
    cpu: dict[tuple[int, str], list[tuple[float, float]]] = defaultdict(list)
    for concurrency in (1, 32):
        for round_ in range(rounds):
            for target in rotated(targets, round_):
                wrk(target, script, concurrency, warmup)
                engine, proxy = process_cpu_seconds(engine_pid()), target.cpu_seconds()
                report = wrk(target, script, concurrency, seconds)
                requests = report["requests"]
                figures.add(f"list c={concurrency} req/s", target.name,
                            requests / (report["duration_us"] / 1e6))
                cpu[(concurrency, target.name)].append(
                    ((process_cpu_seconds(engine_pid()) - engine) / requests * 1e6,
                     (target.cpu_seconds() - proxy) / requests * 1e6))
                figures.add(f"list c={concurrency} p50 ms", target.name, report["p50_us"] / 1000)
                figures.add(f"list c={concurrency} p99 ms", target.name, report["p99_us"] / 1000)
    print("CPU per listing request, median of the rounds (engine / proxy process, user + system):")
    for (concurrency, name), samples in cpu.items():
        engine_us = statistics.median(e for e, _ in samples)
        proxy_us = statistics.median(p for _, p in samples)
        print(f"  c={concurrency:<3} {name:<9} engine {engine_us:7.0f} us   proxy {proxy_us:5.0f} us"
              + (f" ({proxy_us / engine_us:.1%} of the engine's)" if proxy_us else ""))


def bench_logs(targets: list[Target], figures: Figures, container: str, runs: int) -> int:
    """Stream the whole log with curl (body discarded); returns its size in bytes."""
    size = 0
    for round_ in range(runs):
        for target in rotated(targets, round_):
            out = sh("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}",
                     "-H", target.auth, f"{target.base}/{API}/containers/{container}/logs?stdout=1")
            code, size_s, seconds = out.split()
            if code != "200":
                raise RuntimeError(f"logs through {target.name}: HTTP {code}")
            size = int(size_s)
            figures.add("logs MB/s", target.name, size / 1e6 / float(seconds))
    return size


def bench_exec(targets: list[Target], figures: Figures, container: str, count: int, rounds: int) -> None:
    """``count`` sequential exec round trips (create, start over the hijack, read the output)."""
    for round_ in range(rounds):
        for target in rotated(targets, round_):
            api = docker.APIClient(base_url=f"tcp://127.0.0.1:{target.port}", version="1.41")
            api.headers["Authorization"] = f"Bearer {target.token}"

            def round_trip(api: docker.APIClient = api, target: Target = target) -> None:
                exec_id = api.exec_create(container, ["echo", "hi"])["Id"]
                output = api.exec_start(exec_id)
                if output != b"hi\n":
                    raise RuntimeError(f"exec through {target.name} returned {output!r}")

            for _ in range(5):
                round_trip()
            start = time.perf_counter()
            for _ in range(count):
                round_trip()
            figures.add(f"{count} exec s", target.name, time.perf_counter() - start)
            api.close()


@contextlib.contextmanager
def raised_fd_limit() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def followers_rss(target: Target, container: str, count: int) -> tuple[int, int, int]:
    """Open ``count`` ``logs?follow=1`` streams through ``target``; returns its RSS (KiB) with all of
    them connected, the bytes they received in the following 3 s, and its RSS once they are closed."""
    request = (f"GET /{API}/containers/{container}/logs?stdout=1&follow=1&tail=1 HTTP/1.1\r\n"
               f"Host: bench\r\n{target.auth}\r\n\r\n").encode()
    received, connected = [0], [0]
    writers: list[asyncio.StreamWriter] = []
    gate = asyncio.Semaphore(50)  # stay within the listeners' accept backlog

    async def follow() -> None:
        async with gate:
            reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
            writers.append(writer)
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"follow through {target.name}: {head.splitlines()[0]!r}")
            connected[0] += 1
        while chunk := await reader.read(65536):
            received[0] += len(chunk)

    tasks = [asyncio.create_task(follow()) for _ in range(count)]
    try:
        while connected[0] < count:
            failed = [t for t in tasks if t.done() and t.exception()]
            if failed:
                raise failed[0].exception()  # type: ignore[misc]
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)
        with_followers = target.rss_kib()
        before = received[0]
        await asyncio.sleep(3)
        flowed = received[0] - before
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for writer in writers:
            writer.close()
    await asyncio.sleep(3)
    return with_followers, flowed, target.rss_kib()


# -- report ---------------------------------------------------------------------------------------------

def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def print_table(figures: Figures) -> None:
    print(f"{'figure':<22}{'direct':>10}{'haproxy':>10}{'dockgate':>10}"
          f"{'hap/dir':>9}{'gw/dir':>9}{'gw/hap ratio':>14}")
    for metric in figures.samples:
        d, h, g = (figures.get(metric, t) for t in ("direct", "haproxy", "dockgate"))
        rh, rg = ratio(h, d), ratio(g, d)
        print(f"{metric:<22}{d:>10.2f}{h:>10.2f}{g:>10.2f}{rh:>9.3f}{rg:>9.3f}{ratio(rg, rh):>14.3f}")


def verdicts(figures: Figures, exec_metric: str) -> list[tuple[str, bool, str]]:
    out: list[tuple[str, bool, str]] = []
    for metric in ("list c=1 req/s", "list c=32 req/s", "logs MB/s"):
        r = ratio(figures.get(metric, "dockgate"), figures.get(metric, "direct"))
        out.append((f"throughput >= 0.9x direct: {metric}", r >= 0.9, f"{r:.3f}x"))
    # At c=32 the p50 is mostly queueing in the engine, so the added latency is judged at c=1.
    added = figures.get("list c=1 p50 ms", "dockgate") - figures.get("list c=1 p50 ms", "direct")
    hap = figures.get("list c=1 p50 ms", "haproxy") - figures.get("list c=1 p50 ms", "direct")
    out.append(("added p50 latency < 1 ms (list, c=1)", added < 1.0,
                f"{added:+.3f} ms (HAProxy {hap:+.3f} ms)"))
    for metric, higher in (("list c=1 req/s", True), ("list c=32 req/s", True), ("logs MB/s", True),
                           (exec_metric, False)):
        rg = ratio(figures.get(metric, "dockgate"), figures.get(metric, "direct"))
        rh = ratio(figures.get(metric, "haproxy"), figures.get(metric, "direct"))
        ok = rg >= 0.9 * rh if higher else rg <= 1.1 * rh
        out.append((f"gateway ratio within 10% of HAProxy's: {metric}", ok,
                    f"gateway {rg:.3f}x vs HAProxy {rh:.3f}x direct"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short durations and fewer runs")
    parser.add_argument("--skip-memory", action="store_true", help="skip the 500-follower memory figure")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per listing measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per figure (median)")
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--log-mb", type=int, default=200)
    parser.add_argument("--execs", type=int, default=200)
    parser.add_argument("--followers", type=int, default=500)
    parser.add_argument("--engine-port", type=int, default=23775, help="the bench engine's plain TCP port")
    parser.add_argument("--upstream", choices=("tcp", "unix"), default="tcp",
                        help="how HAProxy and the gateway reach the engine")
    args = parser.parse_args()
    seconds, warmup, rounds = (3.0, 1.0, 1) if args.quick else (args.duration, 2.0, args.rounds)

    ensure_tools()
    sock_url = engine_up(args.engine_port)
    upstream = sock_url if args.upstream == "unix" else f"tcp://127.0.0.1:{args.engine_port}"
    client = docker.DockerClient(base_url=sock_url, version="1.41")
    for line in machine(client):
        print(line)
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"load average at start: {loadavg()}")
    print(f"transports: clients -> every target over loopback TCP; HAProxy and dockgate -> engine over "
          f"{upstream}")

    targets: list[Target] = [Target("direct", args.engine_port)]
    figures = Figures()
    with tempfile.TemporaryDirectory(prefix="dockgate-bench-") as tmp, raised_fd_limit():
        folder = Path(tmp)
        try:
            log_id, ticker_id = make_fixtures(client, args.containers, args.log_mb)
            targets += [start_haproxy(folder, upstream), start_gateway(folder, upstream)]
            for target in targets:  # the same request bytes everywhere
                target.token = targets[-1].token
            idle_rss = {t.name: t.rss_kib() for t in targets[1:]}
            listed = len(client.api.containers(all=True))
            print(f"{listed} containers listed by {LIST_PATH}; {seconds:.0f} s per listing measurement after "
                  f"{warmup:.0f} s warm-up; median of {rounds} interleaved round(s)\n")
            script = folder / "report.lua"
            script.write_text(WRK_REPORT)

            bench_listing(targets, figures, script, seconds, warmup, rounds)
            size = bench_logs(targets, figures, log_id, rounds)
            print(f"log: {size / 1e6:.1f} MB of multiplexed stream, read {rounds} time(s) per target")
            exec_metric = f"{args.execs} exec s"
            bench_exec(targets, figures, ticker_id, args.execs, rounds)
            print()
            print_table(figures)
            print("(ratios: value / direct; req/s and MB/s: higher is better; ms and s: lower is better)")

            if not args.skip_memory:
                print(f"\nmemory (VmRSS) with {args.followers} concurrent logs?follow=1 streams:")
                for target in targets[1:]:
                    before = target.rss_kib()
                    peak, flowed, after = asyncio.run(followers_rss(target, ticker_id, args.followers))
                    print(f"  {target.name:<9} idle at start {idle_rss[target.name] / 1024:7.1f} MiB, "
                          f"idle before {before / 1024:7.1f} MiB, with {args.followers} followers "
                          f"{peak / 1024:7.1f} MiB ({(peak - before) / args.followers:.1f} KiB each), "
                          f"after closing {after / 1024:7.1f} MiB; {flowed} bytes flowed in 3 s")

            print("\nverdicts:")
            for what, ok, detail in verdicts(figures, exec_metric):
                print(f"  {'PASS' if ok else 'FAIL'}  {what}: {detail}")
            print(f"\nload average at end: {loadavg()}")
        finally:
            for target in targets[1:]:
                if target.process is not None and target.process.poll() is not None:
                    log = (folder / f"{target.name}.log").read_text()[-3000:]
                    print(f"{target.name} exited {target.process.returncode}; its log ends:\n{log}")
                stop(target)
            remove_ours(client)


if __name__ == "__main__":
    main()
