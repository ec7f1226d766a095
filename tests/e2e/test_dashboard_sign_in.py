"""Signing in and out of the dashboard, its session cookie, and what a viewer is offered and refused."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_browser_at_the_gateway_address_gets_the_sign_in_page_then_the_hosts(dashboard):
    page = dashboard.page()
    page.goto(dashboard.url + "/")
    expect(page).to_have_url(re.compile(r"/ui/login"))
    page.fill("#password-form input[name=user]", "tester")
    page.fill("#password-form input[name=password]", "not the password")
    page.click("#password-form button")
    expect(page.locator(".login .error")).to_have_text("Wrong user name or password.")
    page.fill("#password-form input[name=password]", dashboard.passwords["tester"])
    page.click("#password-form button")
    expect(page).to_have_url(re.compile(r"/ui/$"))
    cards = page.locator(".card.host")
    expect(cards.filter(has_text="test1").locator(".state")).to_contain_text("up · Docker")
    expect(cards.filter(has_text="test2").locator(".state")).to_contain_text("up · Docker")
    # The host nobody answers on is shown as down, not left spinning.
    expect(cards.filter(has_text="down").locator(".state")).to_contain_text("down:")
    page.context.close()


def test_the_session_cookie_is_httponly_strict_and_secure(dashboard):
    page = dashboard.sign_in("tester")
    cookie = next(c for c in page.context.cookies() if c["name"] == "dockgate_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    # Scripts on the page cannot read it.
    assert "dockgate_session" not in page.evaluate("document.cookie")
    page.context.close()


def test_signing_out_revokes_the_session_even_for_a_copied_cookie(dashboard, dockgate):
    page = dashboard.sign_in("tester")
    cookie = next(c for c in page.context.cookies() if c["name"] == "dockgate_session")
    token_id = cookie["value"].split("_")[1]
    page.click("#logout")
    expect(page).to_have_url(re.compile(r"/ui/login"))
    page.context.close()
    listed = dockgate("tokens", "ls", "--user", "tester")
    assert re.search(rf"{token_id}.*revoked", listed.stdout), listed.stdout
    thief = dashboard.page()
    thief.context.add_cookies([{**cookie}])
    thief.goto(dashboard.url + "/ui/containers")
    expect(thief).to_have_url(re.compile(r"/ui/login\?next="))
    thief.context.close()


def test_a_token_signs_in_too(dashboard, people):
    page = dashboard.page()
    page.goto(dashboard.url + "/ui/login")
    page.click("summary")
    page.fill("#token-form input[name=token]", people["vic"].token)
    page.click("#token-form button")
    expect(page.locator("nav.side .user")).to_have_text("vic")
    page.context.close()


def test_repeated_wrong_passwords_are_slowed_down_and_audited(dashboard, dockgate):
    page = dashboard.page()
    page.goto(dashboard.url + "/ui/login")
    for _ in range(6):
        page.fill("#password-form input[name=user]", "olga")
        page.fill("#password-form input[name=password]", "guess-guess-guess")
        page.click("#password-form button")
    expect(page.locator(".login .error")).to_contain_text("Too many failed sign-ins")
    # The right password is refused too while the wait lasts: a guesser cannot tell.
    page.fill("#password-form input[name=user]", "olga")
    page.fill("#password-form input[name=password]", dashboard.passwords["olga"])
    page.click("#password-form button")
    expect(page.locator(".login .error")).to_contain_text("Too many failed sign-ins")
    page.context.close()
    audit = dockgate("audit", "--user", "olga", "--operation", "DashboardLogin", "--since", "5m")
    assert "bad-password" in audit.stdout and "throttled" in audit.stdout, audit.stdout


def test_a_viewer_sees_no_buttons_it_may_not_use(dashboard, docker1, name, test_label):
    docker1.containers.run("busybox", ["sleep", "300"], name=name, detach=True,
                           labels=dict([test_label.split("=")]))
    page = dashboard.sign_in("vic", then=f"/ui/containers?label={test_label}")
    expect(page.locator("#containers tbody tr")).to_have_count(1)
    expect(page.locator("#create-link")).to_be_hidden()
    expect(page.locator("nav.side")).not_to_contain_text("Audit log")
    page.locator("#containers tbody input[type=checkbox]").check()
    for action in ("start", "stop", "restart", "remove"):
        expect(page.locator(f"#bulk button[data-action={action}]")).to_be_hidden()
    page.click(f"text={name}")
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator("#actions button")).to_have_count(0)
    expect(page.locator(".tabs")).not_to_contain_text("Console")
    page.context.close()


def test_a_forged_request_from_a_viewer_is_refused_and_audited(dashboard, docker1, dockgate, name):
    container = docker1.containers.run("busybox", ["sleep", "300"], name=name, detach=True)
    page = dashboard.sign_in("vic")
    # A hand-made call with the page's own CSRF token: the gateway's role check still refuses it.
    status, body = page.evaluate("""async ([id]) => {
        const r = await fetch(`/ui/api/hosts/test1/containers/${id}/stop`, {method: "POST",
            headers: {"X-CSRF-Token": document.querySelector('meta[name=csrf-token]').content}});
        return [r.status, await r.text()];
    }""", [container.id])
    assert status == 403 and "may not ContainerStop" in body, body
    # Without the CSRF token it does not even reach the gateway.
    status = page.evaluate("""async ([id]) => (await fetch(`/ui/api/hosts/test1/containers/${id}/stop`,
        {method: "POST"})).status""", [container.id])
    assert status == 403
    page.context.close()
    container.reload()
    assert container.status == "running"
    audit = dockgate("audit", "--user", "vic", "--operation", "ContainerStop", "--since", "5m")
    assert "deny" in audit.stdout and "(dashboard)" in audit.stdout, audit.stdout
