"""Users and their grants."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dockgate.store import models
from dockgate.store.database import Store
from dockgate.store.errors import LastAdmin, UnknownGrant, UnknownUser, UserExists


@dataclass(frozen=True)
class Grant:
    """``role`` on ``host`` (``*``: every host), for containers whose labels match ``scope`` (empty:
    the whole host). Written ``ROLE@HOST[:label=value,...]``, as the CLI takes it."""

    host: str
    role: str
    scope: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        scope = ",".join(f"{k}={v}" for k, v in sorted(self.scope.items()))
        return f"{self.role}@{self.host}" + (f":{scope}" if scope else "")


@dataclass(frozen=True)
class UserRow:
    name: str
    is_admin: bool
    disabled: bool
    created_at: datetime
    grants: tuple[Grant, ...] = ()


def user_row(user: models.User) -> UserRow:
    """The frozen record of a user loaded with its grants."""
    return UserRow(user.name, user.is_admin, user.disabled, user.created_at,
                   tuple(_grant_from(g) for g in user.grants))


async def add_user(store: Store, name: str, *, is_admin: bool = False,
                   grants: Iterable[Grant] = ()) -> UserRow:
    """Create ``name`` with ``grants``; :class:`UserExists` if taken."""
    user = models.User(name=name, is_admin=is_admin, disabled=False, created_at=datetime.now(UTC),
                       grants=[_grant_model(g) for g in _unique(grants)])
    async with store.session() as session:
        session.add(user)
        try:
            await session.commit()
        except IntegrityError:
            raise UserExists(name) from None
        return user_row(user)


async def get_user(store: Store, name: str) -> UserRow | None:
    async with store.session() as session:
        user = await _load(session, name)
        return None if user is None else user_row(user)


async def list_users(store: Store) -> list[UserRow]:
    async with store.session() as session:
        result = await session.scalars(
            select(models.User).options(selectinload(models.User.grants)).order_by(models.User.name))
        return [user_row(user) for user in result]


async def count_users(store: Store) -> int:
    async with store.session() as session:
        return int(await session.scalar(select(func.count()).select_from(models.User)) or 0)


async def remove_users(store: Store, names: Iterable[str]) -> None:
    """Delete users with their grants and tokens, all or none (audit records keep the names)."""
    async with store.session() as session:
        users = [await _load_or_raise(session, name) for name in dict.fromkeys(names)]
        for user in users:
            await _keep_an_admin(session, user, "remove", also_leaving=users)
        await session.execute(delete(models.User).where(models.User.id.in_([u.id for u in users])))
        await session.commit()


async def set_disabled(store: Store, name: str, disabled: bool) -> UserRow:
    async with store.session() as session:
        user = await _load_or_raise(session, name)
        if disabled:
            await _keep_an_admin(session, user, "disable")
        user.disabled = disabled
        await session.commit()
        return user_row(user)


async def set_grant(store: Store, name: str, grant: Grant) -> UserRow:
    """Give ``name`` the grant's role on its host and scope, replacing the role held there before."""
    async with store.session() as session:
        user = await _load_or_raise(session, name)
        scope = _scope_text(grant.scope)
        held = next((g for g in user.grants if g.host == grant.host and g.scope == scope), None)
        if held is None:
            user.grants.append(_grant_model(grant))
        else:
            held.role = grant.role
        await session.commit()
        return user_row(user)


async def remove_grant(store: Store, name: str, grant: Grant) -> UserRow:
    """Take back exactly this grant; :class:`UnknownGrant` says what ``name`` holds instead."""
    async with store.session() as session:
        user = await _load_or_raise(session, name)
        scope = _scope_text(grant.scope)
        held = next((g for g in user.grants
                     if (g.host, g.role, g.scope) == (grant.host, grant.role, scope)), None)
        if held is None:
            holds = ", ".join(str(_grant_from(g)) for g in user.grants) or "none"
            raise UnknownGrant(f"user {name!r} has no grant {grant} (grants: {holds})")
        user.grants.remove(held)
        await session.commit()
        return user_row(user)


async def _keep_an_admin(session: AsyncSession, user: models.User, action: str,
                         also_leaving: Iterable[models.User] = ()) -> None:
    """:class:`LastAdmin` unless an enabled admin remains once ``user`` (and ``also_leaving``) go."""
    if not user.is_admin or user.disabled:
        return
    leaving = {user.id, *(u.id for u in also_leaving)}
    others = await session.scalar(
        select(func.count()).select_from(models.User).where(
            models.User.is_admin.is_(True), models.User.disabled.is_(False),
            models.User.id.not_in(leaving)))
    if not others:
        raise LastAdmin(user.name, action)


async def _load(session: AsyncSession, name: str) -> models.User | None:
    return await session.scalar(
        select(models.User).options(selectinload(models.User.grants)).where(models.User.name == name))


async def _load_or_raise(session: AsyncSession, name: str) -> models.User:
    user = await _load(session, name)
    if user is None:
        raise UnknownUser(name)
    return user


def _unique(grants: Iterable[Grant]) -> list[Grant]:
    """The last role given for a (host, scope) wins, as with :func:`set_grant`."""
    by_place = {(g.host, _scope_text(g.scope)): g for g in grants}
    return list(by_place.values())


def _scope_text(scope: Mapping[str, str]) -> str:
    return json.dumps(dict(scope), sort_keys=True, separators=(",", ":"))


def _grant_model(grant: Grant) -> models.Grant:
    return models.Grant(host=grant.host, role=grant.role, scope=_scope_text(grant.scope))


def _grant_from(grant: models.Grant) -> Grant:
    return Grant(grant.host, grant.role, json.loads(grant.scope))
