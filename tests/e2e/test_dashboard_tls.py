"""The dashboard over the gateway's TLS listener: the browser's address is https, its cookie Secure,
and the streams (server-sent events, the console's WebSocket) pass the TLS relay like any request."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from dockgate.pki.issue import make_ca, make_server
from tests.conftest import GatewayProcess, start_gateway, stop_gateway


@pytest.fixture(scope="module")
def tls_dashboard(cli_env, passwords, tmp_path_factory) -> Iterator[GatewayProcess]:
    root = tmp_path_factory.mktemp("dashboard-pki")
    server = make_server(make_ca(root / "ca"), root / "server", ["127.0.0.1"])
    gateway = start_gateway(cli_env, tmp_path_factory.mktemp("tls-dashboard"), "--tls-cert", str(server.cert),
                            "--tls-key", str(server.key), "--no-unix")
    yield gateway
    stop_gateway(gateway)


def test_sign_in_logs_and_console_over_tls(tls_dashboard, browser, passwords, docker1, name):
    docker1.containers.run("busybox", ["sh", "-c", "while true; do echo secure tick; sleep 0.2; done"],
                           name=name, detach=True)
    url = f"https://127.0.0.1:{tls_dashboard.port}"
    context = browser.new_context(ignore_https_errors=True)  # the test CA is not the browser's
    page = context.new_page()
    page.goto(url + "/")
    expect(page).to_have_url(re.compile(r"^https://.*/ui/login"))
    page.fill("#password-form input[name=user]", "tester")
    page.fill("#password-form input[name=password]", passwords["tester"])
    page.click("#password-form button")
    expect(page.locator("nav.side .user")).to_have_text("tester")
    cookie = next(c for c in context.cookies() if c["name"] == "dockgate_session")
    assert cookie["secure"] and cookie["httpOnly"]

    page.goto(f"{url}/ui/hosts/test1/containers/{name}#logs")
    expect(page.locator("#log")).to_contain_text("secure tick")
    page.click(".tabs a[href='#exec']")
    page.click("#exec-start")
    expect(page.locator(".xterm-rows")).to_contain_text("#")
    page.keyboard.type("echo tls-$((40+2))\n")
    expect(page.locator(".xterm-rows")).to_contain_text("tls-42")
    context.close()
