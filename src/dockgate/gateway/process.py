"""The gateway as a process: its store opened, the first admin made, access set up, listeners
started, and a clean stop on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import uvloop

from dockgate.access.audit import DEFAULT_SECRET_PATTERNS, AuditLog
from dockgate.access.identity import Authenticator, ensure_admin
from dockgate.access.policy_table import PolicyTable
from dockgate.config.file import ConfigFile
from dockgate.config.hosts import HostBook
from dockgate.gateway.server import AccessSetup, Gateway, ListenSpec
from dockgate.store.database import Store, open_store


class Companion(Protocol):
    """Something served by the gateway's process beside the API (the dashboard): started before
    the listeners open, so their first request already finds it, with a private folder for its
    sockets; closed before the gateway."""

    async def start(self, gateway: Gateway, store: Store, private: Path) -> None: ...

    def describe(self, gateway: Gateway) -> str:
        """Where to find it, once the gateway listens."""
        ...

    async def close(self) -> None: ...


def _private_folder() -> Path:
    """A new folder for sockets only this process may use (mkdtemp makes it 0700): in the user's
    runtime folder when there is one, else the system's temporary folder."""
    runtime = os.environ.get("XDG_RUNTIME_DIR") or ""
    base = runtime if runtime and Path(runtime).is_absolute() and Path(runtime).is_dir() else None
    return Path(tempfile.mkdtemp(prefix="dockgate-", dir=base)).absolute()


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_gateway(config: ConfigFile, store_url: str, book: HostBook, spec: ListenSpec,
                companions: Sequence[Companion] = ()) -> None:
    """Serve until a signal; raises ListenerError or StoreUnavailable when it cannot start."""
    # uvloop: the event loop and socket transports in C, a tenth of the gateway's CPU per request.
    uvloop.run(_run(config, store_url, book, spec, companions))


def _hand_over(token: str) -> None:
    """Give the first admin token to the person starting the gateway: on their terminal, or, when
    output goes to a log (a service), in a file only root can read, since secrets never go to logs."""
    if sys.stderr.isatty():
        _say(
            "first run: created user 'admin' with this token (shown once, stored hashed):\n"
            f"  {token}\n  use it with: dockgate login --token {token}")
        return
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    path = data / "dockgate" / "admin-token"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        out.write(token + "\n")
    _say(f"first run: created user 'admin'; its token is in {path} (mode 0600): "
                             "use it with `dockgate login --token -` and delete the file")


async def _run(config: ConfigFile, store_url: str, book: HostBook, spec: ListenSpec,
               companions: Sequence[Companion]) -> None:
    store = await open_store(store_url)
    private = _private_folder()
    try:
        await _serve(config, store, book, spec, companions, private)
    finally:
        await store.close()
        shutil.rmtree(private, ignore_errors=True)


async def _serve(config: ConfigFile, store: Store, book: HostBook, spec: ListenSpec,
                 companions: Sequence[Companion], private: Path) -> None:
    first_token = await ensure_admin(store)
    if first_token:
        _hand_over(first_token)
    access = AccessSetup(
        Authenticator(store, config.access.cert_users), config.resolved_roles(), PolicyTable(config.policy),
        AuditLog(store), body_limit=config.access.body_limit,
        secret_patterns=config.audit.secret_patterns or DEFAULT_SECRET_PATTERNS)
    gateway = Gateway(book, spec, access, shutdown_grace=config.gateway.shutdown_grace)
    started: list[Companion] = []
    try:
        for companion in companions:
            started.append(companion)
            await companion.start(gateway, store, private)
        urls = await gateway.start()
        hosts = ", ".join(f"{n}{' (default)' if n == gateway.default_host else ''}" for n in gateway.wires)
        _say(f"dockgate gateway serving {', '.join(urls)} for hosts: {hosts}")
        for companion in started:
            _say(companion.describe(gateway))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        _say("shutting down: no new connections, letting open requests finish")
    finally:
        for companion in reversed(started):
            await companion.close()
        await gateway.close()
