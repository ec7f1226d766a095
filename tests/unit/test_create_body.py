"""Flags and --config bodies turned into create bodies, and every bad value refused by flag name."""

from __future__ import annotations

import pytest

from dockgate.cli.create_body import parse_config
from dockgate.engines.container_query import BadParameter
from dockgate.engines.container_spec import (
    CreateFlags,
    build_body,
    parse_cpus,
    parse_env,
    parse_env_file,
    parse_memory,
    parse_publish,
    parse_restart,
    parse_volume,
)


def test_flags_only_body_has_docker_cli_defaults_and_every_flag():
    body = build_body(CreateFlags(
        image="busybox", command=["sh", "-c", "exit 3"], env=["A=1"], labels=["k=v", "bare"],
        publish=["127.0.0.1:8080:80"], volumes=["data:/data:ro", "/anon"], restart="always",
        memory="256m", cpus="1.5", entrypoint="", workdir="/w", user="1000:1000", hostname="web.local",
        tty=True, interactive=True))
    assert body == {
        "AttachStdin": True, "AttachStdout": True, "AttachStderr": True, "Tty": True, "OpenStdin": True,
        "StdinOnce": False, "Image": "busybox", "Cmd": ["sh", "-c", "exit 3"], "Env": ["A=1"],
        "Labels": {"k": "v", "bare": ""}, "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/anon": {}},
        "Entrypoint": [""], "WorkingDir": "/w", "User": "1000:1000", "Hostname": "web.local",
        "HostConfig": {
            "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]},
            "Binds": ["data:/data:ro"], "RestartPolicy": {"Name": "always", "MaximumRetryCount": 0},
            "Memory": 268435456, "NanoCpus": 1500000000,
        },
    }


def test_config_body_is_extended_and_overridden_not_mutated():
    base = {"Image": "alpine", "Cmd": ["date"], "Env": ["FOO=bar"], "Labels": {"a": "1"},
            "HostConfig": {"Binds": ["/tmp:/tmp"], "Memory": 0,
                           "PortBindings": {"22/tcp": [{"HostPort": "1"}]}}}
    body = build_body(CreateFlags(image="busybox", env=["X=1"], labels=["b=2"], volumes=["/srv:/srv"],
                                  publish=["22"], memory="1g"), base)
    assert body["Image"] == "busybox" and body["Cmd"] == ["date"]
    assert body["Env"] == ["FOO=bar", "X=1"]
    assert body["Labels"] == {"a": "1", "b": "2"}
    assert body["HostConfig"]["Binds"] == ["/tmp:/tmp", "/srv:/srv"]
    assert body["HostConfig"]["PortBindings"]["22/tcp"] == [{"HostPort": "1"}, {"HostIp": "", "HostPort": ""}]
    assert body["HostConfig"]["Memory"] == 1024**3
    assert "AttachStdout" not in body  # the file's body is not filled with flag defaults
    assert base["Env"] == ["FOO=bar"] and base["HostConfig"]["Memory"] == 0


def test_config_keys_are_matched_case_insensitively_like_the_engine():
    body = build_body(CreateFlags(env=["X=1"], memory="1m"),
                      {"image": "busybox", "env": ["A=1"], "hostconfig": {"memory": 5}})
    assert body == {"image": "busybox", "env": ["A=1", "X=1"], "hostconfig": {"memory": 1048576}}


def test_env_without_value_takes_the_local_value_or_goes_bare():
    assert parse_env("HOME", {"HOME": "/root"}) == "HOME=/root"
    assert parse_env("UNSET", {}) == "UNSET"
    assert parse_env("A=b=c", {}) == "A=b=c"


def test_env_file_follows_docker_format():
    text = "# comment\n\n  A=1\nB= spaced value \nLOCAL\nMISSING\n"
    assert parse_env_file(text, "f.env", {"LOCAL": "x"}) == ["A=1", "B= spaced value ", "LOCAL=x"]


