"""Certificates issued by dockgate.pki carry what TLS stacks check (usages, names, CA constraints),
verify the way OpenSSL and Python's ssl check them, and are written without exposing a key or
replacing anything unasked."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dockgate.pki.errors import EncryptedKey, FilesExist, InvalidInput, NoCA, PKIError
from dockgate.pki.files import default_folder
from dockgate.pki.issue import VALID_DAYS, Issued, make_ca, make_client, make_server, open_ca
from dockgate.pki.names import client_address, parse_san, unique_sans
from dockgate.pki.survey import survey


def _ext(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> x509.Extension:
    return cert.extensions.get_extension_for_class(kind)


def _openssl_verify(ca: Path, leaf: Path, purpose: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", "verify", "-purpose", purpose, "-CAfile", str(ca), str(leaf)],
                          capture_output=True, text=True)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def ca(tmp_path: Path) -> Issued:
    return make_ca(tmp_path / "ca")


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


def test_the_ca_may_sign_certificates_and_nothing_below_it_may(ca):
    cert = ca.certificate
    constraints = _ext(cert, x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = _ext(cert, x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "dockgate CA"
    cert.verify_directly_issued_by(cert)  # self-signed
    assert ca.cert.name == "ca.pem" and ca.key.name == "ca-key.pem"
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 3650


def test_server_certificate_is_for_servers_only_and_names_every_address(ca, tmp_path):
    server = make_server(ca, tmp_path, ["gw.example.com", "10.0.0.5", "localhost", "127.0.0.1", "::1"])
    cert = server.certificate
    assert (server.cert.name, server.key.name) == ("server-cert.pem", "server-key.pem")
    assert list(_ext(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    usage = _ext(cert, x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature
    assert not usage.value.key_cert_sign and not usage.value.key_encipherment
    assert _ext(cert, x509.BasicConstraints).value.ca is False
    sans = _ext(cert, x509.SubjectAlternativeName).value
    # Addresses as IP SANs (Go matches an address only against those), names as DNS SANs.
    assert sans.get_values_for_type(x509.DNSName) == ["gw.example.com", "localhost"]
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.0.0.5"),
                                                        ipaddress.ip_address("127.0.0.1"),
                                                        ipaddress.ip_address("::1")]
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "gw.example.com"
    ca_key_id = _ext(ca.certificate, x509.SubjectKeyIdentifier).value.digest
    assert _ext(cert, x509.AuthorityKeyIdentifier).value.key_identifier == ca_key_id
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == VALID_DAYS
    assert _openssl_verify(ca.cert, server.cert, "sslserver").returncode == 0
    assert _openssl_verify(ca.cert, server.cert, "sslclient").returncode != 0


def test_client_certificate_names_the_user_and_is_for_clients_only(ca, tmp_path):
    client = make_client(ca, tmp_path / "alice", "alice", days=30)
    cert = client.certificate
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "alice"
    assert list(_ext(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert _ext(cert, x509.KeyUsage).value.digital_signature
    assert _ext(cert, x509.BasicConstraints).value.ca is False
    with pytest.raises(x509.ExtensionNotFound):
        _ext(cert, x509.SubjectAlternativeName)
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc) == dt.timedelta(days=30, minutes=5)
    # Exactly what DOCKER_CERT_PATH holds.
    assert sorted(p.name for p in (tmp_path / "alice").iterdir()) == ["ca.pem", "cert.pem", "key.pem"]
    assert _openssl_verify(tmp_path / "alice" / "ca.pem", client.cert, "sslclient").returncode == 0
    assert _openssl_verify(ca.cert, client.cert, "sslserver").returncode != 0


def test_every_key_is_owner_only_and_certificates_are_readable(ca, tmp_path):
    server = make_server(ca, tmp_path / "s", ["localhost"])
    client = make_client(ca, tmp_path / "c", "alice")
    for issued in (ca, server, client):
        assert _mode(issued.key) == 0o600
        assert _mode(issued.cert) == 0o644
    assert _mode(tmp_path / "c" / "ca.pem") == 0o644


def test_forced_reissue_replaces_a_loose_key_file_with_an_owner_only_one(ca, tmp_path):
    old_key = tmp_path / "c" / "key.pem"
    make_client(ca, tmp_path / "c", "alice")
    old_key.chmod(0o644)
    make_client(ca, tmp_path / "c", "alice", force=True)
    assert _mode(old_key) == 0o600


def test_nothing_is_replaced_without_force(ca, tmp_path):
    before = ca.cert.read_bytes(), ca.key.read_bytes()
    with pytest.raises(FilesExist) as refused:
        make_ca(ca.cert.parent)
    assert refused.value.paths == [ca.cert, ca.key]
    assert (ca.cert.read_bytes(), ca.key.read_bytes()) == before
    server = make_server(ca, tmp_path / "s", ["localhost"])
    with pytest.raises(FilesExist):
        make_server(ca, tmp_path / "s", ["localhost"])
    assert make_server(ca, tmp_path / "s", ["localhost"], force=True).certificate != server.certificate
    make_client(ca, tmp_path / "c", "alice")
    with pytest.raises(FilesExist):
        make_client(ca, tmp_path / "c", "alice")


def test_a_client_folder_holding_another_cas_certificate_is_not_overwritten(ca, tmp_path):
    other = make_ca(tmp_path / "other")
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "ca.pem").write_bytes(other.cert.read_bytes())
    with pytest.raises(FilesExist) as refused:
        make_client(ca, folder, "alice")
    assert refused.value.paths == [folder / "ca.pem"]
    assert (folder / "ca.pem").read_bytes() == other.cert.read_bytes()
    assert not (folder / "cert.pem").exists()


def test_a_foreign_ca_does_not_verify(tmp_path):
    ca = make_ca(tmp_path / "a")
    other = make_ca(tmp_path / "b")
    client = make_client(other, tmp_path / "client", "mallory")
    result = subprocess.run(["openssl", "verify", "-CAfile", str(ca.cert), str(client.cert)],
                            capture_output=True, text=True)
    assert result.returncode != 0


def _handshake(server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext, hostname: str) -> None:
    """A whole TLS handshake in memory, both sides, including the server's verdict on the client
    certificate (which TLS 1.3 delivers after the client's side of the handshake is done)."""
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname=hostname)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(10):
        for name, side in (("client", client), ("server", server)):
            if not done[name]:
                try:
                    side.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            break
    server.write(b"ping")
    c_in.write(s_out.read())
    assert client.read(4) == b"ping"


