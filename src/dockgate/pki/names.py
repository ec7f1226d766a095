"""The names a certificate carries: server SANs (DNS names and IP addresses) and subject CNs.

Go's TLS stack (the docker CLI's) matches a server only against its subjectAltNames, never its CN,
and matches an address only against an IP SAN: ``tcp://10.0.0.5:6732`` needs ``IP:10.0.0.5``, a DNS
SAN ``10.0.0.5`` does not count. So each name is classified here, and anything a client could never
match (a URL, a port, a network, an interface scope) is refused with the reason.
"""

from __future__ import annotations

import ipaddress
import re

from cryptography import x509

from dockgate.pki.errors import InvalidInput

DEFAULT_SANS = ("localhost", "127.0.0.1", "::1")
_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")
_CN_MAX = 64  # RFC 5280's upper bound for commonName


def parse_san(text: str) -> x509.GeneralName:
    """``IPAddress`` for an IPv4/IPv6 address (``[::1]`` too), else ``DNSName`` for a host name,
    lower-cased, with ``*.`` allowed as its first label; international names become punycode."""
    value = text.strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return x509.DNSName(_dns_name(text, value))
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        raise InvalidInput("--san", f"{text!r}: drop the interface scope (%{address.scope_id}); "
                                    "certificates name addresses without it")
    return x509.IPAddress(address)


def _dns_name(text: str, value: str) -> str:
    def bad(reason: str) -> InvalidInput:
        return InvalidInput("--san", f"{text!r} {reason}")

    if not value:
        raise bad("is empty: give a host name or an IP address")
    if "://" in value:
        raise bad("is a URL: give only its host, e.g. --san gw.example.com")
    if "/" in value:
        raise bad("is a network or a path: give one host name or IP address per --san")
    if ":" in value:
        raise bad("has a port or is not an IP address: give the host alone, without :PORT")
    if value.endswith("."):
        raise bad("ends with a dot: give the name without it")
    try:
        name = value.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise bad("is not a valid host name") from None
    wildcard = name.startswith("*.")
    labels = name.removeprefix("*.").split(".")
    if "*" in name.removeprefix("*."):
        raise bad("has a '*' that is not the whole first label (only *.example.com is matched)")
    if wildcard and len(labels) < 2:
        raise bad("is too broad: a wildcard needs at least two labels after it, e.g. *.example.com")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise bad("is not a valid host name (letters, digits and '-' in dot-separated labels)")
    if labels[-1].isdigit():
        raise bad("looks like an IP address but is not a valid one")
    return name


def unique_sans(names: list[str]) -> list[x509.GeneralName]:
    """Each name parsed, in order, duplicates (``::1`` and ``[::1]``, ``Host`` and ``host``) once."""
    sans: list[x509.GeneralName] = []
    for name in names:
        san = parse_san(name)
        if san not in sans:
            sans.append(san)
    return sans


def describe_san(san: x509.GeneralName) -> str:
    return str(san.value) if isinstance(san, x509.DNSName | x509.IPAddress) else repr(san.value)


def validate_common_name(name: str, param: str = "USER") -> str:
    if not name or name != name.strip():
        raise InvalidInput(param, f"{name!r}: a certificate name must not be empty or start or end "
                                  "with spaces")
    if len(name) > _CN_MAX:
        raise InvalidInput(param, f"{name!r} is longer than {_CN_MAX} characters, the most a "
                                  "certificate's common name may hold")
    if any(not ch.isprintable() for ch in name):
        raise InvalidInput(param, f"{name!r} holds control characters")
    return name


def is_loopback(san: x509.GeneralName) -> bool:
    if isinstance(san, x509.IPAddress):
        return san.value.is_loopback
    return isinstance(san, x509.DNSName) and san.value in ("localhost", "localhost.localdomain")


def client_address(sans: list[x509.GeneralName]) -> str | None:
    """The name a remote client would put in ``DOCKER_HOST``: the first SAN that is neither loopback
    nor a wildcard (IPv6 in brackets), None when there is none."""
    for san in sans:
        if is_loopback(san) or (isinstance(san, x509.DNSName) and san.value.startswith("*.")):
            continue
        if isinstance(san, x509.IPAddress):
            return f"[{san.value}]" if san.value.version == 6 else str(san.value)
        if isinstance(san, x509.DNSName):
            return san.value
    return None


def certificate_sans(cert: x509.Certificate) -> list[x509.GeneralName]:
    try:
        return list(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        return []