def test_env_files_come_before_env_flags():
    body = build_body(CreateFlags(image="i", env=["B=2"], env_files=[("f", "A=1\n")]))
    assert body["Env"] == ["A=1", "B=2"]


@pytest.mark.parametrize(("spec", "expected"), [
    ("80", [("80/tcp", {"HostIp": "", "HostPort": ""})]),
    ("53/udp", [("53/udp", {"HostIp": "", "HostPort": ""})]),
    ("8080:80", [("80/tcp", {"HostIp": "", "HostPort": "8080"})]),
    ("127.0.0.1::80", [("80/tcp", {"HostIp": "127.0.0.1", "HostPort": ""})]),
    ("[::1]:8080:80/sctp", [("80/sctp", {"HostIp": "::1", "HostPort": "8080"})]),
    ("8000-8001:80-81", [("80/tcp", {"HostIp": "", "HostPort": "8000"}),
                         ("81/tcp", {"HostIp": "", "HostPort": "8001"})]),
    ("9000-9010:80", [("80/tcp", {"HostIp": "", "HostPort": "9000-9010"})]),
    ("80-81", [("80/tcp", {"HostIp": "", "HostPort": ""}), ("81/tcp", {"HostIp": "", "HostPort": ""})]),
])
def test_publish_forms(spec, expected):
    assert parse_publish(spec) == expected


@pytest.mark.parametrize(("spec", "why"), [
    ("http", "'http' is not a port"),
    ("0", "port 0 is out of range"),
    ("70000", "port 70000 is out of range"),
    ("80/icmp", "unknown protocol 'icmp'"),
    ("1.2.3:80:80", "'1.2.3' is not an IP address"),
    ("::1:80:80", "too many ':'"),
    ("8080:", "no container port"),
    ("8000-8002:80-81", "ranges differ in size"),
    ("81-80", "ends before it starts"),
])
def test_publish_rejects(spec, why):
    with pytest.raises(BadParameter, match="invalid --publish") as exc:
        parse_publish(spec)
    assert why in str(exc.value)


@pytest.mark.parametrize(("spec", "expected"), [
    ("/data", (None, "/data")),
    ("vol:/data", ("vol:/data", None)),
    ("/host/dir:/data:ro", ("/host/dir:/data:ro", None)),
    ("vol:/data:rw,nocopy", ("vol:/data:rw,nocopy", None)),
    ("/h:/c:ro,Z,rslave", ("/h:/c:ro,Z,rslave", None)),
])
def test_volume_forms(spec, expected):
    assert parse_volume(spec) == expected


@pytest.mark.parametrize(("spec", "why"), [
    ("data", "container path 'data' is not absolute"),
    ("./rel:/data", "'./rel' is neither an absolute host path nor a volume name"),
    ("vol:data", "container path 'data' is not absolute"),
    ("vol:/", "cannot be '/'"),
    ("vol:/data:rx", "unknown option 'rx'"),
    ("vol:/data:ro,rw", "conflicting options"),
    ("a:/b:ro:x", "expected 1 to 3"),
    ("vol::ro", "expected 1 to 3"),
])
def test_volume_rejects(spec, why):
    with pytest.raises(BadParameter, match="invalid --volume") as exc:
        parse_volume(spec)
    assert why in str(exc.value)


@pytest.mark.parametrize(("text", "expected"), [
    ("no", {"Name": "", "MaximumRetryCount": 0}),
    ("always", {"Name": "always", "MaximumRetryCount": 0}),
    ("unless-stopped", {"Name": "unless-stopped", "MaximumRetryCount": 0}),
    ("on-failure", {"Name": "on-failure", "MaximumRetryCount": 0}),
    ("on-failure:5", {"Name": "on-failure", "MaximumRetryCount": 5}),
])
def test_restart_policies(text, expected):
    assert parse_restart(text) == expected


