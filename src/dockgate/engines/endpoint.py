"""Where an engine is and how to reach it: an address plus optional TLS material.

Addresses use the docker CLI's forms so that a ``DOCKER_HOST`` value can be pasted as is:
``unix:///path``, ``tcp://host:port`` (TLS when certificates are given), ``ssh://user@host[:port]``.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

SCHEMES = ("unix", "tcp", "http", "https", "ssh")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class EndpointError(ValueError):
    """An address or TLS setting that cannot work, with a message that says how to fix it."""


@dataclass(frozen=True)
class TLSMaterial:
    """Files for a TLS connection; ``verify=False`` skips server verification (docker's --tls)."""

    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    verify: bool = True

    @classmethod
    def from_cert_dir(cls, cert_dir: Path, *, verify: bool = True) -> TLSMaterial:
        """The docker CLI's layout: ca.pem, cert.pem and key.pem in one folder (DOCKER_CERT_PATH)."""
        return cls(ca=cert_dir / "ca.pem", cert=cert_dir / "cert.pem", key=cert_dir / "key.pem",
                   verify=verify)

    def ssl_context(self) -> ssl.SSLContext:
        for label, path in (("CA", self.ca), ("certificate", self.cert), ("key", self.key)):
            if path is not None and not path.is_file():
                raise EndpointError(f"TLS {label} file not found: {path}")
        if (self.cert is None) != (self.key is None):
            raise EndpointError("a TLS client certificate needs its key, and a key its certificate")
        ctx = ssl.create_default_context(cafile=str(self.ca) if self.ca else None)
        if not self.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.cert and self.key:
            try:
                ctx.load_cert_chain(str(self.cert), str(self.key))
            except ssl.SSLError as exc:
                raise EndpointError(
                    f"TLS certificate {self.cert} and key {self.key} do not load: {exc.reason}"
                ) from exc
        return ctx


@dataclass(frozen=True)
class Endpoint:
    """A named engine address. ``url`` is kept as the user wrote it, after validation."""

    name: str
    url: str
    tls: TLSMaterial | None = None
    # A path before the API's own on a unix socket (a tcp URL carries it in the URL), e.g. the
    # dashboard reaching host NAME through the gateway's private socket at /hosts/NAME.
    prefix: str = ""

    def __post_init__(self) -> None:
        validate_name(self.name)
        validate_url(self.url)
        if self.tls is not None and self.scheme in ("unix", "ssh"):
            raise EndpointError(f"TLS settings do not apply to {self.scheme}:// addresses")

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme

    @property
    def uses_tls(self) -> bool:
        return self.scheme == "https" or (self.scheme == "tcp" and self.tls is not None)

    def client_url(self) -> str:
        """The address in the form the HTTP client takes (tcp:// becomes http:// or https://)."""
        parts = urlsplit(self.url)
        if parts.scheme in ("tcp", "http", "https"):
            port = parts.port or (2376 if self.uses_tls else 2375)
            scheme = "https" if self.uses_tls else "http"
            host = parts.hostname or ""
            if ":" in host:
                host = f"[{host}]"
            return f"{scheme}://{host}:{port}{self.path_prefix}"
        return self.url

    @property
    def path_prefix(self) -> str:
        """A path before the API's own, e.g. ``/hosts/prod`` for a host behind a dockgate gateway."""
        if self.scheme not in ("tcp", "http", "https"):
            return self.prefix.rstrip("/")
        return urlsplit(self.url).path.rstrip("/")

    def display(self) -> str:
        return self.url + (" (tls)" if self.uses_tls and self.scheme == "tcp" else "")


def validate_name(name: str) -> None:
    if not _NAME.match(name):
        raise EndpointError(
            f"invalid host name {name!r}: use letters, digits, '.', '_' or '-' (at most 63), "
            "starting with a letter or digit"
        )


def validate_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise EndpointError(
            f"unsupported engine address {url!r}: use unix:///path/docker.sock, tcp://host:port "
            "or ssh://user@host"
        )
    if parts.scheme == "unix":
        if not parts.path or parts.netloc:
            raise EndpointError(
                f"a unix address needs an absolute path, like unix:///var/run/docker.sock, not {url!r}")
        return
    if not parts.hostname:
        raise EndpointError(f"engine address {url!r} has no host name")
    try:
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        raise EndpointError(f"engine address {url!r} has an invalid port") from exc
    if parts.query or parts.fragment:
        raise EndpointError(f"engine address {url!r} must not have a query or fragment")
    if parts.scheme == "ssh" and parts.path not in ("", "/"):
        raise EndpointError(f"an ssh address has no path: {url!r}")
