"""The events page: the engines' feeds merged, filtered, newest first."""

from __future__ import annotations

from playwright.sync_api import expect


def test_the_feed_shows_what_happens_on_each_host_and_filters_it(admin, dashboard, docker1, docker2,
                                                                  name):
    page = admin
    page.goto(f"{dashboard.url}/ui/events")
    page.select_option("#event-filters select[name=type]", "container")
    page.fill("#event-filters input[name=event]", "start")
    page.wait_for_timeout(1000)  # the filtered stream is open
    docker1.containers.run("busybox", ["true"], name=f"{name}-one", detach=True)
    docker2.containers.run("busybox", ["true"], name=f"{name}-two", detach=True)
    rows = page.locator("#events tbody tr")
    expect(rows.filter(has_text=f"{name}-one")).to_contain_text("test1")
    expect(rows.filter(has_text=f"{name}-two")).to_contain_text("test2")
    # Only starts: the containers' create and die events were filtered out by the engines.
    expect(rows.filter(has_text=f"{name}-one")).to_have_count(1)
    assert set(rows.locator("td:nth-child(4)").all_text_contents()) == {"start"}
    # The host that does not answer is named, and the others still stream.
    expect(page.locator("#host-errors")).to_contain_text("down")


def test_the_feed_replays_the_last_minutes(admin, dashboard, docker1, name):
    docker1.containers.run("busybox", ["true"], name=name, detach=True).wait()
    page = admin
    page.goto(f"{dashboard.url}/ui/events")
    page.fill("#event-filters input[name=container]", name)
    page.select_option("#event-filters select[name=since]", "10m")
    expect(page.locator("#events tbody tr").filter(has_text="die")).to_have_count(1)
    expect(page.locator("#events tbody tr").filter(has_text="create")).to_have_count(1)
