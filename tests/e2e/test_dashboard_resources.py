"""The images, networks, volumes and audit pages in a real browser, judged by docker-py on the engines.

Every object a test makes carries the test's own name or label, and the pages are filtered to it,
so suites sharing the engines never see (or prune) each other's objects.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import time
from datetime import datetime

import docker
import pytest
from playwright.sync_api import Page, expect

FORGE = """async ([url, body]) => {
    const r = await fetch(url, {method: "POST", body: JSON.stringify(body), headers: {
        "Content-Type": "application/json",
        "X-CSRF-Token": document.querySelector('meta[name=csrf-token]').content}});
    return [r.status, await r.text()];
}"""


@pytest.fixture
def network(docker1, name, test_labels):
    net = docker1.networks.create(f"{name}-net", driver="bridge", labels=test_labels)
    yield net
    with contextlib.suppress(docker.errors.NotFound):
        net.remove()


@pytest.fixture
def volume(docker1, name, test_labels):
    vol = docker1.volumes.create(f"{name}-vol", labels=test_labels)
    yield vol
    with contextlib.suppress(docker.errors.NotFound):
        vol.remove(force=True)


def rows(page: Page):
    return page.locator("#rows tbody tr")


def remove_selected(page: Page) -> None:
    """Press Remove for the selected rows and say yes to the page's question."""
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#remove-selected")


def test_images_lists_an_image_on_both_hosts_and_a_down_host_as_an_error_line(dashboard, admin, tagged):
    admin.goto(f"{dashboard.url}/ui/images?reference={tagged}")
    expect(rows(admin)).to_have_count(3)
    on_test2 = rows(admin).filter(has=admin.locator("td", has_text=re.compile(r"^test2$")))
    expect(on_test2).to_have_count(1)
    expect(on_test2).to_contain_text(tagged)
    expect(rows(admin).filter(has=admin.locator("td", has_text=re.compile(r"^test1$")))).to_have_count(2)
    # The host nobody answers on is one error line; the others listed all the same.
    expect(admin.locator("#host-errors .host-error")).to_have_count(1)
    expect(admin.locator("#host-errors")).to_contain_text("down:")


def test_removing_a_tag_from_the_page_untags_only_that_tag(dashboard, admin, docker1, tagged):
    admin.goto(f"{dashboard.url}/ui/images?reference={tagged}&host=test1")
    expect(rows(admin)).to_have_count(2)
    rows(admin).filter(has_text=f"{tagged}").filter(has_text="v1").locator("input[type=checkbox]").check()
    expect(admin.locator("#selected-count")).to_have_text("1 selected")
    remove_selected(admin)
    expect(admin.locator("#toasts .toast.ok")).to_contain_text(f"Removed {tagged}:v1 on test1: 1 untagged")
    expect(rows(admin)).to_have_count(1)
    with pytest.raises(docker.errors.ImageNotFound):
        docker1.images.get(f"{tagged}:v1")
    assert docker1.images.get(f"{tagged}:v2")
    assert docker1.images.get("busybox:latest")


def test_image_details_show_a_summary_and_the_raw_json(dashboard, admin, docker1, tagged):
    admin.goto(f"{dashboard.url}/ui/images?reference={tagged}&host=test1")
    rows(admin).filter(has_text="v2").locator(".inspect-link").click()
    panel = admin.locator("#inspect")
    expect(panel.locator("#inspect-title")).to_have_text(f"{tagged}:v2")
    expect(panel.locator("#inspect-facts")).to_contain_text(f"{tagged}:v1")
    image_id = docker1.images.get(f"{tagged}:v2").id
    expect(panel.locator("#inspect-raw")).to_contain_text(f'"Id": "{image_id}"')
    admin.keyboard.press("Escape")
    expect(panel).to_be_hidden()


