"""``dockgate login``: set up the docker CLI and docker-py to call the gateway with a token.

Both send the headers in ``HttpHeaders`` of ``$DOCKER_CONFIG/config.json`` with every request, so
writing ``"Authorization": "Bearer <token>"`` there is all a stock client needs. The file is merged
(registry logins and other settings stay) and written owner-only, like the docker CLI writes it.
Those headers go to every engine that docker config talks to: ``--docker-config DIR`` keeps the
token in a folder of its own, used with ``DOCKER_CONFIG=DIR``.

The shell lines to use the gateway go to stdout, so ``eval "$(dockgate login ...)"`` sets them.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from dockgate.access import tokens
from dockgate.cli import output, session
from dockgate.config.file import ConfigError
from dockgate.engines.errors import BadParameter


def register(app: typer.Typer) -> None:
    app.command("login")(login)


def login(
    token: Annotated[str, typer.Option(
        help="The token from dockgate tokens create; - reads it from stdin (keeps it out of ps).",
        show_default=False)],
    gateway: Annotated[str | None, typer.Option(
        metavar="URL", help="The gateway: tcp://host:6732 or unix:///path. "
                            "Default: the [gateway] listen address of the configuration.")] = None,
    docker_config: Annotated[Path | None, typer.Option(
        "--docker-config", metavar="DIR",
        help="Docker config folder to write (default: $DOCKER_CONFIG, else ~/.docker).")] = None,
) -> None:
    """Store a token where the docker CLI and docker-py send it, and print how to reach the gateway."""
    value = (sys.stdin.readline() if token == "-" else token).strip()
    try:
        tokens.token_id_of(value)
    except tokens.TokenFormatError as exc:
        raise BadParameter("token", str(exc)) from None
    url = gateway or _configured_gateway()
    parts = urlsplit(url)
    if not ((parts.scheme == "tcp" and parts.hostname) or (parts.scheme == "unix" and parts.path)):
        raise BadParameter("gateway", f"{url!r}: use tcp://host:6732 or unix:///path/to/docker.sock")
    folder = docker_config or Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    path = folder / "config.json"
    _write(path, _with_header(path, _read(path), f"Bearer {value}"))
    output.err_console.print(f"wrote the token to {path} (HttpHeaders.Authorization)")
    if docker_config is not None and os.environ.get("DOCKER_CONFIG") != str(docker_config):
        print(f"export DOCKER_CONFIG={docker_config}")
    print(f"export DOCKER_HOST={url}", flush=True)


def _configured_gateway() -> str:
    listen = session.load_config().gateway.listen
    return f"tcp://{listen}" if listen else "tcp://127.0.0.1:6732"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc}); fix or move it, then log in again") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object; fix or move it, then log in again")
    return data


def _with_header(path: Path, config: dict[str, Any], authorization: str) -> dict[str, Any]:
    headers = config.get("HttpHeaders") or {}
    if not isinstance(headers, dict):
        raise ConfigError(f"HttpHeaders in {path} must be an object of header names to values")
    # Header names are case-insensitive: drop any other spelling of Authorization.
    headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    return {**config, "HttpHeaders": {**headers, "Authorization": authorization}}


def _write(path: Path, config: dict[str, Any]) -> None:
    """Atomically, owner-only: the file now holds a secret."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # a stale temporary file keeps its old mode through O_TRUNC
        with os.fdopen(fd, "w") as out:
            json.dump(config, out, indent="\t")
            out.write("\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from exc
