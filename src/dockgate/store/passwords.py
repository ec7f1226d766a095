"""Users' dashboard passwords: one stored hash per user, never the password."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select

from dockgate.store import models
from dockgate.store.database import Store
from dockgate.store.errors import UnknownUser


async def set_password(store: Store, user: str, digest: str) -> None:
    """Store ``digest`` as ``user``'s password hash, replacing the one before."""
    async with store.session() as session:
        user_id = await session.scalar(select(models.User.id).where(models.User.name == user))
        if user_id is None:
            raise UnknownUser(user)
        row = await session.get(models.Password, user_id)
        if row is None:
            session.add(models.Password(user_id=user_id, digest=digest, changed_at=datetime.now(UTC)))
        else:
            row.digest, row.changed_at = digest, datetime.now(UTC)
        await session.commit()


async def clear_password(store: Store, user: str) -> bool:
    """Remove ``user``'s password (token login only); whether there was one."""
    async with store.session() as session:
        user_id = await session.scalar(select(models.User.id).where(models.User.name == user))
        if user_id is None:
            raise UnknownUser(user)
        result = await session.execute(delete(models.Password).where(models.Password.user_id == user_id))
        await session.commit()
        return bool(getattr(result, "rowcount", 0))


async def password_digest(store: Store, user: str) -> str | None:
    """The stored hash of ``user``'s password; None when the user or the password does not exist."""
    async with store.session() as session:
        return await session.scalar(
            select(models.Password.digest).join(models.User).where(models.User.name == user))
