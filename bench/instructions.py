"""Instructions the gateway executes per listing request, counted by valgrind's callgrind: a figure
that does not move with the machine's other load, for comparing two builds of the gateway where
throughput ratios swing by 10 % from run to run.

    .venv/bin/python bench/instructions.py [--src DIR ...] [--requests 300] [--containers 50]

Each ``--src`` is a ``src`` folder holding a dockgate package (default: this checkout's); give two to
compare, e.g. a ``git worktree`` of an older commit and this one. For each, ``dockgate serve`` runs
under callgrind with counting off, is warmed up, then counts while ``--requests`` listings are sent
over 4 keep-alive connections, the audit trail's threads included. It counts instructions, not time:
cache misses, system calls and the kernel's work are not in it, so it shows what the Python code
costs, not the whole of it.

Runs on the "bench" engine of scripts/engine-rig (as bench/gateway.py does), with ``--containers``
stopped containers labelled ``dockgate.bench.instructions`` that are removed at the end. Installs
Debian's valgrind when missing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway import API, ROOT, engine_up, free_port, wait_listening

LABEL = "dockgate.bench.instructions"
CONNECTIONS = 4


def ensure_valgrind() -> None:
    if shutil.which("valgrind") is None:
        print("installing valgrind from Debian", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-qq", "valgrind"], check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def read_response(sock: socket.socket) -> None:
    """One chunked answer to the listing, read whole (the engine sends the list chunked)."""
    data = b""
    while not data.endswith(b"\r\n0\r\n\r\n"):
        more = sock.recv(65536)
        if not more:
            raise RuntimeError("the gateway closed the connection")
        data += more
    if not data.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"the gateway answered {data[:80]!r}")


def listings(port: int, token: str, count: int) -> None:
    request = (f"GET /{API}/containers/json?all=1 HTTP/1.1\r\nHost: bench\r\n"
               f"Authorization: Bearer {token}\r\n\r\n").encode()
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(CONNECTIONS)]
    try:
        for _ in range(count // CONNECTIONS):
            for sock in socks:
                sock.sendall(request)
            for sock in socks:
                read_response(sock)
    finally:
        for sock in socks:
            sock.close()


def count(src: Path, engine_port: int, requests: int, folder: Path) -> float:
    """Instructions per request for the dockgate package under ``src``."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    config = folder / "dockgate.toml"
    config.write_text(f'default_host = "bench"\n\n[hosts.bench]\nurl = "tcp://127.0.0.1:{engine_port}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "DOCKGATE_"))}
    env.update(DOCKGATE_CONFIG=str(config), DOCKGATE_STORE_URL=f"sqlite:///{folder}/dockgate.db",
               XDG_DATA_HOME=str(folder), PYTHONPATH=str(src))
    port = free_port()
    log = folder / "dockgate.log"
    out = folder / "callgrind.out"
    process = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
         str(ROOT / ".venv/bin/python"), "-m", "dockgate", "serve", "--no-unix",
         "--listen", f"127.0.0.1:{port}"],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        wait_listening(port, process, log)
        token = (folder / "dockgate" / "admin-token").read_text().strip()
        listings(port, token, 40)  # warm: imports, caches, pooled engine connections
        time.sleep(1)
        subprocess.run(["callgrind_control", "-i", "on", str(process.pid)], check=True, capture_output=True)
        listings(port, token, requests)
        time.sleep(0.5)  # the audit batch of these requests is part of their cost
        subprocess.run(["callgrind_control", "-i", "off", str(process.pid)], check=True, capture_output=True)
        subprocess.run(["callgrind_control", "-d", str(process.pid)], check=True, capture_output=True)
    finally:
        process.terminate()
        process.wait(timeout=120)
    total = 0
    for dump in folder.glob("callgrind.out*"):
        for line in dump.read_text(errors="replace").splitlines():
            if line.startswith("totals:"):
                total += int(line.split()[1])
    return total / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, action="append", help="a src folder with a dockgate package")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--engine-port", type=int, default=23775)
    args = parser.parse_args()
    ensure_valgrind()
    engine_up(args.engine_port)
    client = docker.DockerClient(base_url=f"tcp://127.0.0.1:{args.engine_port}", version=API[1:])
    try:
        for i in range(args.containers):
            client.api.create_container("busybox", ["true"], labels={LABEL: "list"}, name=f"bin-list-{i}")
        listed = len(client.api.containers(all=True))
        print(f"{listed} containers on the engine; {args.requests} listings over {CONNECTIONS} keep-alive "
              "connections per build")
        with tempfile.TemporaryDirectory(prefix="dockgate-instructions-") as tmp:
            for i, src in enumerate(args.src or [ROOT / "src"]):
                per_request = count(src.resolve(), args.engine_port, args.requests, Path(tmp) / str(i))
                print(f"{per_request / 1000:8.1f}k instructions per listing request  {src}")
    finally:
        for c in client.api.containers(all=True, filters={"label": LABEL}):
            with contextlib.suppress(docker.errors.NotFound):
                client.api.remove_container(c["Id"], force=True)


if __name__ == "__main__":
    main()
