"""Grants as people write them (ROLE@HOST[:label=value,...]) and user names."""

from __future__ import annotations

import pytest

from dockgate.access.identity import Grant, parse_grant, validate_user_name
from dockgate.engines.errors import BadParameter


@pytest.mark.parametrize(("text", "expected"), [
    ("operator@staging", Grant("staging", "operator", {})),
    ("viewer@prod:team=payments", Grant("prod", "viewer", {"team": "payments"})),
    ("viewer@prod:team=payments,env=live", Grant("prod", "viewer", {"team": "payments", "env": "live"})),
    ("admin@*", Grant("*", "admin", {})),
    ("viewer@*:com.example.team=a=b", Grant("*", "viewer", {"com.example.team": "a=b"})),
    ("viewer@prod:empty=", Grant("prod", "viewer", {"empty": ""})),
])
def test_parse_grant(text, expected):
    assert parse_grant(text) == expected


@pytest.mark.parametrize("text", [
    "operator@staging", "viewer@prod:team=payments", "viewer@prod:env=live,team=payments", "admin@*",
])
def test_grant_text_round_trips(text):
    assert str(parse_grant(text)) == text


def test_scope_is_written_in_sorted_order():
    assert str(parse_grant("viewer@prod:team=payments,env=live")) == "viewer@prod:env=live,team=payments"


@pytest.mark.parametrize(("text", "fragment"), [
    ("operator", "write ROLE@HOST"),
    ("@prod", "write ROLE@HOST"),
    ("operator@", "write ROLE@HOST"),
    ("Operator@prod", "role 'Operator' must be lower-case"),
    ("op erator@prod", "must be lower-case"),
    ("operator@bad host", "invalid host name"),
    ("operator@prod:team", "label selector 'team' must be label=value"),
    ("operator@prod:=x", "must be label=value"),
    ("operator@prod:", "must be label=value"),
    ("operator@prod:a=1,,b=2", "must be label=value"),
    ("operator@prod:a=1,a=2", "label 'a' appears twice"),
])
def test_bad_grants_say_what_to_write(text, fragment):
    with pytest.raises(BadParameter, match="invalid grant") as caught:
        parse_grant(text)
    assert fragment in str(caught.value)


@pytest.mark.parametrize("name", ["alice", "alice.smith", "a_b-c", "ci@example.com", "A1", "x" * 64])
def test_good_user_names(name):
    assert validate_user_name(name) == name


@pytest.mark.parametrize("name", ["", "-alice", ".x", "a b", "x" * 65, "é", "a/b", "a:b"])
def test_bad_user_names(name):
    with pytest.raises(BadParameter, match="invalid user name"):
        validate_user_name(name)
