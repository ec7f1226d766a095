"""``dockgate images``: the images of one host or many, like ``docker images``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import typer

from dockgate.cli import listing, output, session
from dockgate.engines.client import EngineClient
from dockgate.engines.filters import IMAGE_FILTERS, filters_from_args

NONE = "<none>"


def register(app: typer.Typer) -> None:
    app.command("images")(images)


def images(
    all: Annotated[bool, typer.Option("--all", "-a", help="Show intermediate images too.")] = False,
    filter: Annotated[list[str] | None, typer.Option("--filter", "-f", metavar="KEY=VALUE", help="Filter "
        "(reference, label, dangling, before, since); repeatable.")] = None,
    fmt: output.FormatOpt = output.Format.table,
    host: session.HostOpt = None,
    all_hosts: session.AllHostsOpt = False,
) -> None:
    """List images: one row per tag. Across several hosts, one table with a HOST column."""
    filters = filters_from_args(filter or [], IMAGE_FILTERS)

    async def listing_of(engine: EngineClient) -> list[dict[str, Any]]:
        return await engine.images(all=all, filters=filters)

    results = session.run(session.on_hosts(host, all_hosts, listing_of))
    listing.show(results, key="images", fmt=fmt,
                 columns=["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], rows=_rows)


def _rows(image: dict[str, Any]) -> Iterator[list[str]]:
    """Like docker: a row per repository tag; untagged images show their digest's repository."""
    common = [output.short_id(image.get("Id", "")), output.ago(image.get("Created")),
              output.human_size(image.get("Size"))]
    tags = [t for t in image.get("RepoTags") or [] if t != "<none>:<none>"]
    if tags:
        for tag in tags:
            repo, _, name = tag.rpartition(":")
            yield [repo, name, *common]
        return
    digests = [d for d in image.get("RepoDigests") or [] if d != "<none>@<none>"]
    repos = list(dict.fromkeys(d.partition("@")[0] for d in digests)) or [NONE]
    for repo in repos:
        yield [repo, NONE, *common]
