"""A container's Console tab (a terminal on ``docker exec -it``, through the gateway) and its Stats
tab (live charts), in a real browser against real engines."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

from playwright.sync_api import Page, expect


def busybox(docker1, name: str, script: str = "sleep 300"):
    return docker1.containers.run("busybox", ["sh", "-c", script], name=name, detach=True)


def open_console(page: Page, url: str, name: str, cmd: str = "sh") -> None:
    """The container's Console tab with ``cmd`` started in its terminal, which has the keyboard."""
    page.goto(f"{url}/ui/hosts/test1/containers/{name}#exec")
    page.fill("#exec-controls input[name=cmd]", cmd)
    page.click("#exec-start")
    expect(page.locator("#exec-status")).to_have_text(f"running {cmd}")
    page.click("#terminal")


def type_line(page: Page, line: str) -> None:
    page.keyboard.type(line)
    page.keyboard.press("Enter")


def processes(container) -> str:
    return "\n".join(" ".join(p) for p in container.top()["Processes"])


def wait_until(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_console_runs_a_shell_in_the_container(admin, dashboard, docker1, name):
    busybox(docker1, name)
    open_console(admin, dashboard.url, name)
    type_line(admin, "echo hello-$((6*7))")
    # The typed line shows the unexpanded text: only the shell's output has 42 in it.
    expect(admin.locator("#terminal .xterm-rows")).to_contain_text("hello-42")
    expect(admin.locator("#exec-start")).to_have_text("Stop")


def test_the_process_s_exit_code_is_shown_when_it_ends(admin, dashboard, docker1, name):
    busybox(docker1, name)
    open_console(admin, dashboard.url, name)
    type_line(admin, "exit 3")
    expect(admin.locator("#exec-status")).to_have_text("exited with code 3")
    expect(admin.locator("#terminal .xterm-rows")).to_contain_text("[exited with code 3]")
    expect(admin.locator("#exec-start")).to_have_text("Start")


def test_the_command_line_is_split_like_a_shell_s_and_runs_as_the_user_given(admin, dashboard, docker1, name):
    busybox(docker1, name)
    admin.goto(f"{dashboard.url}/ui/hosts/test1/containers/{name}#exec")
    admin.fill("#exec-controls input[name=cmd]", "sh -c 'echo \"uid=$(id -u)\"; exit 5'")
    admin.fill("#exec-controls input[name=user]", "1000")
    admin.click("#exec-start")
    expect(admin.locator("#exec-status")).to_have_text("exited with code 5")
    expect(admin.locator("#terminal .xterm-rows")).to_contain_text("uid=1000")


def test_the_terminal_s_size_reaches_the_process_at_start_and_on_resize(admin, dashboard, docker1, name):
    busybox(docker1, name)
    open_console(admin, dashboard.url, name)
    rows, cols = admin.evaluate("[dockgateTerminal.rows, dockgateTerminal.cols]")
    type_line(admin, "stty size")
    expect(admin.locator("#terminal .xterm-rows")).to_contain_text(f"{rows} {cols}")
    admin.set_viewport_size({"width": 1000, "height": 700})
    admin.wait_for_function("cols => dockgateTerminal.cols !== cols", arg=cols)
    rows, cols = admin.evaluate("[dockgateTerminal.rows, dockgateTerminal.cols]")
    type_line(admin, "clear; stty size")
    expect(admin.locator("#terminal .xterm-rows")).to_contain_text(f"{rows} {cols}")


def test_leaving_the_page_ends_the_shell_and_what_runs_in_it(dashboard, docker1, name):
    # The engine would leave them running: it never hangs up an exec's terminal.
    container = busybox(docker1, name)
    page = dashboard.sign_in("tester")
    open_console(page, dashboard.url, name)
    type_line(page, "sleep 4242")
    wait_until(lambda: "sleep 4242" in processes(container))
    container.reload()
    [exec_id] = container.attrs["ExecIDs"]
    page.context.close()
    wait_until(lambda: not docker1.api.exec_inspect(exec_id)["Running"])
    assert "sleep 4242" not in processes(container)


def test_a_container_that_is_not_running_is_a_clear_error(admin, dashboard, docker1, name):
    docker1.containers.create("busybox", ["true"], name=name)
    admin.goto(f"{dashboard.url}/ui/hosts/test1/containers/{name}#exec")
    admin.click("#exec-start")
    expect(admin.locator("#exec-status")).to_contain_text("error:")
    expect(admin.locator("#exec-status")).to_contain_text("is not running")


def test_stats_show_the_cpu_of_a_busy_container_and_stop_when_the_tab_is_left(admin, dashboard, docker1,
                                                                            name):
    busybox(docker1, name, "while :; do :; done")
    admin.goto(f"{dashboard.url}/ui/hosts/test1/containers/{name}#stats")
    cpu = admin.locator("#stats-cpu")
    expect(cpu).to_have_text(re.compile(r"^used \d+\.\d %$"))
    # One busy core: near 100 %; other suites share the CPUs, hence a loose bound.
    assert float(cpu.inner_text().split()[1]) > 5, cpu.inner_text()
    memory = re.compile(r"^used [\d.]+ [KMG]?B of [\d.]+ [KMGT]?B")
    expect(admin.locator("#stats-memory")).to_have_text(memory)
    expect(admin.locator("#stats-network")).to_contain_text("in ")
    expect(admin.locator("#stats-block")).to_contain_text("read ")
    status = admin.locator("#stats-status")
    expect(status).to_contain_text("live")
    admin.click("nav.tabs a[href='#overview']")
    left = status.inner_text()
    admin.wait_for_timeout(2500)  # a few samples' time: the status names each sample's time
    assert status.inner_text() == left
    admin.click("nav.tabs a[href='#stats']")
    expect(status).not_to_have_text(left)


def test_a_viewer_has_no_console_and_a_hand_made_one_is_refused_and_audited(dashboard, docker1, dockgate,
                                                                           name):
    container = busybox(docker1, name)
    page = dashboard.sign_in("vic", then=f"/ui/hosts/test1/containers/{name}")
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator(".tabs")).not_to_contain_text("Console")
    expect(page.locator("#tab-exec")).to_have_count(0)
    opened = """async ([id, withCsrf]) => new Promise((resolve) => {
        const csrf = document.querySelector('meta[name=csrf-token]').content;
        const ws = new WebSocket(`ws://${location.host}/ui/api/hosts/test1/containers/${id}/exec?cmd=id` +
                                 (withCsrf ? `&csrf=${csrf}` : ""));
        const got = {opened: false, messages: []};
        ws.onopen = () => { got.opened = true; };
        ws.onmessage = (e) => got.messages.push(e.data);
        ws.onclose = () => resolve(got);
    })"""
    # With the page's own CSRF token it reaches the gateway, whose role check refuses the exec.
    refused = page.evaluate(opened, [container.id, True])
    assert refused["opened"], refused
    [message] = refused["messages"]
    assert "may not ContainerExec" in json.loads(message)["error"], message
    # Without the token the dashboard does not even open the socket.
    assert page.evaluate(opened, [container.id, False]) == {"opened": False, "messages": []}
    page.context.close()
    container.reload()
    assert not container.attrs["ExecIDs"]
    audit = dockgate("audit", "--user", "vic", "--operation", "ContainerExec", "--since", "5m")
    assert "deny" in audit.stdout and "(dashboard)" in audit.stdout, audit.stdout
