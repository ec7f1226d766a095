"""Issue a CA, server and client certificates with the ``cryptography`` package.

Docker's TLS setup is easy to get subtly wrong (missing SANs, missing clientAuth/serverAuth usages,
a CA without basicConstraints, a certificate that outlives its CA); these functions make the
certificates that Go's and Python's TLS stacks accept, as PEM files in the docker CLI's layout
(see :mod:`dockgate.pki.files`). Keys are ECDSA P-256, which every TLS stack docker clients use
accepts; an existing CA may also have an RSA key (docker's guide makes those), encrypted or not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dockgate.pki import files
from dockgate.pki.errors import EncryptedKey, InvalidInput, NoCA, PKIError
from dockgate.pki.names import unique_sans, validate_common_name

VALID_DAYS = 825  # the longest validity clients such as macOS accept for leaf certificates
CA_DAYS = 3650
_MAX_DAYS = 36500
_BACKDATE = dt.timedelta(minutes=5)  # tolerate clocks a little behind the issuer's

CAKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class Issued:
    """A certificate and its key on disk, with the certificate as read or made."""

    cert: Path
    key: Path
    certificate: x509.Certificate


def make_ca(folder: Path, common_name: str = "dockgate CA", days: int = CA_DAYS, *,
            force: bool = False) -> Issued:
    """ca.pem and ca-key.pem in ``folder``; existing ones are kept unless ``force``."""
    validate_common_name(common_name, "--name")
    _check_days(days)
    cert_path, key_path = folder / files.CA_CERT, folder / files.CA_KEY
    files.refuse_to_replace([cert_path, key_path], force)
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    cert = (_builder(name, name, key.public_key(), _now(), days)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return _write(cert_path, key_path, cert, key)


def open_ca(folder: Path) -> Issued:
    """The CA in ``folder``, checked to be a CA certificate (its key is read only when issuing)."""
    cert_path = folder / files.CA_CERT
    if not cert_path.exists():
        raise NoCA(folder)
    cert = read_certificate(cert_path)
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise PKIError(f"{cert_path} is not a CA certificate (it lacks basicConstraints CA:TRUE)")
    return Issued(cert_path, folder / files.CA_KEY, cert)


def make_server(ca: Issued, folder: Path, names: list[str], days: int | None = None, *,
                force: bool = False, password: bytes | None = None) -> Issued:
    """server-cert.pem and server-key.pem, valid for each DNS name or IP address in ``names`` (the
    first is also the subject CN), for serverAuth only. ``days`` defaults to :data:`VALID_DAYS`, or
    less when the CA expires sooner."""
    sans = unique_sans(names)
    if not sans:
        raise InvalidInput("--san", "a server certificate needs at least one host name or IP address")
    cert_path, key_path = folder / files.SERVER_CERT, folder / files.SERVER_KEY
    files.refuse_to_replace([cert_path, key_path], force)
    cert, key = _leaf(ca, password, str(sans[0].value), ExtendedKeyUsageOID.SERVER_AUTH, sans, days)
    return _write(cert_path, key_path, cert, key)


def make_client(ca: Issued, folder: Path, common_name: str, days: int | None = None, *,
                force: bool = False, password: bytes | None = None) -> Issued:
    """cert.pem and key.pem for subject CN ``common_name`` (clientAuth only), plus a copy of ca.pem:
    the docker CLI's ``DOCKER_CERT_PATH`` layout."""
    validate_common_name(common_name)
    cert_path, key_path = folder / files.CLIENT_CERT, folder / files.CLIENT_KEY
    ca_copy = folder / files.CA_CERT
    copy_ca = ca_copy.resolve() != ca.cert.resolve()
    other_ca = copy_ca and ca_copy.exists() and not _holds(ca_copy, ca.certificate)
    files.refuse_to_replace([cert_path, key_path, *([ca_copy] if other_ca else [])], force)
    cert, key = _leaf(ca, password, common_name, ExtendedKeyUsageOID.CLIENT_AUTH, [], days)
    issued = _write(cert_path, key_path, cert, key)
    if copy_ca:
        files.write_file(ca_copy, ca.certificate.public_bytes(serialization.Encoding.PEM), files.CERT_MODE)
    return issued


