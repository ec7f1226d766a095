"""API tokens: their format, the digest kept at rest, constant-time checks, lifetimes and states."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from dockgate.access import tokens
from dockgate.engines.errors import BadParameter

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def test_generated_token_has_prefix_public_id_and_256_bit_secret():
    new = tokens.generate()
    assert re.fullmatch(r"dgt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", new.token)
    assert new.token.split("_", 2)[1] == new.token_id
    assert tokens.token_id_of(new.token) == new.token_id


def test_generated_tokens_differ():
    made = {tokens.generate().token for _ in range(200)}
    assert len(made) == 200
    assert len({t.split("_", 2)[1] for t in made}) == 200


def test_digest_is_sha256_of_the_token_and_reveals_no_secret():
    new = tokens.generate()
    secret = new.token.split("_", 2)[2]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", new.digest)
    assert new.digest == tokens.digest(new.token)  # deterministic: verifiable later
    assert secret not in new.digest and new.token_id not in new.digest


def test_matches_only_the_token_it_was_made_from():
    new = tokens.generate()
    other = tokens.generate()
    last = new.token[-1]
    altered = new.token[:-1] + ("A" if last != "A" else "B")
    same_id_other_secret = f"dgt_{new.token_id}_{other.token.split('_', 2)[2]}"
    assert tokens.matches(new.token, new.digest)
    assert not tokens.matches(altered, new.digest)
    assert not tokens.matches(same_id_other_secret, new.digest)
    assert not tokens.matches(other.token, new.digest)
    assert not tokens.matches(new.token, "")


def test_matches_compares_in_constant_time(monkeypatch):
    seen = []
    real = tokens.hmac.compare_digest

    def spy(a, b):
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tokens.hmac, "compare_digest", spy)
    new = tokens.generate()
    assert tokens.matches(new.token, new.digest)
    assert seen == [(new.digest.encode(), new.digest.encode())]


@pytest.mark.parametrize("bad", [
    "",
    "dgt_",
    "ghp_0123456789ab_" + "a" * 43,  # another kind of token
    "dgt_0123456789AB_" + "a" * 43,  # upper-case id
    "dgt_0123456789a_" + "a" * 43,  # id too short
    "dgt_0123456789ab_" + "a" * 42,  # secret cut short
    "dgt_0123456789ab_" + "a" * 44,
    "dgt_0123456789ab_" + "a" * 42 + "=",  # not url-safe base64
    " dgt_0123456789ab_" + "a" * 43,
])
def test_malformed_tokens_are_refused_without_echoing_them(bad):
    with pytest.raises(tokens.TokenFormatError, match="not a dockgate token") as caught:
        tokens.token_id_of(bad)
    assert "aaaaaaaa" not in str(caught.value)  # the message may reach logs: no part of the secret


@pytest.mark.parametrize(("expires_at", "revoked_at", "expected"), [
    (None, None, tokens.TokenState.active),
    (NOW + timedelta(seconds=1), None, tokens.TokenState.active),
    (NOW, None, tokens.TokenState.expired),  # valid strictly before its expiry
    (NOW - timedelta(days=1), None, tokens.TokenState.expired),
    (None, NOW - timedelta(hours=1), tokens.TokenState.revoked),
    (NOW - timedelta(days=1), NOW - timedelta(days=2), tokens.TokenState.revoked),
])
def test_state(expires_at, revoked_at, expected):
    assert tokens.state(expires_at, revoked_at, NOW) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("90m", timedelta(minutes=90)),
    ("12h", timedelta(hours=12)),
    ("30d", timedelta(days=30)),
    ("2w", timedelta(weeks=2)),
    (" 1d ", timedelta(days=1)),
])
def test_parse_lifetime(text, expected):
    assert tokens.parse_lifetime(text) == expected


@pytest.mark.parametrize("text", ["", "30", "d", "0d", "-1d", "1.5h", "3x", "1y", "1d2h"])
def test_bad_lifetime_names_the_option(text):
    with pytest.raises(BadParameter, match=r"invalid expires: .* e\.g\. 30d") as caught:
        tokens.parse_lifetime(text)
    assert caught.value.param == "expires"
