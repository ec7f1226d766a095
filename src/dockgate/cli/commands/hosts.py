"""``dockgate hosts``: name engines once, then address them by name everywhere."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from dockgate.cli import output, session
from dockgate.config import file as config_file
from dockgate.config.file import ConfigError, HostEntry
from dockgate.engines.client import EngineClient
from dockgate.engines.endpoint import Endpoint, validate_url
from dockgate.engines.fleet import on_each

hosts_app = typer.Typer(help="Manage the engines dockgate knows by name.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(hosts_app, name="hosts")


@hosts_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A short name, e.g. prod.")],
    url: Annotated[str, typer.Argument(help="unix:///path, tcp://host:port or ssh://user@host")],
    tls_ca: Annotated[Path | None, typer.Option(help="CA certificate to verify the engine.")] = None,
    tls_cert: Annotated[Path | None, typer.Option(help="Client certificate.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="Client key.")] = None,
    cert_path: Annotated[Path | None, typer.Option(
        help="Folder with ca.pem, cert.pem and key.pem (like DOCKER_CERT_PATH).")] = None,
    tls_verify: Annotated[bool, typer.Option(help="Verify the engine's certificate.")] = True,
    default: Annotated[bool, typer.Option("--default", help="Make it the default host.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace a host of the same name.")] = False,
) -> None:
    """Add an engine under NAME and check that it answers."""
    if cert_path is not None:
        tls_ca, tls_cert, tls_key = (tls_ca or cert_path / "ca.pem", tls_cert or cert_path / "cert.pem",
                                     tls_key or cert_path / "key.pem")
    validate_url(url)  # before HostEntry, whose own check would surface as a pydantic error
    resolved = [p.resolve() if p else None for p in (tls_ca, tls_cert, tls_key)]
    entry = HostEntry(url=url, tls_ca=resolved[0], tls_cert=resolved[1], tls_key=resolved[2],
                      tls_verify=tls_verify)
    endpoint = entry.endpoint(name)  # validates name, address and TLS combination
    path = session.config_path()
    config = config_file.load(path)
    if name in config.hosts and not force:
        raise ConfigError(f"host {name!r} already exists ({config.hosts[name].url}); "
                          "use --force to replace it")
    config.hosts[name] = entry
    if default:
        config.default_host = name
    config_file.save(path, config)
    output.console.print(f"added host {name} ({endpoint.display()}) to {path}")
    report = session.run(_probe(endpoint))
    if report["state"] != "up":
        output.warn(f"{name} does not answer yet: {report['error']}")
    else:
        output.console.print(f"{name}: engine {report['version']}, API {report['api']}")


@hosts_app.command("rm")
def remove(names: Annotated[list[str], typer.Argument(help="Hosts to forget.")]) -> None:
    """Forget hosts (their engines are not touched)."""
    path = session.config_path()
    config = config_file.load(path)
    for name in names:
        if name not in config.hosts:
            raise ConfigError(f"no configured host named {name!r}")
        del config.hosts[name]
        if config.default_host == name:
            config.default_host = None
    config_file.save(path, config)
    output.console.print(f"removed {', '.join(names)}")


@hosts_app.command("use")
def use(name: Annotated[str, typer.Argument(help="Host to use when none is named.")]) -> None:
    """Set the default host."""
    book = session.host_book()
    book.select([name])
    path = session.config_path()
    config = config_file.load(path)
    config.default_host = name
    config_file.save(path, config)
    output.console.print(f"default host is now {name}")


@hosts_app.command("ls")
def list_hosts(
    fmt: output.FormatOpt = output.Format.table,
) -> None:
    """List hosts with reachability, engine and API versions and container counts."""
    book = session.host_book()
    reports = session.run(_probe_all(list(book.endpoints.values())))
    for report in reports:
        report["default"] = report["name"] == book.default
        report["configured"] = report["name"] != book.implicit
    if fmt is output.Format.json:
        output.print_json(reports)
        return
    rows = []
    for r in reports:
        counts = (f"{r['running']} running, {r['paused']} paused, {r['stopped']} stopped"
                  if r["state"] == "up" else "")
        name = r["name"] + (" *" if r["default"] else "")
        state = r["state"] if r["state"] == "up" else f"down: {r['error']}"
        rows.append((name, r["url"], state, r.get("version", ""), r.get("api", ""), counts))
    output.print_table(("NAME", "URL", "STATE", "ENGINE", "API", "CONTAINERS"), rows)


@hosts_app.command("test")
def test(
    names: Annotated[list[str] | None, typer.Argument(help="Hosts to test (default: all).")] = None,
) -> None:
    """Connect to hosts and report round-trip time; exit 1 if any is down."""
    book = session.host_book()
    chosen = book.select(names or (), all_hosts=not names)
    reports = session.run(_probe_all(chosen))
    for r in reports:
        if r["state"] == "up":
            output.console.print(f"{r['name']}: ok, engine {r['version']} (API {r['api']}), "
                                 f"{r['latency_ms']:.1f} ms")
        else:
            output.error(f"{r['name']}: {r['error']}")
    if any(r["state"] != "up" for r in reports):
        raise typer.Exit(1)


async def _probe_all(endpoints: list[Endpoint]) -> list[dict[str, Any]]:
    async def summary(engine: EngineClient) -> dict[str, Any]:
        return await _summary(engine)

    results = await on_each(endpoints, summary)
    return [
        {"name": r.endpoint.name, "url": r.endpoint.display(), "state": "up", **(r.value or {})}
        if r.ok else
        {"name": r.endpoint.name, "url": r.endpoint.display(), "state": "down",
         "error": r.error.message if r.error else ""}
        for r in results
    ]


async def _probe(endpoint: Endpoint) -> dict[str, Any]:
    return (await _probe_all([endpoint]))[0]


async def _summary(engine: EngineClient) -> dict[str, Any]:
    start = time.perf_counter()
    await engine.ping()
    latency = (time.perf_counter() - start) * 1000
    version = await engine.version()
    info = await engine.info()
    return {
        "version": version.get("Version", ""), "api": version.get("ApiVersion", ""),
        "running": info.get("ContainersRunning", 0), "paused": info.get("ContainersPaused", 0),
        "stopped": info.get("ContainersStopped", 0), "images": info.get("Images", 0),
        "latency_ms": latency,
    }
