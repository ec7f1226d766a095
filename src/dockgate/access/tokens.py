"""API tokens: their format, how they are kept at rest, and how a presented one is checked.

A token reads ``dgt_<id>_<secret>``: the prefix lets people and secret scanners recognise it, the
12-hex-digit id is public (listings, audit records, revocation), and the secret is
``secrets.token_urlsafe(32)``, 256 random bits. The token is shown once, when it is created.

At rest only ``sha256:<hex digest of the whole token>`` is kept. Slow hashes (bcrypt, scrypt,
argon2) exist to make guessing low-entropy passwords expensive; nobody can guess 256 random bits,
however fast the hash, while a slow hash would add tens of milliseconds to every API request, or
push us to cache plaintext tokens to avoid it. A copy of the database thus yields no usable token.
Hashing the whole token binds the secret to its id. Digests are compared in constant time.

Nothing here does I/O: the store keeps rows, :mod:`dockgate.access.identity` combines the two.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from dockgate.engines.errors import BadParameter

PREFIX = "dgt"
_ID_BYTES = 6
_SECRET_BYTES = 32
_FORMAT = re.compile(rf"{PREFIX}_([0-9a-f]{{{2 * _ID_BYTES}}})_([A-Za-z0-9_-]{{43}})")
_DIGEST = "sha256"
_LIFETIME = re.compile(r"(\d+)([mhdw])")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1),
          "w": timedelta(weeks=1)}


class TokenFormatError(ValueError):
    """A string that is not a dockgate token (mistyped, cut short, or another kind of secret)."""


@dataclass(frozen=True)
class NewToken:
    token_id: str
    token: str
    digest: str


class TokenState(StrEnum):
    active = "active"
    expired = "expired"
    revoked = "revoked"


def generate() -> NewToken:
    token_id = secrets.token_hex(_ID_BYTES)
    token = f"{PREFIX}_{token_id}_{secrets.token_urlsafe(_SECRET_BYTES)}"
    return NewToken(token_id, token, digest(token))


def token_id_of(token: str) -> str:
    """The public id of ``token``; :class:`TokenFormatError` when it is not a dockgate token."""
    match = _FORMAT.fullmatch(token)
    if match is None:
        raise TokenFormatError(f"not a dockgate token: expected {PREFIX}_<12 hex digits>_<43 characters>, "
                               f"got {len(token)} characters")
    return match.group(1)


def digest(token: str) -> str:
    return f"{_DIGEST}:{hashlib.sha256(token.encode()).hexdigest()}"


def matches(token: str, stored_digest: str) -> bool:
    """Whether ``token`` is the one ``stored_digest`` was made from, in constant time."""
    return hmac.compare_digest(digest(token).encode(), stored_digest.encode())


def state(expires_at: datetime | None, revoked_at: datetime | None, now: datetime) -> TokenState:
    if revoked_at is not None:
        return TokenState.revoked
    if expires_at is not None and expires_at <= now:
        return TokenState.expired
    return TokenState.active


def parse_lifetime(text: str) -> timedelta:
    """``90m``, ``12h``, ``30d``, ``2w``: how long a new token stays valid."""
    match = _LIFETIME.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise BadParameter("expires", f"{text!r} is not a lifetime: use a positive number followed by "
                                      "m (minutes), h (hours), d (days) or w (weeks), e.g. 30d")
    return int(match.group(1)) * _UNITS[match.group(2)]
