"""API tokens: public id, owner, digest, lifetime and revocation. Tokens themselves are never stored."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from dockgate.store import models
from dockgate.store.database import Store
from dockgate.store.errors import UnknownToken, UnknownUser
from dockgate.store.users import UserRow, user_row


@dataclass(frozen=True)
class TokenRow:
    token_id: str
    user: str
    name: str
    digest: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class Credential:
    """A token with its owner, as authentication needs them: one read."""

    token: TokenRow
    user: UserRow


async def add_token(store: Store, *, token_id: str, user: str, name: str, digest: str,
                    expires_at: datetime | None) -> TokenRow:
    async with store.session() as session:
        owner = await session.scalar(select(models.User).where(models.User.name == user))
        if owner is None:
            raise UnknownUser(user)
        token = models.Token(id=token_id, user=owner, name=name, digest=digest,
                             created_at=datetime.now(UTC), expires_at=expires_at)
        session.add(token)
        await session.commit()
        return _token_row(token, user)


async def find_credential(store: Store, token_id: str) -> Credential | None:
    async with store.session() as session:
        token = await session.scalar(
            select(models.Token).where(models.Token.id == token_id)
            .options(selectinload(models.Token.user).selectinload(models.User.grants)))
        if token is None:
            return None
        return Credential(_token_row(token, token.user.name), user_row(token.user))


async def list_tokens(store: Store, user: str | None = None) -> list[TokenRow]:
    """Every token (of ``user`` when given; :class:`UnknownUser` if there is none), oldest first."""
    async with store.session() as session:
        query = (select(models.Token, models.User.name).join(models.User)
                 .order_by(models.Token.created_at, models.Token.id))
        if user is not None:
            if await session.scalar(select(models.User.id).where(models.User.name == user)) is None:
                raise UnknownUser(user)
            query = query.where(models.User.name == user)
        return [_token_row(token, owner) for token, owner in await session.execute(query)]


async def revoke_tokens(store: Store, token_ids: Iterable[str]) -> list[TokenRow]:
    """Mark the tokens revoked now, all or none; a token revoked before keeps its first time."""
    async with store.session() as session:
        rows = []
        for token_id in dict.fromkeys(token_ids):
            found = (await session.execute(
                select(models.Token, models.User.name).join(models.User).where(models.Token.id == token_id)
            )).first()
            if found is None:
                raise UnknownToken(token_id)
            token, owner = found
            if token.revoked_at is None:
                token.revoked_at = datetime.now(UTC)
            rows.append((token, owner))
        await session.commit()
        return [_token_row(token, owner) for token, owner in rows]


async def remove_ended_tokens(store: Store, user: str, name_prefix: str, now: datetime) -> int:
    """Delete ``user``'s tokens named ``name_prefix...`` that expired or were revoked before ``now``
    (ended dashboard sessions, which would otherwise pile up in listings); how many went."""
    async with store.session() as session:
        owner = select(models.User.id).where(models.User.name == user).scalar_subquery()
        ended = (models.Token.expires_at <= now) | (models.Token.revoked_at <= now)
        mine = (models.Token.user_id == owner) & models.Token.name.startswith(name_prefix, autoescape=True)
        result = await session.execute(delete(models.Token).where(mine, ended))
        await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)


def _token_row(token: models.Token, user: str) -> TokenRow:
    return TokenRow(token.id, user, token.name, token.digest, token.created_at, token.expires_at,
                    token.revoked_at)