@pytest.mark.parametrize("text", ["sometimes", "always:3", "on-failure:x", "on-failure:-1", ""])
def test_restart_rejects(text):
    with pytest.raises(BadParameter, match="invalid --restart"):
        parse_restart(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("512", 512), ("256m", 256 * 1024**2), ("1g", 1024**3), ("1G", 1024**3), ("1.5g", 3 * 1024**3 // 2),
    ("64MiB", 64 * 1024**2), ("100kb", 102400),
])
def test_memory_sizes(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.parametrize("text", ["lots", "-1g", "1x", "1 g b", ""])
def test_memory_rejects(text):
    with pytest.raises(BadParameter, match="invalid --memory"):
        parse_memory(text)


@pytest.mark.parametrize(("text", "expected"), [("1", 10**9), ("0.5", 5 * 10**8), ("1.000000001", 10**9 + 1)])
def test_cpus(text, expected):
    assert parse_cpus(text) == expected


@pytest.mark.parametrize(("text", "why"), [
    ("two", "not a number"), ("0", "greater than 0"), ("-1", "greater than 0"), ("nan", "greater than 0"),
    ("inf", "greater than 0"), ("0.0000000001", "too precise"),
])
def test_cpus_rejects(text, why):
    with pytest.raises(BadParameter, match="invalid --cpus") as exc:
        parse_cpus(text)
    assert why in str(exc.value)


@pytest.mark.parametrize(("flags", "message"), [
    (CreateFlags(image="i", name="a"), "invalid --name: 'a' is not a valid container name"),
    (CreateFlags(image="i", name="bad name"), "invalid --name"),
    (CreateFlags(image="i", env=["=x"]), "invalid --env"),
    (CreateFlags(image="i", env=["A B=1"]), "invalid --env"),
    (CreateFlags(image="i", env_files=[("f.env", "ok=1\nBAD KEY=2\n")]), "'f.env line 2'"),
    (CreateFlags(image="i", labels=["=v"]), "invalid --label"),
    (CreateFlags(image="i", workdir="rel"), "invalid --workdir: 'rel' is not an absolute path"),
    (CreateFlags(image="i", user=""), "invalid --user"),
    (CreateFlags(image="i", hostname="-bad-"), "invalid --hostname"),
    (CreateFlags(image="i", hostname="a" * 65), "invalid --hostname"),
    (CreateFlags(image="has space"), "invalid IMAGE"),
    (CreateFlags(), "invalid IMAGE: no image given"),
])
def test_bad_flags_name_the_flag(flags, message):
    with pytest.raises(BadParameter) as exc:
        build_body(flags)
    assert message in str(exc.value)


@pytest.mark.parametrize(("base", "message"), [
    ({"Image": "i", "Env": "A=1"}, "Env must be a list, not a string"),
    ({"Image": "i", "Labels": ["a"]}, "Labels must be an object, not a list"),
    ({"Image": "i", "HostConfig": []}, "HostConfig must be an object, not a list"),
    ({"Image": 5}, "no image given"),
])
def test_config_with_wrong_types_is_refused_when_flags_extend_it(base, message):
    with pytest.raises(BadParameter) as exc:
        build_body(CreateFlags(env=["X=1"], labels=["k=v"], memory="1m"), base)
    assert message in str(exc.value)


def test_parse_config_accepts_an_object_only():
    assert parse_config('{"Image": "busybox", "Cmd": null}', "f.json") == {"Image": "busybox", "Cmd": None}
    with pytest.raises(BadParameter, match=r"invalid --config: f.json is not valid JSON \(Expecting"):
        parse_config('{"Image": ', "f.json")
    with pytest.raises(BadParameter, match=r"must hold a JSON object .* not a list"):
        parse_config('["busybox"]', "f.json")
    with pytest.raises(BadParameter, match="key 'Image' is given twice"):
        parse_config('{"Image": "a", "HostConfig": {}, "Image": "b"}', "f.json")
