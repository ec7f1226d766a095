"""Creating containers from the dashboard, in a real browser, through the gateway, with docker-py on
the real engine as the judge of what was (and was not) created."""

from __future__ import annotations

import json
import re
import socket

from playwright.sync_api import Page, expect

from tests.conftest import container_exists
from tests.seed import SEED_BODY

CONTAINER_PAGE = re.compile(r"/ui/hosts/test1/containers/[0-9a-f]{64}$")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _field_error(page: Page, field: str):
    return page.locator(f'.field[data-field="{field}"] .field-error')


def _json_view(page: Page) -> dict:
    """Switch to the JSON view and read the body it shows."""
    page.click("#mode-json")
    expect(page.locator("#json-mode")).to_be_visible()
    return json.loads(page.locator("#f-json").input_value())


def _closed_without_script_errors(page: Page) -> None:
    errors = page.errors  # type: ignore[attr-defined]
    page.context.close()
    assert not errors, f"script errors on the page: {errors}"


def test_a_container_from_the_form_runs_with_its_settings(admin, dashboard, docker1, name, test_label):
    port = _free_port()
    page = admin
    page.goto(f"{dashboard.url}/ui/containers")
    page.click("#create-link")
    expect(page).to_have_url(re.compile(r"/ui/create$"))
    page.select_option("#f-host", "test1")
    page.fill("#f-name", f"{name}-x")
    page.fill("#f-image", "busybox")
    page.fill("#f-command", 'sh -c "sleep 300"')
    page.fill("#f-env", "GREETING=hello world\nMODE=test")
    page.fill("#f-ports", f"127.0.0.1:{port}:80")
    page.fill("#f-labels", f"{test_label}\ntier=web")
    page.select_option("#f-restart", "on-failure")
    page.fill("#f-retries", "2")
    page.fill("#f-memory", "64m")
    page.fill("#f-cpus", "0.5")
    expect(page.locator("#f-start")).to_be_checked()
    page.click("#create-button")
    # No warnings: straight to the new container's page.
    expect(page).to_have_url(CONTAINER_PAGE)
    expect(page.locator("h1")).to_have_text(f"{name}-x")
    info = docker1.api.inspect_container(f"{name}-x")
    config, host = info["Config"], info["HostConfig"]
    assert info["State"]["Running"]
    assert page.url.endswith(info["Id"])
    assert config["Cmd"] == ["sh", "-c", "sleep 300"]
    assert {"GREETING=hello world", "MODE=test"} <= set(config["Env"])
    key, value = test_label.split("=")
    assert config["Labels"][key] == value and config["Labels"]["tier"] == "web"
    assert host["PortBindings"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
    assert info["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"] == str(port)
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert (host["Memory"], host["NanoCpus"]) == (64 * 1024 * 1024, 500_000_000)


def test_a_container_from_the_seeds_json_body(admin, dashboard, docker1, name, test_label):
    key, value = test_label.split("=")
    body = json.loads(json.dumps(SEED_BODY))
    body["Labels"][key] = value
    page = admin
    page.goto(f"{dashboard.url}/ui/create")
    page.click("#mode-json")
    expect(page.locator("#json-mode")).to_be_visible()
    # Checked as it is typed, with where it goes wrong.
    page.fill("#f-json", '{\n  "Image": "busybox",\n  "Cmd": ["date"],\n}')
    expect(page.locator("#json-status")).to_have_text('Line 4, column 1: expected a "key" in double quotes')
    page.fill("#f-json", '{"Image": "busybox", "Image": "alpine"}')
    expect(page.locator("#json-status")).to_contain_text("Image is given twice")
    page.click("#create-button")
    expect(page.locator("#json-error")).to_contain_text("Fix the JSON first")
    assert not container_exists(docker1, name)

    page.fill("#f-json", json.dumps(body, indent=2))
    expect(page.locator("#json-status")).to_contain_text("valid JSON")
    page.fill("#f-name", name)
    page.uncheck("#f-start")
    page.click("#create-button")
    expect(page).to_have_url(CONTAINER_PAGE)
    info = docker1.api.inspect_container(name)
    config = info["Config"]
    assert config["Cmd"] == ["date"] and config["Image"] == "busybox"
    assert (config["Hostname"], config["Domainname"]) == ("seedhost", "example.org")
    assert config["Labels"]["com.example.vendor"] == "Acme"
    assert info["HostConfig"]["CapAdd"] == ["NET_ADMIN"] and info["HostConfig"]["CpuShares"] == 512
    assert info["State"]["Status"] == "created"


def test_the_engines_warnings_are_shown_with_a_link_to_the_container(admin, dashboard, docker1, name):
    page = admin
    page.goto(f"{dashboard.url}/ui/create#json")
    expect(page.locator("#json-mode")).to_be_visible()
    page.fill("#f-json", json.dumps({"Image": "busybox", "Cmd": ["true"], "HostConfig": {
        "NetworkMode": "host", "PortBindings": {"80/tcp": [{"HostPort": "18081"}]}}}))
    page.fill("#f-name", name)
    page.uncheck("#f-start")
    page.click("#create-button")
    result = page.locator("#result")
    expect(result).to_contain_text(f"Created {name} on test1")
    warnings = result.locator(".warnings")
    expect(warnings).to_have_text("Published ports are discarded when using host network mode")
    info = docker1.api.inspect_container(name)
    page.click("#created-link")
    expect(page).to_have_url(re.compile(rf"/ui/hosts/test1/containers/{info['Id']}$"))


def test_form_and_json_stay_in_step(admin, dashboard, docker1, name, test_label):
    page = admin
    page.goto(f"{dashboard.url}/ui/create")
    page.fill("#f-image", "busybox")
    page.fill("#f-env", "A=1")
    page.fill("#f-labels", test_label)
    page.fill("#f-volumes", "/scratch")
    page.select_option("#f-restart", "always")
    body = _json_view(page)
    key, value = test_label.split("=")
    assert body["Image"] == "busybox" and body["Env"] == ["A=1"] and body["Labels"] == {key: value}
    assert body["Volumes"] == {"/scratch": {}}
    assert body["HostConfig"] == {"RestartPolicy": {"Name": "always", "MaximumRetryCount": 0}}
    # What the form knows goes back into it; what it does not stays JSON, and the form says so.
    body["Env"] = ["A=2"]
    body["Hostname"] = "synced"
    body["HostConfig"]["CapDrop"] = ["MKNOD"]
    page.fill("#f-json", json.dumps(body, indent=2))
    page.click("#mode-form")
    expect(page.locator("#form-mode")).to_be_visible()
    expect(page.locator("#f-env")).to_have_value("A=2")
    expect(page.locator("#f-restart")).to_have_value("always")
    expect(page.locator("#rest")).to_be_visible()
    expect(page.locator("#rest-fields")).to_have_text("HostConfig.CapDrop, Hostname")  # in the body's order
    page.fill("#f-cpus", "0.25")
    page.fill("#f-name", name)
    page.uncheck("#f-start")
    page.click("#create-button")
    expect(page).to_have_url(CONTAINER_PAGE)
    info = docker1.api.inspect_container(name)
    assert info["Config"]["Hostname"] == "synced" and "A=2" in info["Config"]["Env"]
    assert info["HostConfig"]["CapDrop"] == ["MKNOD"] and info["HostConfig"]["NanoCpus"] == 250_000_000
    assert info["Config"]["Volumes"] == {"/scratch": {}}


def test_an_operators_host_bind_mount_is_refused_beside_the_volumes(dashboard, docker1, name, test_label):
    page = dashboard.sign_in("olga", then="/ui/create")
    expect(page.locator("#f-host option")).to_have_text(["test1"])  # the one host olga may create on
    page.fill("#f-name", name)
    page.fill("#f-image", "busybox")
    page.fill("#f-labels", test_label)
    page.fill("#f-volumes", "/:/host")
    page.click("#create-button")
    error = _field_error(page, "volumes")
    expect(error).to_contain_text('policy rule "no-bind-mounts" denies HostConfig.Binds[0]')
    expect(error).to_contain_text("allow_bind_mounts")
    expect(_field_error(page, "image")).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/ui/create$"))
    assert not container_exists(docker1, name)

    # In the JSON view, a refusal is shown above the editor.
    page.fill("#f-volumes", "")
    body = _json_view(page)
    body["HostConfig"] = {"Privileged": True}
    page.fill("#f-json", json.dumps(body))
    page.click("#create-button")
    refusal = page.locator("#json-error")
    expect(refusal).to_contain_text('policy rule "no-privileged" denies HostConfig.Privileged')
    assert not container_exists(docker1, name)
    _closed_without_script_errors(page)


def test_a_bad_port_is_shown_beside_the_ports_and_nothing_is_created(admin, dashboard, docker1, name):
    page = admin
    page.goto(f"{dashboard.url}/ui/create")
    page.fill("#f-name", name)
    page.fill("#f-image", "busybox")
    page.fill("#f-ports", "8080:80\n8080:xx")
    page.click("#create-button")
    error = _field_error(page, "ports")
    expect(error).to_have_text("'8080:xx': 'xx' is not a port or a port range "
                               "(format: [ip:][host_port:]container_port[/tcp|udp|sctp])")
    expect(page.locator('.field[data-field="ports"]')).to_have_class(re.compile("invalid"))
    expect(page).to_have_url(re.compile(r"/ui/create$"))
    assert not container_exists(docker1, name)
    # The same check keeps a bad form from turning into JSON.
    page.fill("#f-ports", "9090:yy")
    page.click("#mode-json")
    expect(error).to_contain_text("'9090:yy': 'yy' is not a port")
    expect(page.locator("#json-mode")).to_be_hidden()


def test_a_missing_image_is_named_beside_the_image_field(admin, dashboard, docker1, name):
    page = admin
    page.goto(f"{dashboard.url}/ui/create")
    expect(page.locator("#image-list option[value='busybox:latest']")).to_have_count(1)
    page.fill("#f-name", name)
    page.fill("#f-image", "busybox:dgt-no-such-tag")
    expect(page.locator("#image-hint")).to_contain_text("Not among the images on test1")
    page.click("#create-button")
    error = _field_error(page, "image")
    expect(error).to_contain_text("No such image: busybox:dgt-no-such-tag on test1")
    expect(error).to_contain_text("pull it first")
    expect(page.locator("#general-error")).to_be_hidden()
    assert not container_exists(docker1, name)


def test_a_viewer_is_offered_no_form(dashboard):
    page = dashboard.sign_in("vic", then="/ui/create")
    expect(page.locator("#not-allowed")).to_contain_text("None of your grants lets you create containers")
    expect(page.locator("#create")).to_have_count(0)
    _closed_without_script_errors(page)