def _contexts(ca: Issued, server: Issued, client_cert: Path, client_key: Path,
              ) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)  # as the gateway builds it
    server_ctx.load_cert_chain(server.cert, server.key)
    server_ctx.load_verify_locations(ca.cert)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    client_ctx = ssl.create_default_context(cafile=str(ca.cert))
    client_ctx.load_cert_chain(client_cert, client_key)
    return server_ctx, client_ctx


def test_python_ssl_accepts_the_pair_by_address_and_by_name(ca, tmp_path):
    server = make_server(ca, tmp_path / "s", ["localhost", "127.0.0.1", "::1"])
    client = make_client(ca, tmp_path / "c", "alice")
    for hostname in ("127.0.0.1", "localhost", "::1"):
        _handshake(*_contexts(ca, server, client.cert, client.key), hostname)
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        _handshake(*_contexts(ca, server, client.cert, client.key), "gw.example.com")


def test_a_server_certificate_is_refused_as_a_client_certificate(ca, tmp_path):
    server = make_server(ca, tmp_path / "s", ["localhost"])
    with pytest.raises(ssl.SSLCertVerificationError, match="unsuitable certificate purpose"):
        _handshake(*_contexts(ca, server, server.cert, server.key), "localhost")


def test_a_client_certificate_from_another_ca_is_refused(ca, tmp_path):
    server = make_server(ca, tmp_path / "s", ["localhost"])
    rogue = make_client(make_ca(tmp_path / "rogue"), tmp_path / "m", "mallory")
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer certificate"):
        _handshake(*_contexts(ca, server, rogue.cert, rogue.key), "localhost")


@pytest.mark.parametrize(("text", "expected"), [
    ("localhost", x509.DNSName("localhost")),
    ("GW.Example.COM", x509.DNSName("gw.example.com")),
    ("*.example.com", x509.DNSName("*.example.com")),
    ("bücher.example", x509.DNSName("xn--bcher-kva.example")),
    ("10.0.0.5", x509.IPAddress(ipaddress.ip_address("10.0.0.5"))),
    ("::1", x509.IPAddress(ipaddress.ip_address("::1"))),
    ("[fd00::5]", x509.IPAddress(ipaddress.ip_address("fd00::5"))),
])
def test_sans_are_typed_as_clients_match_them(text, expected):
    assert parse_san(text) == expected


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    ("tcp://gw.example.com:6732", "is a URL"),
    ("gw.example.com:6732", "without :PORT"),
    ("10.0.0.0/8", "one host name or IP address"),
    ("gw.example.com.", "ends with a dot"),
    ("a.*.example.com", "'*'"),
    ("*.com", "too broad"),
    ("10.0.0.256", "not a valid one"),
    ("fe80::1%eth0", "interface scope"),
    ("gw example", "not a valid host name"),
    ("-gw.example.com", "not a valid host name"),
    ("x" * 64 + ".example.com", "not a valid host name"),
])
def test_names_a_client_could_never_match_are_refused(text, reason):
    with pytest.raises(InvalidInput, match=reason) as refused:
        parse_san(text)
    assert refused.value.param == "--san"


def test_duplicate_names_are_kept_once_in_order():
    assert unique_sans(["::1", "localhost", "[::1]", "LocalHost"]) == [
        x509.IPAddress(ipaddress.ip_address("::1")), x509.DNSName("localhost")]


