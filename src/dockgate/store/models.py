"""The tables: users, their grants, tokens and passwords, and the audit records.

Audit records name their user as text rather than by key, so removing a user keeps the history of
what they did. Times are stored as UTC and always come back timezone-aware, on SQLite too.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; SQLite keeps no zone, so naive values read back are UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit sequence.
_ROW_ID = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # Removing a user removes its grants and tokens: ON DELETE CASCADE in the database.
    grants: Mapped[list[Grant]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="Grant.id")


class Grant(Base):
    """A role on one host (``*``: every host), limited to containers matching ``scope`` when set.

    ``scope`` is the label selector as canonical JSON (sorted keys), so that equal selectors are
    equal text and one (user, host, scope) holds one role.
    """

    __tablename__ = "grants"
    __table_args__ = (UniqueConstraint("user_id", "host", "scope"),)

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    host: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text, default="{}")


class Token(Base):
    """An API token: its public id, and a digest of the whole token (never the token itself)."""

    __tablename__ = "tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    digest: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship()


class AuditEntry(Base):
    """One request through dockgate, allowed or not; exec/attach sessions add their start and end."""

    __tablename__ = "audit_records"
    __table_args__ = (Index("ix_audit_user_time", "user", "time"),
                      Index("ix_audit_host_time", "host", "time"))

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source: Mapped[str] = mapped_column(String(256), default="")
    host: Mapped[str | None] = mapped_column(String(64), nullable=True)
    method: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)
    operation: Mapped[str] = mapped_column(String(64), default="")
    decision: Mapped[str] = mapped_column(String(8))
    rule: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    bytes_in: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_out: Mapped[int] = mapped_column(BigInteger, default=0)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    started: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Password(Base):
    """A user's dashboard password, as a slow salted hash (see access/passwords.py); at most one."""

    __tablename__ = "passwords"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(256))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
