"""Label scopes end to end: pat (operator@test1:team=payments) sees, touches and hears about only
the containers labelled team=payments, and a foreign one looks like none at all."""

from __future__ import annotations

import json
import time

import docker
import pytest
from tests.integration.access_checks import make_person, py, raw


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


def run(client: docker.DockerClient, name: str, test_id: str, **labels: str):
    return client.containers.run("busybox", ["sleep", "300"], name=name, detach=True,
                                 labels={"dockgate.test": test_id, **labels})


@pytest.fixture
def mixed(docker1, name, test_id):
    """Two payments containers, then (newest) a web one and an unlabelled one, made on the engine."""
    mine = [run(docker1, f"{name}-pay{i}", test_id, team="payments") for i in (1, 2)]
    web = run(docker1, f"{name}-web", test_id, team="web")
    bare = run(docker1, f"{name}-bare", test_id)
    return mine, web, bare


def test_ps_shows_only_the_scope_and_limit_counts_only_it(cli_env, gateway, dockgate, docker1, name, test_id,
                                                          tmp_path):
    # A scope of this test's own, so that other suites' containers cannot be the newest in it.
    scope = f"t{test_id}"
    user, _ = make_person(cli_env, gateway, tmp_path, f"scoped-{test_id}", f"operator@test1:team={scope}")
    for suffix, team in (("in1", scope), ("in2", scope), ("out1", "payments"), ("out2", None)):
        run(docker1, f"{name}-{suffix}", test_id, **({"team": team} if team else {}))
    listed = ok(user.docker("ps", "-a", "--format", "{{.Names}}")).stdout.split()
    assert sorted(listed) == [f"{name}-in1", f"{name}-in2"]
    # The two newest containers are outside the scope: limit still counts what the user may see.
    newest = ok(user.docker("ps", "-a", "--last", "1", "--format", "{{.Names}}")).stdout.split()
    assert newest == [f"{name}-in2"]
    client = py(user)
    try:
        assert [c.name for c in client.containers.list(all=True, limit=1)] == [f"{name}-in2"]
        narrowed = client.containers.list(all=True, filters={"name": f"{name}-in1"})
        assert [c.name for c in narrowed] == [f"{name}-in1"]  # their own filters narrow further
    finally:
        client.close()
    admin = ok(gateway.docker("ps", "-a", "--filter", f"label=dockgate.test={test_id}", "--format",
                              "{{.Names}}")).stdout.split()
    assert len(admin) == 4  # the same list, unscoped
    assert dockgate("users", "rm", user.name).returncode == 0


FOREIGN_COMMANDS = [
    ["container", "inspect"], ["logs"], ["top"], ["exec", "{c}", "true"], ["attach", "--no-stdin"],
    ["stop", "-t", "1"], ["rm"], ["cp", "{c}:/etc/hostname", "-"], ["restart", "-t", "1"], ["diff"],
    ["port"], ["kill"],
]


def test_a_foreign_container_is_no_such_container_and_stays_untouched(people, mixed, docker1):
    _, web, bare = mixed
    pat = people["pat"]
    started = {c.id: docker1.api.inspect_container(c.id)["State"]["StartedAt"] for c in (web, bare)}
    for foreign in (web, bare):
        for args in FOREIGN_COMMANDS:
            argv = [a.format(c=foreign.name) for a in args]
            if not any(foreign.name in a for a in argv):
                argv.append(foreign.name)
            result = pat.docker(*argv, timeout=30)
            assert result.returncode != 0 and "No such container" in result.stderr, (argv, result.stderr)
        again = docker1.containers.get(foreign.id)
        assert again.status == "running" and again.attrs["ExecIDs"] is None
        assert again.attrs["State"]["StartedAt"] == started[foreign.id]  # not restarted


def test_docker_py_gets_not_found_for_a_foreign_container(people, mixed):
    mine, web, _ = mixed
    client = py(people["pat"])
    try:
        assert client.containers.get(mine[0].id).name == mine[0].name
        for call in (lambda: client.containers.get(web.id), lambda: client.api.logs(web.id),
                     lambda: client.api.exec_create(web.id, ["true"]), lambda: client.api.kill(web.id),
                     lambda: client.api.get_archive(web.id, "/etc/hostname")):
            with pytest.raises(docker.errors.NotFound, match="No such container"):
                call()
    finally:
        client.close()


def test_an_id_prefix_or_name_of_a_foreign_container_is_just_as_unknown(people, mixed):
    _, web, _ = mixed
    for ref in (web.id, web.id[:12], web.name):
        answer = raw(people["pat"].gateway, "GET", f"/v1.41/containers/{ref}/json", token=people["pat"].token)
        assert (answer.status, answer.message) == (404, f"No such container: {ref}")


