"""Helpers shared by the access-control tests: raw requests through the gateway (what a client sees
byte for byte, with or without a token) and the audit trail read back with ``dockgate audit``."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
from tests.conftest import GatewayProcess, Person


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def message(self) -> str:
        return self.json["message"]


def raw(gateway: GatewayProcess, method: str, path: str, *, token: str | None = None,
        body: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
    """One request on a fresh connection, as written here (no client library in between)."""
    conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=30)
    try:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        conn.close()


def py(person: Person, host: str | None = None) -> docker.DockerClient:
    """docker-py as ``person``. Person.py() alone is not enough: docker-py adds the HttpHeaders of
    $DOCKER_CONFIG (the session admin's token) to every request, over the client's own headers."""
    client = person.py(host)
    client.api._general_configs["HttpHeaders"] = {"Authorization": f"Bearer {person.token}"}
    return client


def audit(dockgate: Callable[..., Any], since: float, *, expect: Callable[[list[dict[str, Any]]], bool],
          timeout: float = 8.0, **filters: str) -> list[dict[str, Any]]:
    """The audit records since ``since`` (unix seconds) matching ``filters`` (``dockgate audit``
    options), read again until ``expect`` holds of them: reads are recorded in batches, a moment later."""
    args = ["audit", "--format", "jsonl", "--since", f"{since:.6f}"]
    for key, value in filters.items():
        args += [f"--{key}", value]
    deadline = time.monotonic() + timeout
    while True:
        result = dockgate(*args)
        assert result.returncode == 0, result.stderr
        records = [json.loads(line) for line in result.out_lines]
        if expect(records) or time.monotonic() > deadline:
            return records
        time.sleep(0.3)


def make_person(cli_env: dict[str, str], gateway: GatewayProcess, folder: Path, name: str,
                *grants: str, admin: bool = False) -> tuple[Person, str]:
    """A new user of the store ``cli_env`` names, with a token: the Person and the token's id."""
    args = ["users", "add", name, *(f"--grant={g}" for g in grants), *(["--admin"] if admin else [])]
    for argv in (args, ["tokens", "create", "--user", name, "--format", "json"]):
        proc = subprocess.run([sys.executable, "-m", "dockgate", *argv], capture_output=True, text=True,
                              env=cli_env, timeout=60)
        assert proc.returncode == 0, proc.stderr
    made = json.loads(proc.stdout)
    config = folder / f"docker-config-{name}"
    config.mkdir()
    headers = {"Authorization": f"Bearer {made['token']}"}
    (config / "config.json").write_text(json.dumps({"HttpHeaders": headers}))
    return Person(name, made["token"], config, gateway), made["id"]
