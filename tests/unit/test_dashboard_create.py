"""The create page's form and JSON view: the same body as ``dockgate create`` from the same values,
errors beside the field they concern, JSON split into what the form shows and what stays JSON, and
the gateway's refusals traced to their field."""

from __future__ import annotations

import json

import pytest
from tests.seed import SEED_BODY

from dockgate.access.body import parse_body
from dockgate.access.policy import PolicySettings, evaluate
from dockgate.dashboard.create_form import (
    CreateForm,
    FieldError,
    body_of,
    check_name,
    refused_field,
    split_body,
)
from dockgate.engines.container_spec import DEFAULTS, CreateFlags, build_body

FULL_FORM = CreateForm(
    image="busybox", command='sh -c "echo hi"', env="A=1\nB=two words\n\n", labels="tier=web\nbare=",
    ports="8080:80\n127.0.0.1:8443:443/tcp\n53/udp\n[::1]:9000:90",
    volumes="data:/data:ro\n/srv:/srv\n/scratch", restart="on-failure", retries="3", memory="256m",
    cpus="0.5")



def test_the_form_makes_the_body_dockgate_create_makes_from_the_same_values():
    flags = CreateFlags(
        image="busybox", command=["sh", "-c", "echo hi"], env=["A=1", "B=two words"],
        labels=["tier=web", "bare="],
        publish=["8080:80", "127.0.0.1:8443:443/tcp", "53/udp", "[::1]:9000:90"],
        volumes=["data:/data:ro", "/srv:/srv", "/scratch"], restart="on-failure:3", memory="256m", cpus="0.5")
    body = body_of(FULL_FORM)
    assert body == build_body(flags)
    assert body["HostConfig"]["PortBindings"]["443/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": "8443"}]
    assert body["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert (body["HostConfig"]["Memory"], body["HostConfig"]["NanoCpus"]) == (256 * 1024**2, 500_000_000)
    assert body["AttachStdout"] is True and body["Tty"] is False  # docker run's defaults


@pytest.mark.parametrize(("form", "field", "message"), [
    (CreateForm(image="busybox", ports="8080:xx"), "ports", "'8080:xx': 'xx' is not a port or a port"),
    (CreateForm(image="busybox", ports="70000:80"), "ports", "port 70000 is out of range"),
    (CreateForm(image="busybox", volumes="./rel:/data"), "volumes", "'./rel' is neither an absolute"),
    (CreateForm(image="busybox", env="=x"), "env", "no variable name before '='"),
    (CreateForm(image="busybox", labels="=v"), "labels", "'=v' is not key=value"),
    (CreateForm(image="busybox", restart="sometimes"), "restart", "'sometimes' is not one of"),
    (CreateForm(image="busybox", restart="on-failure", retries="x"), "restart", "retry count must be"),
    (CreateForm(image="busybox", memory="lots"), "memory", "'lots' is not a size"),
    (CreateForm(image="busybox", cpus="0"), "cpus", "'0' must be a number greater than 0"),
    (CreateForm(image="busybox", command='sh -c "echo'), "command", "No closing quotation"),
    (CreateForm(image="has space"), "image", "'has space' is not an image reference"),
    (CreateForm(), "image", "no image given"),
])
def test_a_bad_value_is_refused_beside_its_field_without_the_cli_flag(form, field, message):
    with pytest.raises(FieldError) as exc:
        body_of(form)
    assert exc.value.field == field
    assert message in exc.value.message
    assert "invalid --" not in exc.value.message


def test_a_draft_may_lack_an_image_but_not_a_good_port():
    assert body_of(CreateForm(env="A=1"), draft=True) == {
        "AttachStdin": False, "AttachStdout": True, "AttachStderr": True, "Tty": False, "OpenStdin": False,
        "StdinOnce": False, "Env": ["A=1"]}
    with pytest.raises(FieldError, match="not a port"):
        body_of(CreateForm(ports="x"), draft=True)


def test_names_are_checked_as_the_engine_would():
    assert check_name("  ") is None
    assert check_name(" web-1 ") == "web-1"
    with pytest.raises(FieldError) as exc:
        check_name("a")
    assert exc.value.field == "name" and "'a' is not a valid container name" in exc.value.message


def test_the_form_on_top_of_json_extends_lists_and_matches_keys_as_the_engine_does():
    rest = {"image": "alpine", "Env": ["FROM_JSON=1"], "Hostname": "h",
            "HostConfig": {"CapAdd": ["NET_ADMIN"]}, "attachstdout": False}
    body = body_of(CreateForm(image="busybox", env="A=1", memory="1g"), rest)
    assert body["image"] == "busybox" and "Image" not in body  # no second spelling for the engine to pick
    assert body["Env"] == ["FROM_JSON=1", "A=1"]
    assert body["HostConfig"] == {"CapAdd": ["NET_ADMIN"], "Memory": 1024**3}
    assert body["attachstdout"] is False and "AttachStdout" not in body
    assert rest["Env"] == ["FROM_JSON=1"]  # the page's copy is left alone


def test_json_of_the_wrong_shape_under_the_form_is_the_jsons_fault():
    with pytest.raises(FieldError) as exc:
        body_of(CreateForm(image="busybox", env="A=1"), {"Env": "A=1"})
    assert (exc.value.field, exc.value.message) == ("json", "Env must be a list, not a string")


def test_a_body_the_form_made_fills_the_form_back_whole():
    split = split_body(body_of(FULL_FORM))
    assert split.rest == {} and split.rest_fields() == []
    assert split.form == CreateForm(
        image="busybox", command="sh -c 'echo hi'", env="A=1\nB=two words", labels="tier=web\nbare=",
        ports="8080:80\n127.0.0.1:8443:443\n53/udp\n[::1]:9000:90",
        volumes="data:/data:ro\n/srv:/srv\n/scratch", restart="on-failure", retries="3", memory="256m",
        cpus="0.5")


def test_the_seeds_body_shows_what_the_form_knows_and_keeps_the_rest_as_written():
    split = split_body(SEED_BODY)
    form = split.form
    assert (form.image, form.command, form.env) == ("busybox", "date", "FOO=bar\nBAZ=quux")
    assert form.volumes == "/tmp:/tmp\n/volumes/data"
    assert form.labels.splitlines()[0] == "com.example.vendor=Acme"
    assert (form.restart, form.retries) == ("no", "")
    # Ports without HostIp, and Memory 0, are not what the form would write: they stay JSON, as given.
    assert form.ports == "" and form.memory == ""
    assert split.rest["HostConfig"]["PortBindings"] == {"22/tcp": [{"HostPort": "11022"}]}
    assert split.rest["ExposedPorts"] == {"22/tcp": {}}
    assert "Image" not in split.rest and "Binds" not in split.rest["HostConfig"]
    assert "AttachStdout" not in split.rest  # docker run's default: the form sends it anyway
    assert {"Hostname", "MacAddress", "HostConfig.CapAdd", "HostConfig.Memory",
            "HostConfig.PortBindings"} <= set(split.rest_fields())


@pytest.mark.parametrize("body", [
    SEED_BODY,
    {"Image": "busybox"},
    {"Image": "busybox", "Tty": True, "Env": ["A=1\nB=2"], "Labels": {"a": "1", "b=c": "2"}},
    {"Image": "busybox", "Cmd": [], "Env": [], "HostConfig": {"Binds": [], "Memory": 512, "NanoCpus": 1}},
    {"Image": "busybox", "HostConfig": {"RestartPolicy": {"Name": "always"}, "PortBindings": {"80/tcp": []}}},
    {"Image": "busybox", "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/a": {"x": 1}}},
    {"image": "busybox", "Cmd": "date", "Labels": None},
    {"Image": "busybox", "HostConfig": {}},
    {"Image": "busybox", "AttachStdout": 1, "StdinOnce": False},
])
def test_any_body_survives_the_trip_through_the_form_with_only_docker_runs_defaults_added(body):
    split = split_body(body)
    given = {key.lower() for key in body}
    defaults = {key: value for key, value in DEFAULTS.items() if key.lower() not in given}
    assert body_of(split.form, split.rest, draft=True) == {**defaults, **body}
    json.dumps(split.json())  # what the page gets


