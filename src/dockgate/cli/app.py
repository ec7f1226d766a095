"""The ``dockgate`` command: global options, command registration, and the one error boundary.

Every failure a person can cause or meet (bad flags, unknown host, engine down, TLS mismatch, missing
image, name conflict) ends here as a one-line message and an exit code, never a traceback:
2 for usage and bad parameters, 1 for everything the engine or the network refused.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dockgate import __version__
from dockgate.cli import output
from dockgate.cli.commands import register
from dockgate.cli.session import State
from dockgate.config.file import ConfigError
from dockgate.engines.container_query import BadParameter
from dockgate.engines.endpoint import EndpointError
from dockgate.engines.errors import EngineError, ImageNotFound

app = typer.Typer(
    name="dockgate",
    help="Manage Docker engines over their REST API: one host or many.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"dockgate {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    config_file: Annotated[Path | None, typer.Option(
        "--config-file", envvar="DOCKGATE_CONFIG", help="Configuration file "
        "(default: ~/.config/dockgate/config.toml).")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    State.config_path = config_file


register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app and turn known failures into messages and exit codes."""
    try:
        app(args=argv)
    except (BadParameter, ConfigError, EndpointError) as exc:
        output.error(str(exc))
        sys.exit(2)
    except ImageNotFound as exc:
        output.error(str(exc))
        if exc.image:
            output.err_console.print(f"  pull it first: dockgate pull {exc.image}"
                                     + (f" --host {exc.host}" if exc.host else ""))
        sys.exit(1)
    except EngineError as exc:
        output.error(str(exc))
        sys.exit(1)
