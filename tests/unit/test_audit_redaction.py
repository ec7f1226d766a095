"""What of a request body reaches the audit trail: everything but the secrets."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from dockgate.access.audit import AuditRecord, record_json, redact_body


def redacted(operation: str, body: object, patterns=None) -> object:
    raw = json.dumps(body).encode()
    text = redact_body(operation, raw) if patterns is None else redact_body(operation, raw, patterns)
    assert text is not None
    return json.loads(text)


def test_secret_looking_env_values_are_hidden_and_the_rest_kept():
    body = {"Image": "app", "Env": ["DB_PASSWORD=hunter2", "API_TOKEN=t0k", "AWS_SECRET_ACCESS_KEY=x",
                                    "GITHUB_AUTH=y", "CREDENTIALS_FILE=/c", "MODE=prod", "PATH=/bin",
                                    "EMPTY=", "PASSTHROUGH"]}
    assert redacted("ContainerCreate", body) == {"Image": "app", "Env": [
        "DB_PASSWORD=***", "API_TOKEN=***", "AWS_SECRET_ACCESS_KEY=***", "GITHUB_AUTH=***",
        "CREDENTIALS_FILE=***", "MODE=prod", "PATH=/bin", "EMPTY=", "PASSTHROUGH"]}


def test_only_the_name_decides_not_the_value():
    body = {"Env": ["GREETING=my password is hunter2", "db_pass=x=y"]}
    assert redacted("ContainerCreate", body) == {"Env": ["GREETING=my password is hunter2", "db_pass=***"]}


def test_env_is_found_in_any_spelling_and_at_any_depth():
    """The engine reads keys case-insensitively: ``env`` sets Env, so it must be redacted too."""
    body = {"env": ["PASSWORD=a"], "ENV": ["TOKEN=b"],
            "TaskTemplate": {"ContainerSpec": {"Env": ["SECRET=c", "X=1"]}}}
    assert redacted("ServiceCreate", body) == {
        "env": ["PASSWORD=***"], "ENV": ["TOKEN=***"],
        "TaskTemplate": {"ContainerSpec": {"Env": ["SECRET=***", "X=1"]}}}


def test_exec_env_is_redacted():
    assert redacted("ContainerExec", {"Cmd": ["sh"], "Env": ["MYSQL_ROOT_PASSWORD=r"]}) == {
        "Cmd": ["sh"], "Env": ["MYSQL_ROOT_PASSWORD=***"]}


def test_registry_login_password_and_tokens_are_hidden():
    body = {"username": "me", "password": "p", "serveraddress": "registry:5000", "IdentityToken": "i"}
    assert redacted("SystemAuth", body) == {"username": "me", "password": "***",
                                            "serveraddress": "registry:5000", "IdentityToken": "***"}


def test_swarm_join_token_and_unlock_key_are_hidden():
    assert redacted("SwarmJoin", {"RemoteAddrs": ["m:2377"], "JoinToken": "SWMTKN-1"}) == {
        "RemoteAddrs": ["m:2377"], "JoinToken": "***"}
    assert redacted("SwarmUnlock", {"UnlockKey": "SWMKEY-1"}) == {"UnlockKey": "***"}


def test_secret_data_is_hidden_but_its_name_kept():
    assert redacted("SecretCreate", {"Name": "db", "Data": "aHVudGVyMg==", "Labels": {"a": "b"}}) == {
        "Name": "db", "Data": "***", "Labels": {"a": "b"}}


def test_plugin_settings_are_redacted_like_env():
    assert redacted("PluginSet", ["DEBUG=1", "API_KEY=k"]) == ["DEBUG=1", "API_KEY=***"]


def test_patterns_are_configurable():
    body = {"Env": ["DB_PASSWORD=x", "LICENSE=y"]}
    assert redacted("ContainerCreate", body, [r"^LICENSE$"]) == {"Env": ["DB_PASSWORD=x", "LICENSE=***"]}


@pytest.mark.parametrize("raw", [b"", b"\x1f\x8b\x08tar archive", b"not json", b"\xff\xfe"])
def test_bodies_that_are_not_json_are_not_stored(raw):
    assert redact_body("ImageBuild", raw) is None


def test_record_json_embeds_the_body_as_json():
    rec = AuditRecord(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "alice", "10.0.0.1:5000", "prod",
                      "POST", "/containers/create", "ContainerCreate", "allow", body='{"Env":["A=***"]}')
    data = record_json(rec)
    assert data["time"] == "2024-01-02T03:04:05+00:00"
    assert data["body"] == {"Env": ["A=***"]}
    assert data["started"] is None


def test_a_lone_surrogate_is_kept_as_an_escape_so_the_record_can_be_written():
    text = redact_body("ContainerCreate", b'{"Image": "busybox", "Cmd": ["\\ud800"]}')
    assert text is not None and "\\ud800" in text
    text.encode("utf-8")  # what the store does with it


@pytest.mark.parametrize("depth", [990, 5000])
def test_a_body_nested_too_deeply_does_not_break_the_record(depth):
    deep = b'{"a":' * depth + b"1" + b"}" * depth
    result = redact_body("ContainerCreate", deep)  # no RecursionError escapes
    assert result is None or "nested too deeply" in result