def test_containers_made_by_a_scoped_user_carry_the_scope_and_the_owner(people, docker1, name, test_id):
    pat = people["pat"]
    ok(pat.docker("run", "-d", "--name", name, "-l", "team=web", "-l", "dockgate.owner=olga", "-l",
                  f"dockgate.test={test_id}", "busybox", "sleep", "300"))
    labels = docker1.containers.get(name).labels
    assert labels == {"team": "payments", "dockgate.owner": "pat", "dockgate.test": test_id}
    assert ok(pat.docker("exec", name, "echo", "mine")).stdout == "mine\n"  # so pat still sees it
    client = py(pat)
    try:
        made = client.containers.create("busybox", ["true"], name=f"{name}-py", labels={"team": "web"})
        assert docker1.containers.get(made.id).labels == {"team": "payments", "dockgate.owner": "pat"}
        made.remove()
    finally:
        client.close()


def test_events_are_only_those_of_the_scope(people, docker1, name, test_id):
    since = time.time() - 1
    pay = run(docker1, f"{name}-pay", test_id, team="payments")
    web = run(docker1, f"{name}-web", test_id, team="web")
    until = time.time() + 1
    result = ok(people["pat"].docker("events", "--since", f"{since:.3f}", "--until", f"{until:.3f}",
                                     "--format", "{{json .}}", timeout=30))
    events = [json.loads(line) for line in result.out_lines]
    ids = {e.get("id") or e["Actor"]["ID"] for e in events}
    assert pay.id in ids and web.id not in ids
    assert all(e["Actor"]["Attributes"].get("team") == "payments" for e in events)
    # An admin hears both.
    admin = ok(people["pat"].gateway.docker("events", "--since", f"{since:.3f}", "--until", f"{until:.3f}",
                                            "--filter", f"label=dockgate.test={test_id}", "--format",
                                            "{{.Actor.ID}}", timeout=30))
    assert {pay.id, web.id} <= set(admin.out_lines)


def test_exec_ids_of_foreign_containers_are_unknown(people, mixed, docker1):
    mine, web, _ = mixed
    foreign = docker1.api.exec_create(web.id, ["sleep", "5"])["Id"]
    own = docker1.api.exec_create(mine[0].id, ["echo", "own"])["Id"]
    pat = people["pat"]
    for method, path, body in (("GET", f"/exec/{foreign}/json", None),
                               ("POST", f"/exec/{foreign}/start", b'{"Detach": true}'),
                               ("POST", f"/exec/{foreign}/resize?h=10&w=10", None),
                               ("GET", "/exec/0123456789abcdef/json", None)):
        answer = raw(pat.gateway, method, f"/v1.41{path}", token=pat.token, body=body)
        exec_id = path.split("/")[2].split("?")[0]
        assert (answer.status, answer.message) == (404, f"No such exec instance: {exec_id}")
    assert docker1.api.exec_inspect(foreign)["Running"] is False  # never started
    assert docker1.api.exec_inspect(foreign)["Pid"] == 0
    client = py(pat)
    try:
        assert client.api.exec_inspect(own)["ContainerID"] == mine[0].id
        assert client.api.exec_start(own) == b"own\n"
        with pytest.raises(docker.errors.NotFound, match="No such exec instance"):
            client.api.exec_inspect(foreign)
    finally:
        client.close()


def test_system_df_and_prune_are_refused_with_a_scope(people):
    pat = people["pat"]
    result = pat.docker("system", "df")
    assert result.returncode != 0
    assert "SystemDataUsage shows every container of test1: not available with a label scope" in result.stderr
    answer = raw(pat.gateway, "GET", "/v1.41/system/df", token=pat.token)
    assert answer.status == 403


def test_the_seed_since_and_before_cannot_probe_for_foreign_containers(gateway, people, mixed):
    """A foreign name in the v1.18 since/before gets the answer a missing one gets."""
    (pay1, _), web, _ = mixed
    token = people["pat"].token
    for param, ref in (("since", web.name), ("before", web.id[:12]), ("since", "dgt-nosuchcontainer")):
        answer = raw(gateway, "GET", f"/containers/json?all=1&{param}={ref}", token=token)
        assert answer.status == 400
        assert json.loads(answer.body)["message"] == f"invalid {param}: no such container: {ref}"
    assert raw(gateway, "GET", f"/containers/json?all=1&since={pay1.name}", token=token).status == 200


def test_a_network_shows_a_scoped_user_only_the_containers_of_the_scope(gateway, people, mixed):
    (pay1, pay2), web, bare = mixed
    answer = raw(gateway, "GET", "/networks/bridge", token=people["pat"].token)
    assert answer.status == 200
    attached = set(json.loads(answer.body)["Containers"])
    assert {pay1.id, pay2.id} <= attached
    assert not {web.id, bare.id} & attached
    admin = raw(gateway, "GET", "/networks/bridge", token=gateway.token)
    assert {web.id, bare.id} <= set(json.loads(admin.body)["Containers"])


def test_a_name_conflict_does_not_reveal_the_foreign_container(gateway, people, mixed):
    _, web, _ = mixed
    body = json.dumps({"Image": "busybox", "Cmd": ["true"]}).encode()
    answer = raw(gateway, "POST", f"/containers/create?name={web.name}", token=people["pat"].token, body=body)
    assert answer.status == 409
    message = json.loads(answer.body)["message"]
    assert web.name in message and web.id[:12] not in message
