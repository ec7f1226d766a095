"""What a TLS folder holds: the CA and every certificate under it, described for ``dockgate tls ls``.

Each certificate is checked against the folder's CA as a client would check it (signature, dates),
so a certificate left over from a replaced CA shows as such instead of failing a handshake later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dockgate.pki import files
from dockgate.pki.errors import NoCA, PKIError
from dockgate.pki.issue import read_certificate
from dockgate.pki.names import certificate_sans, describe_san

_KIND_ORDER = {"ca": 0, "server": 1, "server+client": 2, "client": 3}
_EKU_NAMES = {ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth", ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth"}


@dataclass(frozen=True)
class CertificateInfo:
    path: Path
    kind: str  # ca, server, client, server+client, other
    subject: str  # the CN, or the whole subject when it has none
    sans: tuple[str, ...]
    usages: tuple[str, ...]
    not_before: dt.datetime
    not_after: dt.datetime
    status: str  # valid, expired, not yet valid, not issued by this CA

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "sans": list(self.sans),
                "usages": list(self.usages), "not_before": self.not_before.isoformat(),
                "not_after": self.not_after.isoformat(), "status": self.status, "path": str(self.path)}


@dataclass(frozen=True)
class Survey:
    certificates: list[CertificateInfo]  # the CA, servers, clients, others; by path within each
    unreadable: list[PKIError]  # .pem files under the folder that are not certificates


def survey(folder: Path, *, now: dt.datetime | None = None) -> Survey:
    """The CA of ``folder`` and the certificates below it (keys and copies of ca.pem skipped)."""
    now = now or dt.datetime.now(dt.UTC)
    ca_path = folder / files.CA_CERT
    if not ca_path.exists():
        raise NoCA(folder)
    ca = read_certificate(ca_path)
    leaves: list[CertificateInfo] = []
    unreadable: list[PKIError] = []
    for path in sorted(folder.rglob("*.pem")):
        if path.name == files.CA_CERT or path.name.endswith("key.pem") or path.name.startswith("."):
            continue
        try:
            leaves.append(describe(path, read_certificate(path), ca, now))
        except PKIError as exc:
            unreadable.append(exc)
    leaves.sort(key=lambda info: (_KIND_ORDER.get(info.kind, len(_KIND_ORDER)), str(info.path)))
    return Survey([describe(ca_path, ca, ca, now), *leaves], unreadable)


def describe(path: Path, cert: x509.Certificate, ca: x509.Certificate, now: dt.datetime) -> CertificateInfo:
    usages = _usages(cert)
    sans = tuple(describe_san(san) for san in certificate_sans(cert))
    return CertificateInfo(path=path, kind=_kind(cert, usages), subject=_subject(cert), sans=sans,
                           usages=usages, not_before=cert.not_valid_before_utc,
                           not_after=cert.not_valid_after_utc, status=_status(cert, ca, now))


def _subject(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def _usages(cert: x509.Certificate) -> tuple[str, ...]:
    """Extended key usages by name; for a certificate without them (a CA), what its key may sign."""
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        pass
    else:
        return tuple(_EKU_NAMES.get(oid, oid.dotted_string) for oid in eku)
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return ()
    return tuple(name for name, on in (("certSign", ku.key_cert_sign), ("crlSign", ku.crl_sign)) if on)


def _kind(cert: x509.Certificate, usages: tuple[str, ...]) -> str:
    try:
        if cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return "ca"
    except x509.ExtensionNotFound:
        pass
    roles = [role for role, usage in (("server", "serverAuth"), ("client", "clientAuth")) if usage in usages]
    return "+".join(roles) or "other"


def _status(cert: x509.Certificate, ca: x509.Certificate, now: dt.datetime) -> str:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return "not issued by this CA"
    if now >= cert.not_valid_after_utc:
        return "expired"
    if now < cert.not_valid_before_utc:
        return "not yet valid"
    return "valid"
