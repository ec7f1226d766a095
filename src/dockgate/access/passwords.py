"""Dashboard passwords: how they are hashed at rest and checked.

Unlike tokens (256 random bits, see tokens.py), passwords are chosen by people and can be guessed,
so they get a slow, salted, memory-hard hash: scrypt from the standard library (n=2**15, r=8, p=1,
about 32 MiB and tens of milliseconds), stored with its parameters so they can be raised later
without breaking old hashes. Checks run in a worker thread: the event loop serves the API meanwhile.

A login for a user without a password still costs one hash, so response times do not tell
which user names exist.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets

from dockgate.engines.errors import BadParameter

MIN_LENGTH = 10
_N, _R, _P = 2**15, 8, 1
_MAXMEM = 64 * 1024 * 1024
_DUMMY = f"scrypt${_N}${_R}${_P}$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def validate(password: str, user: str) -> str:
    """``password`` if it is acceptable as a new password; :class:`BadParameter` saying why not."""
    if len(password) < MIN_LENGTH:
        raise BadParameter("password", f"use at least {MIN_LENGTH} characters")
    if password.lower() == user.lower():
        raise BadParameter("password", "must not be the user name")
    return password


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    derived = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=_MAXMEM)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(derived)}"


def verify(password: str, digest: str | None) -> bool:
    """Whether ``password`` made ``digest``, in constant time; a missing digest costs the same."""
    scheme, n, r, p, salt, expected = (digest or _DUMMY).split("$")
    if scheme != "scrypt":
        return False
    derived = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=_MAXMEM)
    return hmac.compare_digest(derived, _unb64(expected)) and digest is not None


async def verify_async(password: str, digest: str | None) -> bool:
    return await asyncio.to_thread(verify, password, digest)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
