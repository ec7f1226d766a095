"""``dockgate tokens``: API tokens for the gateway, shown once at creation and stored hashed.

``tokens create`` prints the token alone on stdout (so ``TOKEN=$(dockgate tokens create ...)``
works) and how to use it on stderr. Listings never show tokens or their digests. The store and
SQLAlchemy are imported inside the commands (see :mod:`dockgate.cli.store_session`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dockgate.access import tokens
from dockgate.cli import output, session
from dockgate.cli.store_session import with_store
from dockgate.engines.errors import BadParameter

if TYPE_CHECKING:
    from dockgate.store.database import Store
    from dockgate.store.tokens import TokenRow

tokens_app = typer.Typer(help="Manage API tokens for the gateway.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(tokens_app, name="tokens")


@tokens_app.command("create")
def create(
    user: Annotated[str, typer.Option("--user", "-u", help="Owner of the token.", show_default=False)],
    name: Annotated[str, typer.Option("--name", help="A label to recognise it by, e.g. laptop or ci.")] = "",
    expires: Annotated[str | None, typer.Option(
        "--expires", metavar="DURATION", help="Lifetime: 90m, 12h, 30d, 2w. Default: no expiry.")] = None,
    fmt: output.FormatOpt = output.Format.table,
) -> None:
    """Create a token for a user and print it: this is the only time it is shown."""
    from dockgate.access.identity import issue_token

    lifetime = tokens.parse_lifetime(expires) if expires is not None else None

    async def work(store: Store) -> tuple[str, TokenRow]:
        return await issue_token(store, user, name=name, lifetime=lifetime)

    token, row = with_store(work)
    if fmt is output.Format.json:
        output.print_json({**_token_json(row), "token": token})
        return
    print(token, flush=True)
    until = f"until {_when(row.expires_at)}" if row.expires_at else "with no expiry"
    listen = session.load_config().gateway.listen or "127.0.0.1:6732"
    output.err_console.print(
        f"token {row.token_id} for {row.user}, valid {until}. It is not shown again.\n"
        f"Use it with the docker CLI or docker-py:\n"
        f"  dockgate login --gateway tcp://{listen} --token <the token above>\n"
        f"or put it in $DOCKER_CONFIG/config.json yourself: "
        '{"HttpHeaders": {"Authorization": "Bearer <the token>"}}')


@tokens_app.command("ls")
def list_tokens(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user's tokens.")] = None,
    fmt: output.FormatOpt = output.Format.table,
) -> None:
    """List tokens: id, owner, label, creation, expiry and state (never the tokens themselves)."""
    from dockgate.store import tokens as token_store

    async def work(store: Store) -> list[TokenRow]:
        return await token_store.list_tokens(store, user)

    rows = with_store(work)
    if fmt is output.Format.json:
        output.print_json([_token_json(r) for r in rows])
        return
    output.print_table(("ID", "USER", "NAME", "CREATED", "EXPIRES", "STATE"),
                       ((r.token_id, r.user, r.name, _when(r.created_at), _when(r.expires_at) or "never",
                         _state(r)) for r in rows))


@tokens_app.command("revoke")
def revoke(
    ids: Annotated[list[str], typer.Argument(metavar="ID...", show_default=False,
                                             help="Token ids (as in tokens ls), or whole tokens.")],
) -> None:
    """Revoke tokens: a running gateway refuses them, and ends their streams, within seconds."""
    from dockgate.store import tokens as token_store

    wanted = [_token_id(ref) for ref in ids]

    async def work(store: Store) -> list[TokenRow]:
        return await token_store.revoke_tokens(store, wanted)

    for row in with_store(work):
        output.console.print(f"revoked token {row.token_id} of {row.user}")


def _token_id(ref: str) -> str:
    """A token id, or the id inside a whole token (so a leaked token can be pasted as it is)."""
    if ref.startswith(f"{tokens.PREFIX}_"):
        try:
            return tokens.token_id_of(ref)
        except tokens.TokenFormatError as exc:
            raise BadParameter("token", str(exc)) from None
    return ref


def _state(row: TokenRow) -> str:
    return tokens.state(row.expires_at, row.revoked_at, datetime.now(UTC)).value


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else ""


def _token_json(row: TokenRow) -> dict[str, Any]:
    return {"id": row.token_id, "user": row.user, "name": row.name, "created": row.created_at.isoformat(),
            "expires": row.expires_at.isoformat() if row.expires_at else None,
            "revoked": row.revoked_at.isoformat() if row.revoked_at else None, "state": _state(row)}
