"""``dockgate users``: who may use the gateway, and what each may do on which host.

Grants read ``ROLE@HOST[:label=value,...]``: ``operator@staging``, ``viewer@prod:team=payments``
(only containers labelled team=payments on prod), ``viewer@*`` (every host). The store and
SQLAlchemy are imported inside the commands (see :mod:`dockgate.cli.store_session`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dockgate.cli import output, session
from dockgate.cli.store_session import with_store
from dockgate.engines.errors import BadParameter

if TYPE_CHECKING:
    from dockgate.access.identity import Grant
    from dockgate.store.database import Store
    from dockgate.store.users import UserRow

users_app = typer.Typer(help="Manage the users of the gateway and their grants.", no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(help="User name.", show_default=False)]
GrantArg = Annotated[str, typer.Argument(metavar="ROLE@HOST[:label=value,...]", show_default=False,
                                         help="e.g. operator@staging or viewer@prod:team=payments")]


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


@users_app.command("add")
def add(
    name: NameArg,
    grants: Annotated[list[str] | None, typer.Option(
        "--grant", metavar="ROLE@HOST[:label=value,...]",
        help="A role on a host (* for all), optionally only for containers with these labels. "
             "Repeatable.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Full rights on every host, and may manage "
                                                         "users, tokens and the audit trail.")] = False,
) -> None:
    """Add a user. Give them a token with: dockgate tokens create --user NAME."""
    from dockgate.access.identity import ADMIN_ROLE, ALL_HOSTS, Grant, parse_grant, validate_user_name
    from dockgate.store import users as user_store

    validate_user_name(name)
    parsed = [_known_role(parse_grant(g)) for g in grants or ()]
    if admin:
        parsed.append(Grant(ALL_HOSTS, ADMIN_ROLE))

    async def work(store: Store) -> UserRow:
        return await user_store.add_user(store, name, is_admin=admin, grants=parsed)

    user = with_store(work)
    output.console.print(f"added user {user.name}" + (f" ({_grants_text(user)})" if user.grants else ""))
    output.err_console.print(f"  give them a token: dockgate tokens create --user {user.name}")


@users_app.command("ls")
def list_users(fmt: output.FormatOpt = output.Format.table) -> None:
    """List users, their state and their grants."""
    from dockgate.store import users as user_store

    rows = with_store(user_store.list_users)
    if fmt is output.Format.json:
        output.print_json([_user_json(u) for u in rows])
        return
    output.print_table(("NAME", "ADMIN", "STATE", "GRANTS", "CREATED"),
                       ((u.name, "yes" if u.is_admin else "", "disabled" if u.disabled else "enabled",
                         _grants_text(u), output.ago(u.created_at.timestamp())) for u in rows))


@users_app.command("rm")
def remove(names: Annotated[list[str], typer.Argument(help="Users to remove.", show_default=False)]) -> None:
    """Remove users with their grants and tokens (their audit records stay)."""
    from dockgate.store import users as user_store

    async def work(store: Store) -> None:
        await user_store.remove_users(store, names)

    with_store(work)
    output.console.print(f"removed {', '.join(names)}")


@users_app.command("disable")
def disable(name: NameArg) -> None:
    """Refuse every request of a user, and end their open streams, without removing them."""
    _set_disabled(name, True)


@users_app.command("enable")
def enable(name: NameArg) -> None:
    """Let a disabled user in again."""
    _set_disabled(name, False)


@users_app.command("passwd")
def passwd(
    name: NameArg,
    stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input "
                                                                 "(one line) instead of asking.")] = False,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the password: the user signs in to the "
                                                        "dashboard with a token only.")] = False,
) -> None:
    """Set the password a user signs in to the dashboard with (tokens work there too)."""
    from dockgate.access import passwords
    from dockgate.store import passwords as password_store

    if clear:
        had = with_store(lambda store: password_store.clear_password(store, name))
        output.console.print(f"removed the password of {name}" if had else f"{name} had no password")
        return
    if stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt(f"new password for {name}", hide_input=True, confirmation_prompt=True)
    digest = passwords.hash_password(passwords.validate(password, name))

    async def work(store: Store) -> None:
        await password_store.set_password(store, name, digest)

    with_store(work)
    output.console.print(f"set the password of {name}")


def _known_role(grant: Grant) -> Grant:
    """A grant must name a built-in role or one of the configuration's ``[roles]``."""
    roles = session.load_config().resolved_roles()
    if grant.role not in roles:
        raise BadParameter("grant", f"unknown role {grant.role!r} (roles: {', '.join(sorted(roles))})")
    return grant


@users_app.command("grant")
def grant(name: NameArg, spec: GrantArg) -> None:
    """Give a user a role on a host (replacing the role they had on that host and label scope)."""
    from dockgate.access.identity import parse_grant
    from dockgate.store import users as user_store

    parsed = _known_role(parse_grant(spec))

    async def work(store: Store) -> UserRow:
        return await user_store.set_grant(store, name, parsed)

    user = with_store(work)
    output.console.print(f"{user.name}: {_grants_text(user)}")


@users_app.command("revoke-grant")
def revoke_grant(name: NameArg, spec: GrantArg) -> None:
    """Take a grant back from a user."""
    from dockgate.access.identity import parse_grant
    from dockgate.store import users as user_store

    parsed = parse_grant(spec)

    async def work(store: Store) -> UserRow:
        return await user_store.remove_grant(store, name, parsed)

    user = with_store(work)
    output.console.print(f"{user.name}: {_grants_text(user) or 'no grants'}")


def _set_disabled(name: str, disabled: bool) -> None:
    from dockgate.store import users as user_store

    async def work(store: Store) -> UserRow:
        return await user_store.set_disabled(store, name, disabled)

    user = with_store(work)
    output.console.print(f"{'disabled' if user.disabled else 'enabled'} user {user.name}")


def _grants_text(user: UserRow) -> str:
    return ", ".join(str(g) for g in user.grants)


def _user_json(user: UserRow) -> dict[str, Any]:
    return {"name": user.name, "admin": user.is_admin, "disabled": user.disabled,
            "created": user.created_at.isoformat(),
            "grants": [{"role": g.role, "host": g.host, "scope": dict(g.scope)} for g in user.grants]}
