"""The dashboard in Firefox too: Debian's firefox-esr, headless, driven over its own Marionette
protocol (Playwright can only drive a Firefox it built itself, which cannot be downloaded here).

One tour of the pages whose scripts do the most (the live list, logs over server-sent events, the
console over a WebSocket); the Chromium tests cover the rest in depth.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from marionette_driver import By, Wait
from marionette_driver.marionette import Marionette

from tests.conftest import free_port

FIREFOX = "/usr/bin/firefox-esr"


@pytest.fixture(scope="module")
def firefox(tmp_path_factory) -> Iterator[Marionette]:
    if shutil.which(FIREFOX) is None:
        pytest.fail(f"{FIREFOX} is missing: scripts/bootstrap test installs Debian's firefox-esr")
    profile = tmp_path_factory.mktemp("firefox-profile")
    port = free_port()
    (profile / "user.js").write_text(f'user_pref("marionette.port", {port});\n'
                                     'user_pref("browser.shell.checkDefaultBrowser", false);\n')
    process = subprocess.Popen([FIREFOX, "--headless", "--marionette", "--no-remote", "--profile",
                                str(profile)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("firefox-esr did not open its Marionette port")
            time.sleep(0.2)
    client = Marionette(host="127.0.0.1", port=port)
    client.start_session()
    yield client
    client.delete_session()
    process.terminate()
    process.wait(timeout=20)


def _text(browser: Marionette, selector: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, selector).text


def test_a_tour_of_the_dashboard_in_firefox(firefox, dashboard, docker1, name):
    container = docker1.containers.run(
        "busybox", ["sh", "-c", "i=0; while true; do i=$((i+1)); echo fox line $i; sleep 0.2; done"],
        name=name, detach=True)
    browser, wait = firefox, Wait(firefox, timeout=20)
    browser.navigate(f"{dashboard.url}/")
    wait.until(lambda b: "/ui/login" in b.get_url())
    browser.find_element(By.CSS_SELECTOR, "#password-form input[name=user]").send_keys("tester")
    browser.find_element(By.CSS_SELECTOR, "#password-form input[name=password]").send_keys(
        dashboard.passwords["tester"])
    browser.find_element(By.CSS_SELECTOR, "#password-form button").click()
    wait.until(lambda b: _text(b, "nav.side .user") == "tester")  # the Secure cookie is kept on loopback

    browser.navigate(f"{dashboard.url}/ui/containers?all=1&name={name}")
    wait.until(lambda b: name in _text(b, "#containers tbody"))
    wait.until(lambda b: "on" in b.find_element(By.ID, "live").get_attribute("class"))
    container.pause()  # the live list follows the engine's events
    wait.until(lambda b: "paused" in _text(b, "#containers tbody"))
    container.unpause()

    browser.navigate(f"{dashboard.url}/ui/hosts/test1/containers/{name}#logs")
    wait.until(lambda b: "fox line 3" in _text(b, "#log"))
    seen = len(_text(browser, "#log").splitlines())
    wait.until(lambda b: len(_text(b, "#log").splitlines()) > seen + 5)  # still following

    browser.navigate(f"{dashboard.url}/ui/hosts/test1/containers/{name}#exec")
    browser.find_element(By.ID, "exec-start").click()
    wait.until(lambda b: "#" in _text(b, ".xterm-rows"))  # the shell's prompt
    browser.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea").send_keys("echo fox-$((6*7))\n")
    wait.until(lambda b: "fox-42" in _text(b, ".xterm-rows"))