def test_a_network_made_elsewhere_is_listed_then_removed_from_the_page(dashboard, admin, docker1, name,
                                                                       network, test_label):
    # A stopped container still holds its network: it is counted.
    user = docker1.containers.create("busybox", ["true"], name=name, network=network.name)
    admin.goto(f"{dashboard.url}/ui/networks?label={test_label}")
    expect(rows(admin)).to_have_count(1)
    row = rows(admin).first
    expect(row).to_contain_text(f"{name}-net")
    expect(row.locator("td").nth(3)).to_have_text("test1")
    expect(row.locator("td").nth(4)).to_have_text("bridge")
    expect(row.locator("td").nth(6)).to_have_text(network.attrs["IPAM"]["Config"][0]["Subnet"])
    expect(row.locator("td").nth(7)).to_have_text("1")
    user.remove()
    admin.keyboard.press("r")
    expect(row.locator("td").nth(7)).to_have_text("0")
    row.locator("input[type=checkbox]").check()
    remove_selected(admin)
    expect(rows(admin)).to_have_count(0)
    with pytest.raises(docker.errors.NotFound):
        docker1.networks.get(network.id)


def test_the_engines_own_networks_offer_no_remove(dashboard, admin):
    admin.goto(f"{dashboard.url}/ui/networks?host=test1&name=host")
    host_row = rows(admin).filter(has=admin.locator("td", has_text=re.compile(r"^host$")))
    expect(host_row).to_have_count(1)
    expect(host_row.locator("input[type=checkbox]")).to_have_count(0)


def test_a_volume_in_use_is_refused_beside_its_row_then_removed_once_free(dashboard, admin, docker1, name,
                                                                         volume, test_label):
    container = docker1.containers.create("busybox", ["true"], name=name,
                                          volumes={volume.name: {"bind": "/data"}})
    admin.goto(f"{dashboard.url}/ui/volumes?label={test_label}")
    expect(rows(admin)).to_have_count(1)
    expect(rows(admin).first).to_contain_text(name)  # in use by
    rows(admin).first.locator("input[type=checkbox]").check()
    remove_selected(admin)
    # The engine's refusal, as a toast and on the row it concerns; no stack trace anywhere.
    expect(admin.locator("#toasts .toast.error")).to_contain_text(f"Remove {volume.name} on test1:")
    expect(admin.locator("#toasts .toast.error")).to_contain_text("in use")
    expect(rows(admin).first.locator(".row-error")).to_contain_text("in use")
    assert docker1.volumes.get(volume.name)
    container.remove()
    admin.keyboard.press("r")
    expect(rows(admin).first).to_contain_text("none")
    rows(admin).first.locator("input[type=checkbox]").check()
    remove_selected(admin)
    expect(rows(admin)).to_have_count(0)
    with pytest.raises(docker.errors.NotFound):
        docker1.volumes.get(volume.name)


def test_volume_sizes_come_when_asked(dashboard, admin, docker1, volume, test_label):
    admin.goto(f"{dashboard.url}/ui/volumes?label={test_label}")
    expect(rows(admin)).to_have_count(1)
    expect(rows(admin).first.locator("td.size")).to_have_text("")
    admin.check("#query input[name=size]")
    expect(rows(admin).first.locator("td.size")).to_have_text("0 B")


def prune_everything_unused(page, host: str, label: str) -> None:
    """Prune every unused object with ``label`` on ``host`` from the page's prune form, confirmed."""
    page.click("#prune summary")
    prune = page.locator("#prune-form")
    prune.locator("select[name=host]").select_option(host)
    prune.locator("select[name=all]").select_option("1")
    prune.locator("input[name=label]").fill(label)
    page.once("dialog", lambda dialog: dialog.accept())
    prune.locator("button").click()


def test_pruning_volumes_with_a_label_removes_only_those_and_says_so(dashboard, admin, docker1, name,
                                                                     test_labels, test_label):
    made = [docker1.volumes.create(f"{name}-{i}", labels=test_labels) for i in range(2)]
    keep = docker1.volumes.create(f"{name}-keep")
    try:
        admin.goto(f"{dashboard.url}/ui/volumes?label={test_label}")
        expect(rows(admin)).to_have_count(2)
        prune_everything_unused(admin, "test1", test_label)
        expect(admin.locator("#prune-result")).to_contain_text("test1: 2 volumes removed")
        expect(admin.locator("#prune-result")).to_contain_text("reclaimed")
        expect(rows(admin)).to_have_count(0)
        for vol in made:
            with pytest.raises(docker.errors.NotFound):
                docker1.volumes.get(vol.name)
        assert docker1.volumes.get(keep.name)
    finally:
        for vol in [*made, keep]:
            with contextlib.suppress(docker.errors.NotFound):
                vol.remove()


