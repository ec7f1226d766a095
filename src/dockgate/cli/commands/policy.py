"""``dockgate policy explain``: what the gateway would decide for a request, and why (a dry run).

The decision is made by the gatekeeper itself, with the configured roles and ``[[policy]]`` entries,
for a caller holding one grant: nothing is sent to an engine. Scope checks that would ask an engine
about a container are listed instead of made.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from dockgate.cli import output, session
from dockgate.engines.errors import BadParameter

policy_app = typer.Typer(help="Inspect the request policy.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")


@dataclass
class _DryLookup:
    """Answers every scope question with "inside" and remembers what was asked."""

    scope: Mapping[str, str]
    asked: list[str] = field(default_factory=list)

    async def container_labels(self, host: str, ref: str) -> Mapping[str, str] | None:
        self.asked.append(f"container {ref} must carry {_scope_text(self.scope) or 'no labels'}")
        return dict(self.scope)

    async def exec_container(self, host: str, exec_id: str) -> str | None:
        self.asked.append(f"exec {exec_id} must run in a container inside the scope")
        return exec_id

    async def container(self, host: str, ref: str) -> Mapping[str, Any] | None:
        self.asked.append(f"container {ref}: in the scope, and without host access to inherit")
        return {"Config": {"Labels": dict(self.scope)}, "HostConfig": {}, "Mounts": []}

    async def volume(self, host: str, name: str) -> Mapping[str, Any] | None:
        self.asked.append(f"volume {name}: if it exists, its options must not bind a host path")
        return None

    async def containers_in_scope(self, host: str, scope: Mapping[str, str]) -> set[str]:
        return set()


@policy_app.command("explain")
def explain(
    method: Annotated[str, typer.Argument(help="HTTP method, e.g. POST.", show_default=False)],
    path: Annotated[str, typer.Argument(help="Request path as a docker client sends it, e.g. "
                                        "/v1.41/containers/create?name=web", show_default=False)],
    role: Annotated[str, typer.Option(help="Role of the caller.")] = "operator",
    host: Annotated[str | None, typer.Option(help="Host the request goes to (default: the default "
                                             "host).")] = None,
    scope: Annotated[str, typer.Option(help="Label scope of the grant, e.g. team=payments.")] = "",
    user: Annotated[str, typer.Option(help="User name (for the owner label).")] = "someone",
    body: Annotated[Path | None, typer.Option(help="JSON request body; - for standard input.")] = None,
    fmt: output.FormatOpt = output.Format.table,
) -> None:
    """Explain the decision for METHOD PATH [--body FILE]. Exit status 0 when allowed, 1 when denied."""
    from dockgate.access.gatekeeper import Call, Gatekeeper, Refusal
    from dockgate.access.identity import Identity
    from dockgate.access.policy_table import PolicyTable
    from dockgate.gateway.target import TargetError, parse_target
    from dockgate.store.users import Grant

    config = session.load_config()
    roles = config.resolved_roles()
    if role not in roles:
        raise BadParameter("role", f"unknown role {role!r} (roles: {', '.join(sorted(roles))})")
    labels = _parse_scope(scope)
    raw = body.read_bytes() if body and str(body) != "-" else sys.stdin.buffer.read() if body else b""
    try:
        target = parse_target(path)
    except TargetError as exc:
        raise BadParameter("path", exc.message) from None
    host_name = target.host or host or config.default_host or "default"
    call = Call(method.upper(), target.path, target.query, host_name, has_body=bool(raw))
    identity = Identity(user, (Grant(host_name, role, labels),), role == "admin" and not labels, "token")
    lookup = _DryLookup(labels)
    gate = Gatekeeper(_NoAuthenticator(), roles, PolicyTable(config.policy), lookup,
                      body_limit=config.access.body_limit)
    result: dict[str, Any] = {"method": call.method, "path": call.path, "host": host_name, "role": role,
                              "scope": labels, "user": user}

    async def decide() -> None:
        admission = await gate.admit(identity, call)
        result["operation"] = admission.operation_name
        forwarded = await gate.police(admission, call, raw) if admission.read_body is not None else raw
        result.update(decision="allow", status=None, rule="", message="",
                      query=admission.query if admission.query != call.query else None,
                      body_changed=forwarded != raw)

    try:
        session.run(decide())
    except Refusal as refusal:
        result.update(decision="deny", status=refusal.status, rule=refusal.rule, message=refusal.message)
    result["scope_checks"] = lookup.asked
    if fmt is output.Format.json:
        output.print_json(result)
    else:
        _print(result)
    if result["decision"] == "deny":
        raise typer.Exit(1)


class _NoAuthenticator:
    """The dry run names its caller; nothing is authenticated."""

    async def authenticate(self, authorization: bytes | None, peer_cert_subject_cn: str | None) -> None:
        return None

    async def still_valid(self, identity: object) -> bool:
        return True


def _print(result: dict[str, Any]) -> None:
    operation = result.get("operation") or "unknown"
    output.console.print(f"request    {result['method']} {result['path']} ({operation}) on {result['host']}",
                         highlight=False)
    scope = _scope_text(result["scope"])
    output.console.print(f"caller     {result['user']}, role {result['role']}"
                         + (f", scope {scope}" if scope else ""), highlight=False)
    if result["decision"] == "allow":
        output.console.print("decision   ALLOWED", highlight=False)
        if result.get("query"):
            output.console.print(f"forwarded  query becomes {result['query']}", highlight=False)
        if result.get("body_changed"):
            output.console.print("forwarded  body with the owner (and scope) labels added", highlight=False)
    else:
        output.console.print(f"decision   DENIED {result['status']} by rule {result['rule']}",
                             highlight=False)
        output.console.print(f"message    {result['message']}", highlight=False)
    for check in result["scope_checks"]:
        output.console.print(f"checks     {check} (asked of the engine when it happens)", highlight=False)


def _parse_scope(text: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise BadParameter("scope", f"{part!r} is not label=value")
        labels[key] = value
    return labels


def _scope_text(scope: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(scope.items()))
