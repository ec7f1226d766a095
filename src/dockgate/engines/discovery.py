"""The engine a docker CLI on this machine would use, found the way the docker CLI finds it.

Order: ``DOCKER_HOST`` (with ``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH``), then the docker context
named by ``DOCKER_CONTEXT`` or by ``currentContext`` in ``$DOCKER_CONFIG/config.json``, then the
local socket. This lets dockgate work with no configuration at all.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from dockgate.engines.endpoint import Endpoint, EndpointError, TLSMaterial

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


def docker_config_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get("DOCKER_CONFIG") or Path.home() / ".docker")


def default_endpoint(env: Mapping[str, str] | None = None, *,
                     require_socket: bool = False) -> Endpoint | None:
    """The docker CLI's engine; with ``require_socket``, None when only the local socket is left and it
    does not exist (so a machine without a local engine does not list a dead host)."""
    env = os.environ if env is None else env
    host = env.get("DOCKER_HOST")
    if host:
        return Endpoint("default", host, _env_tls(env, host))
    context = env.get("DOCKER_CONTEXT") or _current_context(env)
    if context and context != "default":
        return context_endpoint(context, env)
    if require_socket and not Path(DEFAULT_SOCKET.removeprefix("unix://")).exists():
        return None
    return Endpoint("default", DEFAULT_SOCKET)


def _env_tls(env: Mapping[str, str], host: str) -> TLSMaterial | None:
    if not host.startswith("tcp://"):
        return None
    verify = env.get("DOCKER_TLS_VERIFY", "") not in ("", "0")
    cert_path = env.get("DOCKER_CERT_PATH")
    if not verify and not cert_path:
        return None
    cert_dir = Path(cert_path) if cert_path else docker_config_dir(env)
    return TLSMaterial.from_cert_dir(cert_dir, verify=verify)


def http_headers(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``HttpHeaders`` of ``$DOCKER_CONFIG/config.json``, sent with every request as the docker CLI
    and docker-py do: how a dockgate token (``dockgate login``) reaches a gateway."""
    env = os.environ if env is None else env
    try:
        headers = json.loads((docker_config_dir(env) / "config.json").read_text()).get("HttpHeaders")
    except (OSError, ValueError, AttributeError):
        return {}
    if not isinstance(headers, dict):
        return {}
    return {str(k): str(v) for k, v in headers.items() if isinstance(v, str)}


def _current_context(env: Mapping[str, str]) -> str | None:
    path = docker_config_dir(env) / "config.json"
    try:
        return json.loads(path.read_text()).get("currentContext")
    except (OSError, ValueError, AttributeError):
        return None


def context_endpoint(name: str, env: Mapping[str, str] | None = None) -> Endpoint:
    """A docker context (``docker context create``) as an endpoint, TLS files included."""
    env = os.environ if env is None else env
    digest = hashlib.sha256(name.encode()).hexdigest()
    base = docker_config_dir(env) / "contexts"
    meta_file = base / "meta" / digest / "meta.json"
    try:
        meta = json.loads(meta_file.read_text())
        docker = meta["Endpoints"]["docker"]
        host = docker["Host"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EndpointError(f"docker context {name!r} not found or unreadable ({meta_file})") from exc
    tls_dir = base / "tls" / digest / "docker"
    tls = None
    if tls_dir.is_dir():
        files = {p: tls_dir / f"{p}.pem" for p in ("ca", "cert", "key")}
        ca, cert, key = (f if f.is_file() else None for f in files.values())
        tls = TLSMaterial(ca, cert, key, verify=not docker.get("SkipTLSVerify", False))
    return Endpoint(_safe_name(name), host, tls if host.startswith("tcp://") else None)


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._-" else "-" for c in name).strip("-._")
    return cleaned or "default"
