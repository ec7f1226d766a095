"""Issue a CA, server and client certificates with the ``cryptography`` package.

Docker's TLS setup is easy to get subtly wrong (missing SANs, missing clientAuth/serverAuth usages,
a CA without basicConstraints); these functions make the certificates that Go's and Python's TLS
stacks accept, as PEM files in the docker CLI's layout (ca.pem, cert.pem, key.pem).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 825  # the longest validity clients such as macOS accept for leaf certificates


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "dockgate")])


def _write(cert_path: Path, key_path: Path, cert: x509.Certificate,
           key: ec.EllipticCurvePrivateKey) -> Issued:
    """The key is created owner-only before any byte of it is written."""
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    return Issued(cert_path, key_path)


def _builder(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey,
             days: int) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days)))


def make_ca(folder: Path, common_name: str = "dockgate CA", days: int = 3650) -> Issued:
    """ca.pem and ca-key.pem."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (_builder(_name(common_name), _name(common_name), key.public_key(), days)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return _write(folder / "ca.pem", folder / "ca-key.pem", cert, key)


def _load_ca(ca: Issued) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    key = serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return cert, key


def _leaf(ca: Issued, common_name: str, usage: x509.ObjectIdentifier,
          sans: list[x509.GeneralName], days: int) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_cert, ca_key = _load_ca(ca)
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (_builder(_name(common_name), ca_cert.subject, key.public_key(), days)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                              critical=False))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def make_server(ca: Issued, folder: Path, names: list[str], days: int = VALID_DAYS) -> Issued:
    """server.pem and server-key.pem, valid for each DNS name or IP address in ``names``."""
    sans: list[x509.GeneralName] = []
    for name in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            sans.append(x509.DNSName(name))
    cert, key = _leaf(ca, names[0] if names else "dockgate", ExtendedKeyUsageOID.SERVER_AUTH, sans, days)
    return _write(folder / "server.pem", folder / "server-key.pem", cert, key)


def make_client(ca: Issued, folder: Path, common_name: str, days: int = VALID_DAYS) -> Issued:
    """cert.pem and key.pem (plus a copy of ca.pem), the docker CLI's DOCKER_CERT_PATH layout."""
    cert, key = _leaf(ca, common_name, ExtendedKeyUsageOID.CLIENT_AUTH, [], days)
    issued = _write(folder / "cert.pem", folder / "key.pem", cert, key)
    if ca.cert.parent != folder:
        (folder / "ca.pem").write_bytes(ca.cert.read_bytes())
    return issued
