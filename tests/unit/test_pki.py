"""Certificates issued by dockgate.pki verify the way TLS stacks check them."""

from __future__ import annotations

import ipaddress
import subprocess

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from dockgate.pki.issue import make_ca, make_client, make_server


def test_server_and_client_certificates_verify_against_the_ca(tmp_path):
    ca = make_ca(tmp_path / "ca")
    server = make_server(ca, tmp_path / "server", ["127.0.0.1", "localhost"])
    client = make_client(ca, tmp_path / "client", "alice")
    for leaf in (server.cert, client.cert):
        result = subprocess.run(["openssl", "verify", "-CAfile", str(ca.cert), str(leaf)],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    cert = x509.load_pem_x509_certificate(server.cert.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in sans.get_values_for_type(x509.IPAddress)
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in usage
    client_cert = x509.load_pem_x509_certificate(client.cert.read_bytes())
    assert ExtendedKeyUsageOID.CLIENT_AUTH in client_cert.extensions.get_extension_for_class(
        x509.ExtendedKeyUsage).value
    assert (tmp_path / "client" / "ca.pem").read_bytes() == ca.cert.read_bytes()


def test_keys_are_owner_only(tmp_path):
    ca = make_ca(tmp_path)
    assert ca.key.stat().st_mode & 0o777 == 0o600


def test_a_foreign_ca_does_not_verify(tmp_path):
    ca = make_ca(tmp_path / "a")
    other = make_ca(tmp_path / "b")
    client = make_client(other, tmp_path / "client", "mallory")
    result = subprocess.run(["openssl", "verify", "-CAfile", str(ca.cert), str(client.cert)],
                            capture_output=True, text=True)
    assert result.returncode != 0
