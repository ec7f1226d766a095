"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright, against the
session's ``dockgate serve`` (which serves the dashboard at ``/``) in front of the real engines.

Playwright's own browser download cannot work without internet; it drives the system's Chromium
instead, started with the flags that keep it from reaching for Google's services.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
PASSWORDS = {"tester": "tester-password-1", "vic": "vic-password-123", "olga": "olga-password-123"}

pytestmark = pytest.mark.engine
expect.set_options(timeout=15_000)


# Per module, not per session: while Playwright's sync API is open, its event loop counts as running
# in this thread, and every asyncio test after it (pytest-asyncio, asyncio.run) would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def passwords(cli_env, people) -> dict[str, str]:
    """Dashboard passwords for the session's admin (tester), a viewer (vic) and an operator (olga),
    set with the real command."""
    for user, password in PASSWORDS.items():
        proc = subprocess.run([sys.executable, "-m", "dockgate", "users", "passwd", user, "--password-stdin"],
                              input=password + "\n", capture_output=True, text=True, env=cli_env, timeout=60)
        assert proc.returncode == 0, proc.stderr
    return PASSWORDS


@dataclass
class Dashboard:
    url: str  # http://127.0.0.1:PORT
    browser: Browser
    passwords: dict[str, str]

    def page(self) -> Page:
        """A new page in a fresh browser context (no cookies)."""
        context = self.browser.new_context(viewport={"width": 1366, "height": 860})
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.errors = []  # type: ignore[attr-defined]
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))  # type: ignore[attr-defined]
        return page

    def sign_in(self, user: str, *, then: str = "/ui/") -> Page:
        page = self.page()
        page.goto(f"{self.url}{then}")
        page.fill("#password-form input[name=user]", user)
        page.fill("#password-form input[name=password]", self.passwords[user])
        page.click("#password-form button")
        expect(page.locator("nav.side .user")).to_have_text(user)
        return page


@pytest.fixture(scope="module")
def dashboard(gateway, browser, passwords) -> Dashboard:
    return Dashboard(f"http://127.0.0.1:{gateway.port}", browser, passwords)


@pytest.fixture
def admin(dashboard) -> Iterator[Page]:
    """A page signed in as the session's admin; fails the test if a script on it threw."""
    page = dashboard.sign_in("tester")
    yield page
    errors = page.errors  # type: ignore[attr-defined]
    page.context.close()
    assert not errors, f"script errors on the page: {errors}"


@pytest.fixture
def stoppable() -> list[str]:
    """A command that ends on SIGTERM at once, so stopping it from a page takes no 10-second grace."""
    return ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