def test_bad_input_is_refused_before_anything_is_written(ca, tmp_path):
    with pytest.raises(InvalidInput, match="at least one"):
        make_server(ca, tmp_path / "s", [])
    with pytest.raises(InvalidInput, match="--days"):
        make_client(ca, tmp_path / "c", "alice", days=0)
    with pytest.raises(InvalidInput, match="64 characters"):
        make_client(ca, tmp_path / "c", "a" * 65)
    with pytest.raises(InvalidInput, match="--name"):
        make_ca(tmp_path / "ca2", common_name="")
    assert not (tmp_path / "s").exists() and not (tmp_path / "c").exists() and not (tmp_path / "ca2").exists()


def test_a_certificate_may_not_outlive_its_ca_and_by_default_stops_with_it(tmp_path):
    ca = make_ca(tmp_path / "ca", days=100)
    with pytest.raises(InvalidInput, match=r"outlive the CA.*at most 99"):
        make_client(ca, tmp_path / "c", "alice", days=200)
    client = make_client(ca, tmp_path / "c", "alice")
    assert client.certificate.not_valid_after_utc <= ca.certificate.not_valid_after_utc


def test_open_ca_says_what_is_missing_or_wrong(ca, tmp_path):
    with pytest.raises(NoCA):
        open_ca(tmp_path / "empty")
    assert open_ca(ca.cert.parent).certificate == ca.certificate
    leaf_folder = tmp_path / "leaf"
    make_client(ca, leaf_folder, "alice")
    (leaf_folder / "ca.pem").write_bytes((leaf_folder / "cert.pem").read_bytes())
    with pytest.raises(PKIError, match="not a CA certificate"):
        open_ca(leaf_folder)
    (leaf_folder / "ca.pem").write_text("not a certificate")
    with pytest.raises(PKIError, match="not a PEM certificate"):
        open_ca(leaf_folder)


def test_issuing_needs_the_matching_ca_key(ca, tmp_path):
    ca.key.write_bytes(make_ca(tmp_path / "other").key.read_bytes())
    with pytest.raises(PKIError, match="is not the key of"):
        make_client(ca, tmp_path / "c", "alice")
    ca.key.unlink()
    with pytest.raises(PKIError, match="is missing"):
        make_client(ca, tmp_path / "c", "alice")
    assert not (tmp_path / "c" / "cert.pem").exists()


def _docker_guide_ca(folder: Path, passphrase: bytes) -> Issued:
    """A CA as docker's TLS guide makes it: RSA, its key encrypted with a passphrase."""
    folder.mkdir()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "docker-ca")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (folder / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "ca-key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(passphrase)))
    return open_ca(folder)


def test_an_encrypted_rsa_ca_issues_with_its_passphrase(tmp_path):
    ca = _docker_guide_ca(tmp_path / "ca", b"secret")
    with pytest.raises(EncryptedKey):
        make_client(ca, tmp_path / "c", "alice")
    with pytest.raises(PKIError, match="wrong passphrase"):
        make_client(ca, tmp_path / "c", "alice", password=b"wrong")
    client = make_client(ca, tmp_path / "c", "alice", password=b"secret")
    assert _openssl_verify(ca.cert, client.cert, "sslclient").returncode == 0
    # The AKI comes from the CA's public key when the CA has no SubjectKeyIdentifier.
    assert _ext(client.certificate, x509.AuthorityKeyIdentifier).value.key_identifier


def test_survey_lists_the_ca_then_servers_then_clients_and_spots_strangers(ca, tmp_path):
    folder = ca.cert.parent
    make_client(ca, folder / "clients" / "alice", "alice")
    make_server(ca, folder, ["gw.example.com"])
    make_client(make_ca(tmp_path / "old"), folder / "clients" / "bob", "bob")
    (folder / "clients" / "junk.pem").write_text("junk")
    found = survey(folder)
    rows = [(c.kind, c.subject, c.status, c.path.relative_to(folder).as_posix()) for c in found.certificates]
    assert rows == [("ca", "dockgate CA", "valid", "ca.pem"),
                    ("server", "gw.example.com", "valid", "server-cert.pem"),
                    ("client", "alice", "valid", "clients/alice/cert.pem"),
                    ("client", "bob", "not issued by this CA", "clients/bob/cert.pem")]
    assert found.certificates[1].sans == ("gw.example.com",)
    assert found.certificates[1].usages == ("serverAuth",)
    assert found.certificates[0].usages == ("certSign", "crlSign")
    junk = folder / "clients" / "junk.pem"
    assert [str(p) for p in found.unreadable] == [f"{junk} is not a PEM certificate"]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=VALID_DAYS + 1)
    assert survey(folder, now=later).certificates[2].status == "expired"
    with pytest.raises(NoCA):
        survey(tmp_path / "nothing")


def test_client_address_prefers_a_name_remote_clients_can_use():
    def sans(*names: str) -> list[x509.GeneralName]:
        return unique_sans(list(names))

    assert client_address(sans("localhost", "127.0.0.1", "::1")) is None
    assert client_address(sans("*.example.com", "localhost", "gw.example.com")) == "gw.example.com"
    assert client_address(sans("fd00::5", "10.0.0.5")) == "[fd00::5]"


def test_the_default_folder_follows_xdg_config_home(tmp_path):
    assert default_folder({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "dockgate" / "tls"

