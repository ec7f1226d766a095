"""The containers list across hosts and one container's page, in a real browser against real engines."""

from __future__ import annotations

import re
from pathlib import Path

import docker
import pytest
from playwright.sync_api import expect


def _rows(page):
    return page.locator("#containers tbody tr")


def test_the_list_spans_hosts_and_takes_the_seeds_parameters(admin, dashboard, docker1, docker2, name,
                                                             test_label, test_labels):
    docker1.containers.run("busybox", ["sleep", "300"], name=f"{name}-a", labels=test_labels, detach=True)
    failed = docker1.containers.run("busybox", ["sh", "-c", "exit 3"], name=f"{name}-b", labels=test_labels,
                                    detach=True)
    failed.wait()
    docker2.containers.run("busybox", ["sleep", "300"], name=f"{name}-c", labels=test_labels, detach=True)
    page = admin
    page.goto(f"{dashboard.url}/ui/containers?all=1&label={test_label}")
    expect(_rows(page)).to_have_count(3)
    expect(_rows(page).filter(has_text=f"{name}-c")).to_contain_text("test2")
    expect(_rows(page).filter(has_text=f"{name}-b")).to_contain_text("Exited (3)")
    # The host that does not answer is named, and the others still list.
    expect(page.locator("#host-errors")).to_contain_text("down:")

    page.select_option("#status", "exited")
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page)).to_contain_text(f"{name}-b")
    page.select_option("#status", "")
    page.fill("input[name=exited]", "3")
    expect(_rows(page)).to_have_count(1)
    page.fill("input[name=exited]", "")
    page.uncheck("input[name=all]")
    expect(_rows(page)).to_have_count(2)  # running ones only
    page.check("input[name=all]")
    expect(_rows(page)).to_have_count(3)
    page.fill("input[name=name]", f"{name}-c")
    expect(_rows(page)).to_have_count(1)
    page.fill("input[name=name]", "")
    # since: created after -a, on the host that has -a (the seed's since, id prefix accepted).
    page.check("#host-choice input[value=test1]")
    page.fill("input[name=since]", f"{name}-a")
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page)).to_contain_text(f"{name}-b")
    page.fill("input[name=since]", "")
    page.uncheck("#host-choice input[value=test1]")
    page.fill("input[name=limit]", "1")  # the engines' limit: the newest one of each host
    expect(page).to_have_url(re.compile("limit=1"))
    expect(page.locator("#containers")).to_have_attribute("aria-busy", "false")
    expect(_rows(page)).to_have_count(2)
    expect(_rows(page).filter(has_text=f"{name}-a")).to_have_count(0)
    page.fill("input[name=limit]", "x")
    expect(page.locator("#query-error")).to_contain_text("invalid limit")


def test_the_list_follows_the_engines_events_without_reloading(admin, dashboard, docker1, name, test_label,
                                                                stoppable, test_labels):
    page = admin
    page.goto(f"{dashboard.url}/ui/containers?all=1&label={test_label}")
    expect(page.locator("#live")).to_have_class(re.compile("on"))
    expect(page.locator("#empty")).to_be_visible()
    container = docker1.containers.run("busybox", stoppable, name=name, labels=test_labels,
                                       detach=True)
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).locator(".state-tag")).to_have_text("running")
    container.stop()
    expect(_rows(page).locator(".state-tag")).to_have_text("exited")


def test_bulk_stop_then_remove(admin, dashboard, docker1, name, test_label, stoppable, test_labels):
    for suffix in ("a", "b"):
        docker1.containers.run("busybox", stoppable, name=f"{name}-{suffix}", labels=test_labels,
                               detach=True)
    page = admin
    page.goto(f"{dashboard.url}/ui/containers?all=1&label={test_label}")
    expect(_rows(page)).to_have_count(2)
    page.check("#select-all")
    expect(page.locator("#selected-count")).to_have_text("2 selected")
    page.click("#bulk button[data-action=stop]")
    expect(page.locator(".toast.ok")).to_contain_text("stop: 2 done")
    assert {c.status for c in docker1.containers.list(all=True, filters={"label": test_label})} == {"exited"}
    page.on("dialog", lambda dialog: dialog.accept())
    page.check("#select-all")
    page.click("#bulk button[data-action=remove]")
    expect(page.locator("#empty")).to_be_visible()
    assert docker1.containers.list(all=True, filters={"label": test_label}) == []