def test_a_body_the_form_could_not_carry_back_stays_in_the_json_view():
    with pytest.raises(FieldError) as exc:
        split_body({"Image": "busybox", "HostConfig": "not an object"})
    assert (exc.value.field, exc.value.message) == ("json", "HostConfig must be an object, not a string")


def test_sizes_and_cpus_are_shown_as_a_person_writes_them():
    form = split_body({"Image": "i", "HostConfig": {"Memory": 3 * 1024**3 // 2, "NanoCpus": 2 * 10**9}}).form
    assert (form.memory, form.cpus) == ("1536m", "2")


def test_the_form_refuses_what_is_not_its_own():
    form = CreateForm.from_json({"image": "busybox", "ports": "80"})
    assert form == CreateForm(image="busybox", ports="80")
    for bad in ({"image": 1}, {"privileged": "true"}, ["busybox"]):
        with pytest.raises(FieldError):
            CreateForm.from_json(bad)


def _denial(body: dict, **settings) -> str:
    parsed = parse_body(json.dumps(body).encode())
    result = evaluate("ContainerCreate", parsed, {}, PolicySettings(**settings))
    assert result.denial is not None
    return result.denial.message


@pytest.mark.parametrize(("body", "settings", "expected"), [
    ({"Image": "b", "HostConfig": {"Binds": ["/:/host"]}}, {}, ("volumes", "HostConfig.Binds")),
    ({"Image": "b", "HostConfig": {"Mounts": [{"Type": "bind", "Source": "/", "Target": "/h"}]}}, {},
     ("volumes", "HostConfig.Mounts")),
    ({"Image": "b", "Binds": ["/etc:/etc"]}, {"allow_unknown_fields": True}, ("volumes", "Binds")),
    ({"Image": "b", "HostConfig": {"Privileged": True}}, {}, (None, "HostConfig.Privileged")),
    ({"Image": "b"}, {"require_limits": ["memory"]}, ("memory", "HostConfig.Memory")),
    ({"Image": "b", "HostConfig": {"Memory": 1}}, {"require_limits": ["cpu"]},
     ("cpus", "HostConfig.NanoCpus")),
    ({"Image": "busybox"}, {"allowed_images": ["alpine"]}, ("image", "Image")),
])
def test_a_policy_refusal_is_traced_to_the_field_it_names(body, settings, expected):
    assert refused_field(_denial(body, **settings)) == expected


def test_refusals_that_name_no_field_stay_general():
    assert refused_field("user olga (operator on test1) may not ContainerCreate") == (None, None)
