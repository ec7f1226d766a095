"""Decode a JSON request body the way the engine's Go ``encoding/json`` will, so that the policy
decides on exactly what the engine acts on.

Go matches object keys to struct fields case-insensitively, by Unicode simple case folding:
``privileged``, ``PRIVILEGED`` and ``Privileged`` with U+017F LATIN SMALL LETTER LONG S in place
of ``s`` all set ``Privileged``, as U+212A KELVIN SIGN does for ``k``. Given the same field
twice it keeps the last value, and it decodes a struct given twice into the same value, merging
them (``{"HostConfig": {"Privileged": true}, "hostconfig": {"Memory": 1}}`` is privileged). A
checker that reads the first spelling, or only the exact one, is bypassed; so this module refuses
ambiguity instead of guessing: a key given twice (after ``\\u`` escapes are decoded) is a 400, and
:class:`GoObject` refuses to read a struct field spelt twice under folding.

Folding applies to struct fields only: map keys (``Labels``, ``Sysctls``, ``DriverOpts``) are exact
in Go, so ``{"a": 1, "A": 2}`` is two labels. Which objects are structs is the caller's knowledge
(the policy's schema walk); here an object only refuses a folded duplicate when read as a struct.

Beyond Go, stricter on purpose: invalid UTF-8 and unpaired ``\\u`` surrogates (Go substitutes
U+FFFD), ``NaN``/``Infinity``, and data after the top-level value are refused, as is a body over
the size limit (413, never skipped unchecked).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any, Literal, NoReturn

DEFAULT_LIMIT = 1024 * 1024

Expect = Literal["object", "array", "any"]

# Go's unicode.SimpleFold pins these two to themselves (its caseOrbit table), although their
# single-letter case mappings lead to ASCII 'i'/'I': "pr\u0131vileged" is not "privileged" in Go.
_FOLD_PINNED = frozenset("\u0130\u0131")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class BodyError(Exception):
    """A body we will not forward; ``status`` is the HTTP status to answer (400 or 413)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BodyTooLarge(BodyError):
    """The body exceeds the configured limit: 413, distinct so callers can stop reading early."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(413, f"request body of {size} bytes exceeds the limit of {limit} bytes "
                              "(setting body_limit)")
        self.limit = limit


@lru_cache(maxsize=4096)
def _fold_rune(char: str) -> str:
    """The smallest letter of ``char``'s simple-case-folding orbit, as Go's json.foldRune returns.

    The orbit is closed over Python's single-letter lower/upper mappings, which gives Go's orbits
    (s, S and U+017F; k, K and U+212A; the three Greek sigmas); multi-letter mappings (U+00DF to
    "SS") are not simple folds, and Go ignores them too.
    """
    if char in _FOLD_PINNED:
        return char
    orbit = {char}
    pending = [char]
    while pending:
        for mapped in (pending[0].lower(), pending[0].upper()):
            if len(mapped) == 1 and mapped not in orbit and mapped not in _FOLD_PINNED:
                orbit.add(mapped)
                pending.append(mapped)
        pending.pop(0)
    return min(orbit)


def fold_name(name: str) -> str:
    """A key such that ``fold_name(a) == fold_name(b)`` exactly when Go matches ``a`` to field ``b``."""
    if name.isascii():
        return name.upper()
    return "".join(c.upper() if c.isascii() else _fold_rune(c) for c in name)


class GoObject(Mapping[str, Any]):
    """A decoded JSON object, read the way Go reads it into a struct.

    ``get("HostConfig")``, ``obj["HostConfig"]`` and ``"HostConfig" in obj`` match any folded
    spelling of the key; reading a field spelt twice under folding raises :class:`BodyError` (400).
    Iteration and :meth:`pairs` give the keys as they were sent. Read maps (labels, driver options)
    with :meth:`pairs`: their keys are exact in Go, so case variants there are distinct entries.
    """

    __slots__ = ("_index", "_pairs")

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self._pairs = pairs
        self._index: dict[str, int] | None = None

    def _position(self, name: str) -> int | None:
        if self._index is None:
            index: dict[str, int] = {}
            for at, (key, _) in enumerate(self._pairs):
                folded = fold_name(key)
                index[folded] = -1 if folded in index else at
            self._index = index
        position = self._index.get(fold_name(name))
        if position == -1:
            spellings = ", ".join(json.dumps(key) for key in self.spellings(name))
            raise BodyError(400, f"ambiguous body: field {name} is given more than once ({spellings}); "
                                 "the engine would silently keep the last one")
        return position

    def spellings(self, name: str) -> list[str]:
        """Every key in this object that Go would match to field ``name``."""
        folded = fold_name(name)
        return [key for key, _ in self._pairs if fold_name(key) == folded]

    def __getitem__(self, name: str) -> Any:
        position = self._position(name)
        if position is None:
            raise KeyError(name)
        return self._pairs[position][1]

    def get(self, name: str, default: Any = None) -> Any:
        position = self._position(name)
        return default if position is None else self._pairs[position][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._position(name) is not None

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def __eq__(self, other: object) -> bool:
        """Equal to an object or mapping with the same members as sent (no folding involved)."""
        if isinstance(other, GoObject):
            other = dict(other._pairs)
        return isinstance(other, Mapping) and dict(self._pairs) == dict(other)

    __hash__ = None  # type: ignore[assignment]

    def pairs(self) -> tuple[tuple[str, Any], ...]:
        """The members as sent, in order: for maps, whose keys Go does not fold."""
        return tuple(self._pairs)

    def __repr__(self) -> str:
        return f"GoObject({self._pairs!r})"


class _ExactDuplicate(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _object(pairs: list[tuple[str, Any]]) -> GoObject:
    if len({key for key, _ in pairs}) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _ExactDuplicate(key)
            seen.add(key)
    return GoObject(pairs)


def _refuse_constant(name: str) -> NoReturn:
    raise BodyError(400, f"invalid JSON body: {name} is not a JSON number")


def _check_surrogates(value: Any, path: str) -> None:
    """Refuse strings holding an unpaired surrogate (from a ``\\udXXX`` escape): Go would read U+FFFD."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            where = path or "the top level"
            raise BodyError(400, f"invalid JSON body: unpaired UTF-16 surrogate escape at {where}") from None
    elif isinstance(value, GoObject):
        for key, member in value.pairs():
            _check_surrogates(key, path)
            _check_surrogates(member, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            _check_surrogates(item, f"{path}[{position}]")


def ensure_within_limit(size: int, limit: int = DEFAULT_LIMIT) -> None:
    """Raise :class:`BodyTooLarge` for a body of ``size`` bytes (a Content-Length, or what has been
    read so far of a chunked body) over ``limit``: check before reading the rest."""
    if size > limit:
        raise BodyTooLarge(size, limit)


def parse_body(data: bytes, *, expect: Expect = "object", limit: int = DEFAULT_LIMIT) -> Any:
    """Decode ``data`` as the engine will; objects become :class:`GoObject`.

    Returns None for an empty (or all-whitespace) body: the engine then uses its defaults.
    ``expect`` is the top-level shape the operation takes; anything else is a 400.
    """
    ensure_within_limit(len(data), limit)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(400, f"invalid JSON body: not UTF-8 (byte {exc.start})") from None
    if not text.strip(" \t\r\n"):
        return None
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_refuse_constant)
    except _ExactDuplicate as exc:
        raise BodyError(400, f"ambiguous body: key {json.dumps(exc.key)} is given twice in one object "
                             f"(at {_duplicate_path(text) or 'the top level'}); "
                             "the engine would silently keep the last one") from None
    except json.JSONDecodeError as exc:
        raise BodyError(400, f"invalid JSON body: {exc.msg} at line {exc.lineno} column {exc.colno}") \
            from None
    except RecursionError:
        raise BodyError(400, "invalid JSON body: nested too deeply") from None
    if _SURROGATE_ESCAPE.search(data):
        _check_surrogates(value, "")
    if expect == "object" and not isinstance(value, GoObject):
        raise BodyError(400, f"invalid JSON body: expected an object, got {_kind(value)}")
    if expect == "array" and not isinstance(value, list):
        raise BodyError(400, f"invalid JSON body: expected an array, got {_kind(value)}")
    return value


def _duplicate_path(text: str) -> str:
    """Where the first exact duplicate key is, for the error message: parses again, keeping every
    pair (objects become lists that start with a marker), so it runs only on that error."""

    def locate(value: Any, path: str) -> str | None:
        is_object = isinstance(value, list) and value and value[0] is _OBJECT_MARK
        members: Iterable[tuple[Any, Any]] = (enumerate(value) if isinstance(value, list) and not is_object
                                              else ())
        if is_object:
            seen: set[str] = set()
            for key, _ in value[1:]:
                if key in seen:
                    return path
                seen.add(key)
            members = ((key, member) for key, member in value[1:])
        for name, member in members:
            inner = f"{path}[{name}]" if isinstance(name, int) else (f"{path}.{name}" if path else name)
            found = locate(member, inner)
            if found is not None:
                return found
        return None

    return locate(json.loads(text, object_pairs_hook=lambda pairs: [_OBJECT_MARK, *pairs]), "") or ""


_OBJECT_MARK = object()


def _kind(value: Any) -> str:
    if isinstance(value, GoObject):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"
