"""The dashboard at the HTTP level: how the gateway's listener tells browsers from Docker API clients,
what it lets through to the dashboard, and sessions seen from the command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import requests


def _sign_in(dashboard, user: str, headers: dict[str, str] | None = None) -> requests.Session:
    session = requests.Session()
    answer = session.post(f"{dashboard.url}/ui/login", allow_redirects=False,
                          data={"user": user, "password": dashboard.passwords[user]},
                          headers={"Origin": dashboard.url, **(headers or {})})
    assert answer.status_code == 303, answer.text
    # The cookie is Secure: a browser sends it to a loopback address over plain HTTP, requests does not.
    session.headers["Cookie"] = f"dockgate_session={answer.cookies['dockgate_session']}"
    return session


def _once_refused(session: requests.Session, url: str) -> requests.Response:
    """The answer to ``url`` once it is no longer 200: a change made by another process (the CLI)
    reaches the gateway when its cache of tokens and users expires, within a few seconds."""
    deadline = time.monotonic() + 10
    while (answer := session.get(url)).status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    return answer


def test_api_clients_asking_for_root_still_get_the_engines_answer(gateway, dashboard):
    api = requests.get(f"{dashboard.url}/", headers={"Authorization": f"Bearer {gateway.token}"})
    assert api.status_code == 404 and api.json()["message"] == "page not found"  # the engine's own words
    browser = requests.get(f"{dashboard.url}/", headers={"Accept": "text/html"}, allow_redirects=False)
    assert browser.status_code == 303 and browser.headers["Location"].startswith("/ui/login")
    # The docker CLI through the same port is unaffected.
    assert gateway.docker("version", "--format", "{{.Server.APIVersion}}").stdout.strip() == "1.41"


def test_pages_forbid_framing_and_foreign_scripts(dashboard):
    answer = requests.get(f"{dashboard.url}/ui/login")
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Frame-Options"] == "DENY" and answer.headers["Cache-Control"] == "no-store"


def test_a_sign_in_posted_from_another_site_is_refused(dashboard):
    answer = requests.post(f"{dashboard.url}/ui/login", allow_redirects=False,
                           data={"user": "tester", "password": dashboard.passwords["tester"]},
                           headers={"Origin": "http://evil.example"})
    assert answer.status_code == 403 and "Set-Cookie" not in answer.headers


def test_the_browsers_address_is_the_gateways_to_say_not_a_header_it_sent(dashboard, dockgate):
    session = _sign_in(dashboard, "tester", headers={"X-Forwarded-For": "6.6.6.6"})
    session.headers["X-Forwarded-For"] = "6.6.6.6"
    session.headers["X-Dockgate-Source"] = "somewhere else"
    assert session.get(f"{dashboard.url}/ui/api/containers?host=test1").status_code == 200
    audit = dockgate("audit", "--user", "tester", "--since", "1m", "--format", "json")
    sources = {record["source"] for record in json.loads(audit.stdout)}
    assert "127.0.0.1 (dashboard)" in sources and "127.0.0.1" in sources
    assert not any("6.6.6.6" in s or "somewhere" in s for s in sources), sources


def test_sessions_are_tokens_the_cli_lists_and_revokes(dashboard, dockgate):
    session = _sign_in(dashboard, "vic")
    assert session.get(f"{dashboard.url}/ui/api/hosts").status_code == 200
    listed = dockgate("tokens", "ls", "--user", "vic")
    token_id = session.headers["Cookie"].split("_")[2]
    assert re.search(rf"{token_id}\s+vic\s+dashboard session from 127\.0\.0\.1", listed.stdout), listed.stdout
    revoked = dockgate("tokens", "revoke", token_id)
    assert revoked.returncode == 0, revoked.stderr
    answer = _once_refused(session, f"{dashboard.url}/ui/api/hosts")
    assert answer.status_code == 401 and "sign in again" in answer.json()["message"]


def test_a_disabled_user_cannot_sign_in_and_loses_their_session(dashboard, dockgate, cli_env):
    subprocess.run([sys.executable, "-m", "dockgate", "users", "add", "dora", "--grant", "viewer@test1"],
                   env=cli_env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "dockgate", "users", "passwd", "dora", "--password-stdin"],
                   input="dora-password-1\n", env=cli_env, check=True, capture_output=True, text=True)
    dashboard.passwords["dora"] = "dora-password-1"
    try:
        session = _sign_in(dashboard, "dora")
        assert dockgate("users", "disable", "dora").returncode == 0
        assert _once_refused(session, f"{dashboard.url}/ui/api/hosts").status_code == 401
        again = requests.post(f"{dashboard.url}/ui/login", allow_redirects=False,
                              data={"user": "dora", "password": "dora-password-1"},
                              headers={"Origin": dashboard.url})
        assert again.status_code == 401 and "Set-Cookie" not in again.headers
    finally:
        del dashboard.passwords["dora"]
        dockgate("users", "rm", "dora")


def test_a_user_without_a_password_signs_in_with_a_token_only(dashboard, people):
    answer = requests.post(f"{dashboard.url}/ui/login", allow_redirects=False,
                           data={"user": "nora", "password": ""}, headers={"Origin": dashboard.url})
    assert answer.status_code == 401
    answer = requests.post(f"{dashboard.url}/ui/login", allow_redirects=False,
                           data={"token": people["nora"].token}, headers={"Origin": dashboard.url})
    assert answer.status_code == 303