def test_pruning_unused_images_with_a_label_says_what_went(dashboard, admin, docker1, test_id, test_label):
    dockerfile = io.BytesIO(f"FROM busybox:latest\nLABEL {test_label}\n".encode())
    image, _ = docker1.images.build(fileobj=dockerfile, tag=f"dgt-{test_id}/pruned:v1", rm=True)
    try:
        admin.goto(f"{dashboard.url}/ui/images?label={test_label}&host=test1")
        expect(rows(admin)).to_have_count(1)
        prune_everything_unused(admin, "test1", test_label)
        result = admin.locator("#prune-result")
        expect(result).to_contain_text(re.compile(r"test1: 1 untagged, [1-9]\d* deleted, .* reclaimed"))
        result.locator("summary").click()
        expect(result.locator("pre")).to_contain_text(f"untagged: dgt-{test_id}/pruned:v1")
        expect(rows(admin)).to_have_count(0)
        with pytest.raises(docker.errors.ImageNotFound):
            docker1.images.get(image.id)
        assert docker1.images.get("busybox:latest")
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker1.images.remove(image.id, force=True)


@pytest.mark.parametrize(("kind", "operation"), [
    ("images", "ImageDelete"), ("networks", "NetworkDelete"), ("volumes", "VolumeDelete")])
def test_a_viewer_is_offered_no_remove_or_prune_and_a_forged_one_is_refused(dashboard, docker1, request,
                                                                            test_label, kind, operation):
    if kind == "images":
        tagged = request.getfixturevalue("tagged")
        ref, filters, still_there = f"{tagged}:v1", f"reference={tagged}", docker1.images.get
    else:
        made = request.getfixturevalue(kind[:-1])
        ref, filters = made.id, f"label={test_label}"
        still_there = getattr(docker1, kind).get
    page = dashboard.sign_in("vic", then=f"/ui/{kind}?{filters}&host=test1")
    expect(rows(page).first).to_be_visible()
    expect(page.locator("#rows tbody input[type=checkbox]")).to_have_count(0)
    expect(page.locator("#prune")).to_be_hidden()
    rows(page).first.locator(".inspect-link").click()
    expect(page.locator("#inspect-facts")).not_to_be_empty()
    expect(page.locator("#inspect-remove")).to_be_hidden()
    # A hand-made call with the page's own CSRF token: the gateway's role check refuses it.
    status, body = page.evaluate(FORGE, [f"/ui/api/hosts/test1/{kind}/remove", {"ref": ref, "force": True}])
    assert status == 403, body
    assert f"user vic (viewer on test1) may not {operation}" in json.loads(body)["message"]
    prune = {"all": True, "label": test_label}
    status, body = page.evaluate(FORGE, [f"/ui/api/hosts/test1/{kind}/prune", prune])
    assert status == 403 and "may not" in body, body
    page.context.close()
    assert still_there(ref)


def test_an_operator_may_remove_images_but_is_not_offered_prune(dashboard, tagged):
    page = dashboard.sign_in("olga", then=f"/ui/images?reference={tagged}")
    # olga sees test1 only (operator there): both of its tags, each removable.
    expect(rows(page)).to_have_count(2)
    expect(page.locator("#rows tbody input[type=checkbox]")).to_have_count(2)
    expect(page.locator("#prune")).to_be_hidden()
    page.context.close()