def read_certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except OSError as exc:
        raise PKIError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError:
        raise PKIError(f"{path} is not a PEM certificate") from None


def _holds(path: Path, cert: x509.Certificate) -> bool:
    try:
        return read_certificate(path) == cert
    except PKIError:
        return False


def _leaf(ca: Issued, password: bytes | None, common_name: str, usage: x509.ObjectIdentifier,
          sans: list[x509.GeneralName],
          days: int | None) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    now = _now()
    days = _leaf_days(ca, days, now)
    ca_key = _read_ca_key(ca, password)
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (_builder(_name(common_name), ca.certificate.subject, key.public_key(), now, days)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(_key_usage(cert_sign=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(_authority_key_id(ca.certificate, ca_key), critical=False))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def _read_ca_key(ca: Issued, password: bytes | None) -> CAKey:
    try:
        data = ca.key.read_bytes()
    except FileNotFoundError:
        raise PKIError(f"{ca.key} is missing: certificates can only be issued where the CA's key "
                       "is") from None
    except OSError as exc:
        raise PKIError(f"cannot read {ca.key}: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except TypeError:  # encrypted without a password given (or a password for a plain key)
        if password is None:
            raise EncryptedKey(ca.key) from None
        key = serialization.load_pem_private_key(data, password=None)
    except ValueError:
        raise PKIError(f"{ca.key}: wrong passphrase" if password is not None
                       else f"{ca.key} is not a PEM private key") from None
    except UnsupportedAlgorithm:
        raise PKIError(f"{ca.key} uses a key algorithm this system cannot load") from None
    if not isinstance(key, CAKey):
        raise PKIError(f"{ca.key} is neither an EC nor an RSA key: dockgate cannot sign with it")
    ca_public = ca.certificate.public_key()
    if (not isinstance(ca_public, ec.EllipticCurvePublicKey | rsa.RSAPublicKey)
            or key.public_key().public_numbers() != ca_public.public_numbers()):
        raise PKIError(f"{ca.key} is not the key of {ca.cert}")
    return key


def _authority_key_id(ca_cert: x509.Certificate, ca_key: CAKey) -> x509.AuthorityKeyIdentifier:
    try:
        ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    """digitalSignature for ECDHE-ECDSA handshakes; a CA also signs certificates and CRLs."""
    return x509.KeyUsage(digital_signature=True, key_cert_sign=cert_sign, crl_sign=cert_sign,
                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                         key_agreement=False, encipher_only=False, decipher_only=False)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "dockgate")])


def _builder(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey,
             now: dt.datetime, days: int) -> x509.CertificateBuilder:
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE).not_valid_after(now + dt.timedelta(days=days)))


def _leaf_days(ca: Issued, days: int | None, now: dt.datetime) -> int:
    """``days``, or by default :data:`VALID_DAYS` cut to the CA's remaining life: a certificate that
    outlives its CA stops verifying when the CA expires, so an explicit longer one is refused."""
    ca_end = ca.certificate.not_valid_after_utc
    left = (ca_end - now).days
    if left < 1:
        raise PKIError(f"the CA {ca.cert} {'expired' if ca_end <= now else 'expires'} on "
                       f"{ca_end:%Y-%m-%d %H:%M} UTC: make a new CA, and issue every certificate again")
    if days is None:
        return min(VALID_DAYS, left)
    _check_days(days)
    if days > left:
        raise InvalidInput("--days", f"{days} days would outlive the CA, which expires on "
                                     f"{ca_end:%Y-%m-%d}: give at most {left}")
    return days


def _check_days(days: int) -> None:
    if not 1 <= days <= _MAX_DAYS:
        raise InvalidInput("--days", f"{days}: give a number of days from 1 to {_MAX_DAYS}")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write(cert_path: Path, key_path: Path, cert: x509.Certificate,
           key: ec.EllipticCurvePrivateKey) -> Issued:
    """The key first, so that a certificate is never written without its key."""
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    files.write_file(key_path, key_pem, files.KEY_MODE)
    files.write_file(cert_path, cert.public_bytes(serialization.Encoding.PEM), files.CERT_MODE)
    return Issued(cert_path, key_path, cert)
