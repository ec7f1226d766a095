"""Benchmark of the dashboard in a real browser (Debian's headless Chromium, driven by Playwright):

1. **The containers page with many containers across two hosts**: the time from navigation to the
   table holding every row (``performance.mark("containers-rendered")``), and the time a search
   keystroke and a sort click take to redraw it. Beside it, side by side in one run: the listing
   straight from the two engines, and the dashboard's own JSON for the same list (ratio to direct).
2. **The log view following a busy container**: a container printing ``--log-rate`` lines/s for
   ``--log-seconds``; lines received and drawn per second in the page, how far behind the engine
   the page is at the end, and the page's JavaScript heap and DOM size over time (bounded window:
   neither may keep growing).

    .venv/bin/python bench/dashboard.py [--containers 1000] [--log-rate 5000] [--log-seconds 60]

Engines are scripts/engine-rig's "bench1" and "bench2"; the containers made here carry the label
``dockgate.bench.dashboard``; the listing fixtures stay for re-runs unless ``--clean``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import http.client
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker
import requests
from playwright.sync_api import CDPSession, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
RIG = ROOT / "scripts" / "engine-rig"
LABEL = "dockgate.bench.dashboard"
PASSWORD = "bench-password-1"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost")
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def sh(*cmd: str, input: str | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, input=input, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")),
                 platform.processor() or "unknown")
    mem_kib = int(next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines()
                       if ln.startswith("MemTotal:")))
    chromium = sh("/usr/bin/chromium", "--version")
    return (f"machine: {os.cpu_count()} cores, {mem_kib / 1024 / 1024:.1f} GiB RAM, {model}, kernel "
            f"{platform.release()}\nsoftware: Python {platform.python_version()}, {chromium}")


# -- fixtures --------------------------------------------------------------------------------------------

def ensure_listing_fixtures(clients: list[docker.DockerClient], total: int) -> None:
    """``total`` stopped containers split over the engines; kept between runs (making 1,000 takes a while)."""
    per_engine = total // len(clients)
    for n, client in enumerate(clients):
        have = client.api.containers(all=True, filters={"label": f"{LABEL}=list"})
        missing = per_engine - len(have)
        for extra in have[per_engine:]:
            client.api.remove_container(extra["Id"], force=True)
        if missing <= 0:
            continue
        print(f"creating {missing} containers on engine {n + 1}", file=sys.stderr)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i, c=client: c.api.create_container(
                "busybox", ["true"], labels={LABEL: "list", "index": str(i)}), range(missing)))


def start_gateway(folder: Path, sockets: list[str]) -> tuple[subprocess.Popen, int, dict[str, str]]:
    port = free_port()
    config = folder / "dockgate.toml"
    config.write_text('default_host = "bench1"\n' + "".join(
        f'\n[hosts.bench{i + 1}]\nurl = "{url}"\n' for i, url in enumerate(sockets)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "DOCKGATE_"))}
    env.update(DOCKGATE_CONFIG=str(config), DOCKGATE_STORE_URL=f"sqlite:///{folder}/dockgate.db",
               XDG_DATA_HOME=str(folder))
    log = folder / "dockgate.log"
    python = str(ROOT / ".venv/bin/python")
    process = subprocess.Popen([python, "-m", "dockgate", "serve", "--no-unix", "--listen",
                                f"127.0.0.1:{port}"], env=env, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        time.sleep(0.1)
    else:
        raise RuntimeError(f"dockgate serve did not start:\n{log.read_text()}")
    sh(python, "-m", "dockgate", "users", "passwd", "admin", "--password-stdin", input=PASSWORD + "\n",
       env=env)
    return process, port, env


# -- 1. the containers page -------------------------------------------------------------------------------

def direct_listing_ms(sockets: list[str]) -> float:
    """Both engines' ``GET /containers/json?all=1`` at once, as the dashboard asks them."""
    def one(path: str) -> int:
        conn = UnixHTTPConnection(path)
        conn.request("GET", "/v1.41/containers/json?all=1")
        body = conn.getresponse().read()
        conn.close()
        return len(body)

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(len(sockets)) as pool:
        list(pool.map(one, [s[len("unix://"):] for s in sockets]))
    return (time.perf_counter() - started) * 1000