def test_the_audit_log_shows_an_action_just_taken_and_filters_by_user(dashboard, admin, docker1, volume,
                                                                      test_label):
    admin.goto(f"{dashboard.url}/ui/volumes?label={test_label}")
    rows(admin).first.locator("input[type=checkbox]").check()
    remove_selected(admin)
    expect(rows(admin)).to_have_count(0)
    vic = dashboard.sign_in("vic")
    status, _ = vic.evaluate(FORGE, ["/ui/api/hosts/test1/networks/remove", {"ref": "bridge"}])
    assert status == 403
    vic.context.close()

    admin.goto(f"{dashboard.url}/ui/audit?user=tester&operation=VolumeDelete")
    newest = admin.locator("#records tbody tr.record").first
    expect(newest.locator("td.request")).to_contain_text(re.compile(rf"^DELETE \S*/volumes/{volume.name}"))
    expect(newest).to_contain_text("allow")
    expect(newest).to_contain_text("(dashboard)")
    expect(newest).to_contain_text("204")

    admin.fill("#query input[name=user]", "vic")
    admin.fill("#query input[name=operation]", "")
    record_rows = admin.locator("#records tbody tr.record")
    expect(record_rows.filter(has_text="NetworkDelete").first).to_contain_text("deny")
    users = record_rows.locator("td:nth-child(2)").all_inner_texts()
    assert users and set(users) == {"vic"}, users
    expect(admin).to_have_url(re.compile(r"user=vic"))

    # The export follows the filters: every line is one of vic's records.
    href = admin.locator("#export").get_attribute("href")
    assert href is not None and "user=vic" in href and "limit" not in href
    text = admin.evaluate("async (url) => (await fetch(url)).text()", href)
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines and {line["user"] for line in lines} == {"vic"}
    assert any(line["operation"] == "NetworkDelete" and line["decision"] == "deny" for line in lines)


def test_an_audit_record_shows_its_redacted_body(dashboard, admin, docker1, people, name):
    people["olga"].py("test1").containers.create("busybox", ["true"], name=name,
                                                 environment={"DB_PASSWORD": "hunter2", "MARK": name})
    admin.goto(f"{dashboard.url}/ui/audit?user=olga&operation=ContainerCreate")
    record = admin.locator("#records tbody tr.record").first
    expect(record).to_contain_text("POST /containers/create")
    expect(admin.locator("#records tbody tr.detail")).to_have_count(0)
    record.click()
    detail = admin.locator("#records tbody tr.detail")
    expect(detail).to_contain_text(f"MARK={name}")
    expect(detail).to_contain_text("DB_PASSWORD=***")
    expect(detail).not_to_contain_text("hunter2")


def test_load_more_brings_older_records_without_repeating_any(dashboard, admin, people):
    vic = people["vic"].py("test1")
    for _ in range(60):
        vic.api.version()
    deadline = time.monotonic() + 20  # reads are recorded in batches, after the fact
    while True:
        listed = admin.evaluate("async () => (await fetch('/ui/api/audit?user=vic&operation=SystemVersion"
                                "&limit=1000')).json()")
        if len(listed["records"]) >= 60 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    total = len(listed["records"])
    assert total >= 60
    admin.goto(f"{dashboard.url}/ui/audit?user=vic&operation=SystemVersion&limit=50")
    record_rows = admin.locator("#records tbody tr.record")
    expect(record_rows).to_have_count(50)
    admin.click("#more")
    expect(record_rows).to_have_count(min(total, 100))
    shown = record_rows.evaluate_all("rows => rows.map((r) => [r.dataset.id, r.cells[0].title])")
    ids = [int(i) for i, _ in shown]
    times = [datetime.fromisoformat(t) for _, t in shown]
    assert len(set(ids)) == len(ids) and times == sorted(times, reverse=True)


def test_a_viewer_is_refused_the_audit_log(dashboard):
    page = dashboard.sign_in("vic")
    response = page.goto(f"{dashboard.url}/ui/audit")
    assert response is not None and response.status == 403
    expect(page.locator("main")).to_contain_text("Only admins may read the audit log.")
    for path in ("/ui/api/audit", "/ui/api/audit/export"):
        answer = page.request.get(f"{dashboard.url}{path}")
        assert answer.status == 403, path
        assert "only admins" in answer.json()["message"]
    page.context.close()
