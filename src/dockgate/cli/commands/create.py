"""``dockgate create``: a container from docker-style flags, from a JSON create body, or both.

The JSON body is the seed's ``POST /containers/create`` body as is; flags given with it override or
extend it. Everything is checked before the request is sent (see engines/container_spec.py), so a typo never
leaves a half-made container behind.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from dockgate.cli import output, session
from dockgate.cli.create_body import parse_config
from dockgate.engines.client import EngineClient
from dockgate.engines.container_query import BadParameter
from dockgate.engines.container_spec import CreateFlags, build_body

# One host: a container is created once, where it is asked for.
HostOneOpt = Annotated[str | None, typer.Option(
    "--host", "-H", help="Engine to create the container on, by name. Default: the default host.",
    envvar="DOCKGATE_HOST")]


def register(app: typer.Typer) -> None:
    # Like docker: options stop at IMAGE, so that the command's own options ("ls -l") stay its own.
    app.command("create", context_settings={"allow_interspersed_args": False})(create)


def create(
    image: Annotated[str | None, typer.Argument(
        help="Image to create the container from (optional with --config).", show_default=False)] = None,
    command: Annotated[list[str] | None, typer.Argument(
        help="Command and arguments to run instead of the image's.", show_default=False)] = None,
    config: Annotated[str | None, typer.Option(
        "--config", help="JSON create body (as POST /containers/create takes), or - for stdin; "
        "other flags override or extend it.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Container name.")] = None,
    env: Annotated[list[str] | None, typer.Option(
        "--env", "-e", help="KEY=VALUE, or KEY to pass the local value on (repeatable).")] = None,
    env_file: Annotated[list[Path] | None, typer.Option(
        "--env-file", help="File of KEY=VALUE lines (repeatable).")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", "-l", help="key=value (repeatable).")] = None,
    publish: Annotated[list[str] | None, typer.Option(
        "--publish", "-p", help="[ip:][host_port:]container_port[/proto] (repeatable).")] = None,
    volume: Annotated[list[str] | None, typer.Option(
        "--volume", "-v", help="host_path|volume:container_path[:ro], or container_path for an "
        "anonymous volume (repeatable).")] = None,
    restart: Annotated[str | None, typer.Option(
        "--restart", help="no, always, unless-stopped or on-failure[:N].")] = None,
    memory: Annotated[str | None, typer.Option("--memory", "-m", help="Memory limit, e.g. 256m, 1g.")] = None,
    cpus: Annotated[str | None, typer.Option("--cpus", help="Number of CPUs, e.g. 1.5.")] = None,
    entrypoint: Annotated[str | None, typer.Option(
        "--entrypoint", help="Override the image's entrypoint ('' clears it).")] = None,
    workdir: Annotated[str | None, typer.Option("--workdir", "-w", help="Working directory.")] = None,
    user: Annotated[str | None, typer.Option("--user", "-u", help="user[:group], names or ids.")] = None,
    hostname: Annotated[str | None, typer.Option("--hostname", help="Container host name.")] = None,
    tty: Annotated[bool, typer.Option("--tty", "-t", help="Allocate a pseudo-TTY.")] = False,
    interactive: Annotated[bool, typer.Option(
        "--interactive", "-i", help="Keep STDIN open even if not attached.")] = False,
    host: HostOneOpt = None,
) -> None:
    """Create a container (not started); print its id and the engine's warnings."""
    base = _read_config(config) if config is not None else None
    flags = CreateFlags(
        image=image, command=command or [], name=name, env=env or [],
        env_files=[(str(path), _read(path, "--env-file")) for path in env_file or []],
        labels=label or [], publish=publish or [], volumes=volume or [], restart=restart, memory=memory,
        cpus=cpus, entrypoint=entrypoint, workdir=workdir, user=user, hostname=hostname, tty=tty,
        interactive=interactive)
    body = build_body(flags, base, os.environ)
    endpoint = session.endpoints([host] if host else None)[0]

    async def work(engine: EngineClient) -> dict[str, Any]:
        return await engine.create_container(body, name=name)

    created = session.run(session.with_engine(endpoint, work))
    print(created["Id"], flush=True)
    for warning in created.get("Warnings") or []:
        output.warn(warning)


def _read_config(source: str) -> dict[str, Any]:
    if source == "-":
        return parse_config(sys.stdin.read(), "stdin")
    return parse_config(_read(Path(source), "--config"), source)


def _read(path: Path, param: str) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a UTF-8 text file"
        raise BadParameter(param, f"cannot read {path}: {reason}") from None
