"""The dashboard's sign-in rules that need no browser: password hashes, the failure throttle, CSRF
tokens, where a sign-in may lead, and when a cookie may be Secure."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request

from dockgate.access import passwords
from dockgate.dashboard.auth import LoginThrottle, _next_page, csrf_for, is_secure_context, same_origin
from dockgate.engines.errors import BadParameter


def test_a_password_hash_is_salted_and_checks_only_its_password():
    first, second = passwords.hash_password("correct horse"), passwords.hash_password("correct horse")
    assert first != second and first.startswith("scrypt$")
    assert passwords.verify("correct horse", first)
    assert not passwords.verify("correct horsf", first)
    assert not passwords.verify("", first)


def test_a_user_without_a_password_never_matches():
    assert not passwords.verify("anything", None)
    assert not passwords.verify("", None)


@pytest.mark.parametrize(("password", "reason"), [("short", "at least 10"), ("Alice12345", "user name")])
def test_weak_new_passwords_are_refused(password, reason):
    with pytest.raises(BadParameter, match=reason):
        passwords.validate(password, "alice12345")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failures_beyond_the_free_ones_make_the_next_attempt_wait_longer_each_time():
    clock = Clock()
    throttle = LoginThrottle(free=3, address_free=100, window=900, cap=60, clock=clock)
    for _ in range(3):
        assert throttle.wait("olga", "10.0.0.1") == 0
        throttle.failed("olga", "10.0.0.1")
    assert throttle.wait("olga", "10.0.0.1") == 2
    throttle.failed("olga", "10.0.0.1")
    assert throttle.wait("olga", "10.0.0.1") == 4
    # The wait is the user name's, from any address; other users are not held up.
    assert throttle.wait("olga", "10.9.9.9") == 4 and throttle.wait("vic", "10.0.0.1") == 0
    clock.now += 4
    assert throttle.wait("olga", "10.0.0.1") == 0
    for _ in range(20):
        throttle.failed("olga", "10.0.0.1")
    assert throttle.wait("olga", "10.0.0.1") == 60  # capped


def test_failures_are_forgotten_after_the_window_or_a_success():
    clock = Clock()
    throttle = LoginThrottle(free=1, address_free=100, window=900, clock=clock)
    throttle.failed("olga", "a")
    throttle.failed("olga", "a")
    assert throttle.wait("olga", "a") > 0
    clock.now += 901
    assert throttle.wait("olga", "a") == 0
    throttle.failed("olga", "a")
    throttle.failed("olga", "a")
    throttle.succeeded("olga", "a")
    assert throttle.wait("olga", "a") == 0


def test_an_address_spraying_many_names_is_slowed_too():
    throttle = LoginThrottle(free=5, address_free=10, clock=Clock())
    for n in range(10):
        throttle.failed(f"user{n}", "10.0.0.1")
    assert throttle.wait("someone-new", "10.0.0.1") > 0
    assert throttle.wait("someone-new", "10.0.0.2") == 0


def test_the_csrf_token_belongs_to_its_session():
    assert csrf_for("dgt_a") == csrf_for("dgt_a")
    assert csrf_for("dgt_a") != csrf_for("dgt_b")
    assert "dgt_a" not in csrf_for("dgt_a")


@pytest.mark.parametrize(("value", "expected"), [
    ("/ui/containers?all=1", "/ui/containers?all=1"),
    ("//evil.example/ui/", "/ui/"),
    ("https://evil.example/", "/ui/"),
    ("/ui/\\evil", "/ui/"),
    ("/v1.41/containers/json", "/ui/"),
    ("", "/ui/"),
    (None, "/ui/"),
])
def test_a_sign_in_only_leads_to_a_dashboard_page(value, expected):
    assert _next_page(value) == expected


@pytest.mark.parametrize(("host", "proto", "secure"), [
    ("127.0.0.1:6732", "http", True), ("localhost:6732", "http", True), ("[::1]:6732", "http", True),
    ("10.0.0.5:6732", "http", False), ("gw.example:6732", "https", True),
])
def test_cookies_are_secure_where_the_browser_keeps_them(host, proto, secure):
    request = make_mocked_request("GET", "/ui/", headers={"Host": host, "X-Forwarded-Proto": proto})
    assert is_secure_context(request) is secure


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Host": "127.0.0.1:6732", "Origin": "http://127.0.0.1:6732"}, True),
    ({"Host": "127.0.0.1:6732", "Origin": "http://evil.example"}, False),
    ({"Host": "127.0.0.1:6732", "Origin": "http://127.0.0.1:6733"}, False),
    ({"Host": "127.0.0.1:6732", "Sec-Fetch-Site": "cross-site"}, False),
    ({"Host": "127.0.0.1:6732"}, True),  # no Origin, no fetch metadata: not a browser's cross-site form
])
def test_state_changing_requests_must_come_from_this_origin(headers, expected):
    assert same_origin(make_mocked_request("POST", "/ui/login", headers=headers)) is expected
