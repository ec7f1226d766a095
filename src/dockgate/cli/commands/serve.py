"""``dockgate serve``: the Docker Engine API on a unix socket and TCP/TLS, in front of every host."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from dockgate.cli import output, session


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
    no_dashboard: Annotated[bool, typer.Option(
        "--no-dashboard", help="Serve the Engine API only, no browser dashboard at /.")] = False,
) -> None:
    """Serve the Engine API: `DOCKER_HOST=tcp://127.0.0.1:6732 docker ps` then works, and
    `tcp://127.0.0.1:6732/hosts/NAME` addresses host NAME."""
    # The gateway, the access layer and SQLAlchemy load only here, not with every dockgate command.
    from dockgate.access.tokens import parse_lifetime
    from dockgate.dashboard.companion import Dashboard
    from dockgate.gateway.process import run_gateway
    from dockgate.gateway.server import ListenerError, ListenSpec, TLSServerFiles
    from dockgate.store.errors import StoreUnavailable
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
    config = session.load_config()
    try:
        run_gateway(config, config.store.resolved_url(os.environ), session.host_book(), spec,
                    () if no_dashboard or not config.dashboard.enabled else (Dashboard(
                        session_lifetime=parse_lifetime(config.dashboard.session_lifetime)),))
    except ListenerError as exc:
        output.error(str(exc))
        raise typer.Exit(2) from None
    except StoreUnavailable as exc:
        output.error(str(exc))
        raise typer.Exit(1) from None