def test_search_and_keys_pick_a_container(admin, dashboard, docker1, name, test_label, test_labels):
    for suffix in ("alpha", "beta"):
        docker1.containers.run("busybox", ["sleep", "300"], name=f"{name}-{suffix}",
                               labels=test_labels, detach=True)
    page = admin
    page.goto(f"{dashboard.url}/ui/containers?all=1&label={test_label}")
    expect(_rows(page)).to_have_count(2)
    page.keyboard.press("/")
    page.keyboard.type("beta")
    expect(_rows(page)).to_have_count(1)
    page.keyboard.press("Escape")
    expect(_rows(page)).to_have_count(2)
    page.click("th[data-sort=name]")  # ascending by name: alpha first
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("#selected-count")).to_have_text("1 selected")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(f"{name}-alpha")


def test_logs_follow_a_container_while_it_prints(admin, dashboard, docker1, name):
    script = "i=0; while true; do i=$((i+1)); echo line $i; echo oops $i >&2; sleep 0.05; done"
    container = docker1.containers.run("busybox", ["sh", "-c", script], name=name, detach=True)
    page = admin
    page.goto(f"{dashboard.url}/ui/hosts/test1/containers/{container.id}#logs")
    log = page.locator("#log")
    expect(log).to_contain_text("line 3")
    # Still following: lines printed after the page opened keep arriving.
    expect(log).to_contain_text("line 60", timeout=20_000)
    expect(log.locator(".err").first).to_contain_text("oops")
    page.fill("#log-search", "oops 4")
    expect(log.locator("mark").first).to_have_text("oops 4")
    page.uncheck("#log-controls input[name=stderr]")  # restarts the stream without stderr
    expect(log.locator(".out").first).to_be_visible()
    expect(log.locator(".err")).to_have_count(0)
    page.click("#log-pause")
    count = page.evaluate("window.dockgateLogs.drawn")
    page.wait_for_timeout(600)
    assert page.evaluate("window.dockgateLogs.drawn") == count  # paused: nothing drawn...
    assert page.evaluate("window.dockgateLogs.received") > count  # ...while lines still come
    with page.expect_download() as download:
        page.click("#log-download")
    saved = download.value
    assert saved.suggested_filename == f"test1-{container.id}.log"
    text = Path(saved.path()).read_text()
    assert "line 1\n" in text and "oops" not in text  # as shown: stderr is off


def test_processes_and_lifecycle_from_the_container_page(admin, dashboard, docker1, name, stoppable):
    container = docker1.containers.run("busybox", stoppable, name=name, detach=True)
    page = admin
    page.goto(f"{dashboard.url}/ui/hosts/test1/containers/{name}#top")
    expect(page.locator("#top tbody")).to_contain_text("sleep 1")
    expect(page.locator("#actions button[data-action=start]")).to_be_hidden()
    page.click("#actions button[data-action=stop]")
    expect(page.locator("#state")).to_have_text("exited")
    container.reload()
    assert container.status == "exited"
    expect(page.locator("#actions button[data-action=start]")).to_be_visible()
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#actions button[data-action=remove]")
    expect(page).to_have_url(re.compile(r"/ui/containers"))
    with pytest.raises(docker.errors.NotFound):
        docker1.containers.get(container.id)


def test_inspect_sections_and_raw_json(admin, dashboard, docker1, name):
    docker1.containers.run("busybox", ["sleep", "300"], name=name, detach=True,
                           environment={"MODE": "demo", "API_TOKEN": "s3cret"}, labels={"team": "web"})
    page = admin
    page.goto(f"{dashboard.url}/ui/hosts/test1/containers/{name}")
    env = page.locator("table.env")
    expect(env).to_contain_text("MODE")
    expect(env).to_contain_text("demo")
    secret = env.get_by_text("s3cret")
    expect(secret).to_be_hidden()  # until asked for
    env.locator("tr", has_text="API_TOKEN").locator("summary").click()
    expect(secret).to_be_visible()
    expect(page.locator("#tab-overview")).to_contain_text("team")
    page.click(".tabs a[href='#raw']")
    expect(page.locator("pre.json")).to_contain_text('"Name": "/' + name)


def test_an_unknown_container_is_a_clear_page(admin, dashboard):
    admin.goto(f"{dashboard.url}/ui/hosts/test1/containers/no-such-thing")
    expect(admin.locator("main .error")).to_have_text("There is no container 'no-such-thing' on test1.")
