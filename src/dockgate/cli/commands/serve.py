"""``dockgate serve``: the Docker Engine API on a unix socket and TCP/TLS, in front of every host."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from dockgate.cli import output, session
from dockgate.gateway.server import Gateway, ListenerError, ListenSpec, TLSServerFiles


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    listen: Annotated[str | None, typer.Option(help="TCP HOST:PORT (default 127.0.0.1:6732).")] = None,
    no_tcp: Annotated[bool, typer.Option("--no-tcp", help="Do not listen on TCP.")] = False,
    unix_socket: Annotated[Path | None, typer.Option(
        help="Unix socket path (default /run/dockgate/docker.sock).")] = None,
    no_unix: Annotated[bool, typer.Option("--no-unix", help="Do not listen on a unix socket.")] = False,
    tls_cert: Annotated[Path | None, typer.Option(help="Server certificate: serve TLS on TCP.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="Server key.")] = None,
    tls_client_ca: Annotated[Path | None, typer.Option(
        help="Require client certificates signed by this CA.")] = None,
    insecure_plaintext: Annotated[bool, typer.Option(
        "--insecure-plaintext", help="Allow plain TCP on a non-loopback address (dangerous).")] = False,
) -> None:
    """Serve the Engine API: `DOCKER_HOST=tcp://127.0.0.1:6732 docker ps` then works, and
    `tcp://127.0.0.1:6732/hosts/NAME` addresses host NAME."""
    settings = session.load_config().gateway
    cert = tls_cert or settings.tls_cert
    key = tls_key or settings.tls_key
    if (cert is None) != (key is None):
        raise typer.BadParameter("--tls-cert and --tls-key go together")
    client_ca = tls_client_ca or settings.tls_client_ca
    spec = ListenSpec(
        unix=None if no_unix else (unix_socket or settings.unix_socket),
        tcp=None if no_tcp else (listen or settings.listen),
        tls=TLSServerFiles(cert, key, client_ca) if cert and key else None,
        allow_plaintext=insecure_plaintext or settings.insecure_plaintext,
    )
    if spec.unix is None and spec.tcp is None:
        raise typer.BadParameter("nothing to listen on: drop --no-tcp or --no-unix")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    gateway = Gateway(session.host_book(), spec, shutdown_grace=settings.shutdown_grace)
    try:
        asyncio.run(_run(gateway))
    except ListenerError as exc:
        output.error(str(exc))
        raise typer.Exit(2) from None


async def _run(gateway: Gateway) -> None:
    urls = await gateway.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    hosts = ", ".join(f"{n}{' (default)' if n == gateway.default_host else ''}" for n in gateway.wires)
    output.err_console.print(f"dockgate gateway serving {', '.join(urls)} for hosts: {hosts}")
    await stop.wait()
    output.err_console.print("shutting down: no new connections, letting open requests finish")
    await gateway.close()