def dashboard_json_ms(session: requests.Session, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    answer = session.get(f"{url}/ui/api/containers?all=1")
    answer.raise_for_status()
    return (time.perf_counter() - started) * 1000, len(answer.json()["containers"])


def sign_in_session(url: str) -> requests.Session:
    session = requests.Session()
    answer = session.post(f"{url}/ui/login", data={"user": "admin", "password": PASSWORD},
                          headers={"Origin": url}, allow_redirects=False)
    answer.raise_for_status()
    session.headers["Cookie"] = f"dockgate_session={answer.cookies['dockgate_session']}"
    return session


def page_figures(page: Page, url: str, expected: int) -> dict[str, float]:
    page.goto(f"{url}/ui/containers?all=1")
    page.wait_for_function(
        "n => performance.getEntriesByName('containers-rendered').some(m => m.detail >= n)", arg=expected,
        timeout=60_000)
    shown = page.evaluate(
        "performance.getEntriesByName('containers-rendered').find(m => m.detail > 0).startTime")
    redraw = page.evaluate("""() => {
        const search = document.getElementById("search");
        let t = performance.now();
        search.value = "index"; search.dispatchEvent(new Event("input", {bubbles: true}));
        const searched = performance.now() - t;
        t = performance.now();
        document.querySelector("th[data-sort=name]").click();
        const sorted = performance.now() - t;
        return [searched, sorted];
    }""")
    page.wait_for_timeout(50)
    frame = page.evaluate("() => new Promise(r => { const t = performance.now(); requestAnimationFrame("
                          "() => requestAnimationFrame(() => r(performance.now() - t))); })")
    return {"shown": shown, "search": redraw[0], "sort": redraw[1], "frame": frame}


def bench_list(page: Page, url: str, sockets: list[str], session: requests.Session, total: int,
               rounds: int) -> None:
    print(f"\n1. containers page, {total} containers on {len(sockets)} hosts (median of {rounds} rounds)")
    direct, via, figures = [], [], []
    for _ in range(rounds):
        direct.append(direct_listing_ms(sockets))
        ms, count = dashboard_json_ms(session, url)
        via.append(ms)
        figures.append(page_figures(page, url, count))
    d, v = statistics.median(direct), statistics.median(via)
    print(f"   listing JSON: engines direct {d:7.1f} ms | dashboard (through the gateway) {v:7.1f} ms | "
          f"ratio {v / d:5.2f}x")
    for key, label in (("shown", "navigation -> every row in the table"),
                       ("search", "search keystroke redraw"), ("sort", "sort click redraw"),
                       ("frame", "next two frames after that")):
        values = [f[key] for f in figures]
        print(f"   {label:<38} {statistics.median(values):7.1f} ms   (rounds: "
              f"{', '.join(f'{x:.0f}' for x in values)})")
    shown = statistics.median(f["shown"] for f in figures)
    print(f"   target: interactive in under 1 s -> {'PASS' if shown < 1000 else 'FAIL'} ({shown:.0f} ms)")


# -- 2. the log view --------------------------------------------------------------------------------------

# RATE/20 lines every 50 ms, and once a second as many more as the clock says are due, since each
# sleep takes longer than asked. busybox awk's systime() counts whole seconds.
LOGGER = ("awk 'BEGIN { n = 0; per = int(RATE / 20); t0 = systime(); "
          "while (1) { for (i = 0; i < per; i++) line(); "
          "due = (systime() - t0) * RATE; while (n < due) line(); fflush(); system(\"sleep 0.05\") } } "
          "function line() { n++; printf \"line %d of a busy service, request handled in 12 ms status 200 "
          "path /api/items\\n\", n }'")


def heap(cdp: CDPSession) -> tuple[float, int]:
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return metrics["JSHeapUsedSize"] / 1e6, int(metrics["Nodes"])


def bench_logs(page: Page, url: str, client: docker.DockerClient, rate: int, seconds: int) -> None:
    print(f"\n2. log view following a container printing {rate} lines/s for {seconds} s")
    container = client.containers.run("busybox", ["sh", "-c", LOGGER.replace("RATE", str(rate))],
                                      detach=True, labels={LABEL: "logs"})
    born = time.monotonic()
    try:
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.goto(f"{url}/ui/hosts/bench1/containers/{container.id}#logs")
        page.wait_for_function("() => window.dockgateLogs && window.dockgateLogs.received > 0",
                               timeout=30_000)
        started = time.monotonic()
        samples = []
        while (elapsed := time.monotonic() - started) < seconds:
            time.sleep(min(5.0, seconds - elapsed))
            got = page.evaluate("[window.dockgateLogs.received, window.dockgateLogs.drawn, "
                                "window.dockgateLogs.lines.at(-1)?.[1] ?? '']")
            mb, nodes = heap(cdp)
            samples.append((time.monotonic() - started, got[0], got[1], mb, nodes))
        printed, lifetime = int(container.logs(tail=1).decode().split()[1]), time.monotonic() - born
        container.kill()
        time.sleep(2)  # what was printed is in the page by now, if it kept up
        produced = int(container.logs(tail=1).decode().split()[1])
        last = page.evaluate("window.dockgateLogs.lines.at(-1)?.[1] ?? ''")
        last_seen = int(last.split()[1]) if last.startswith("line ") else 0
        print(f"   {'time s':>7} {'received':>10} {'drawn':>10} {'JS heap MB':>11} {'DOM nodes':>10}")
        for t, received, drawn, mb, nodes in samples:
            print(f"   {t:7.1f} {received:10d} {drawn:10d} {mb:11.1f} {nodes:10d}")
        first, final = samples[0], samples[-1]
        rate_in_page = (final[1] - first[1]) / (final[0] - first[0])
        print(f"   the engine logged {printed} lines in {lifetime:.0f} s ({printed / lifetime:.0f} lines/s); "
              f"the page received {rate_in_page:.0f} lines/s")
        print(f"   2 s after the container stopped, the page's last line was {last_seen} of {produced}: "
              f"{'PASS kept up' if last_seen == produced else f'FAIL {produced - last_seen} lines behind'}")
        growth = final[3] - min(s[3] for s in samples)
        verdict = "PASS" if growth < 20 else "FAIL"
        print(f"   JS heap {first[3]:.1f} MB after 5 s, {final[3]:.1f} MB at the end; DOM nodes {final[4]} "
              f"(bounded window of 5,000 lines): {verdict} no unbounded growth")
    finally:
        container.remove(force=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--containers", type=int, default=1000, help="across the two hosts")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--log-rate", type=int, default=5000, help="lines per second")
    parser.add_argument("--log-seconds", type=int, default=60)
    parser.add_argument("--clean", action="store_true", help="remove the listing containers at the end")
    args = parser.parse_args()

    sockets = [sh(str(RIG), "up", name) for name in ("bench1", "bench2")]
    clients = [docker.DockerClient(base_url=s, version="1.41") for s in sockets]
    print(machine())
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"load average at start: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    ensure_listing_fixtures(clients, args.containers)
    total = sum(len(c.api.containers(all=True)) for c in clients)
    with tempfile.TemporaryDirectory(prefix="dockgate-bench-dash-") as tmp:
        process, port, _ = start_gateway(Path(tmp), sockets)
        url = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1366, "height": 860})
                page.goto(f"{url}/ui/login")
                page.fill("#password-form input[name=user]", "admin")
                page.fill("#password-form input[name=password]", PASSWORD)
                page.click("#password-form button")
                page.wait_for_url("**/ui/")
                bench_list(page, url, sockets, sign_in_session(url), total, args.rounds)
                bench_logs(page, url, clients[0], args.log_rate, args.log_seconds)
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=20)
            if args.clean:
                for client in clients:
                    for c in client.api.containers(all=True, filters={"label": LABEL}):
                        client.api.remove_container(c["Id"], force=True)
    print(f"\nload average at end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")


if __name__ == "__main__":
    main()
