"""``dockgate tls``: a CA, the gateway's certificate and client certificates, one command each.

The files follow docker's TLS guide (``ca.pem``, ``server-cert.pem``, ``server-key.pem``) and each
client folder is what the docker CLI reads from ``DOCKER_CERT_PATH`` (``ca.pem cert.pem key.pem``),
so what is issued here works with ``dockgate serve --tls-*`` and stock clients without renaming.
The gateway takes a client certificate's subject CN as the dockgate user's name (or maps it through
``[access] cert_users``). ``cryptography`` is imported inside the commands, not by every call.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import tomli_w
import typer

from dockgate.cli import output, session
from dockgate.config.file import ConfigError
from dockgate.engines.errors import BadParameter

if TYPE_CHECKING:
    from cryptography import x509

    from dockgate.pki.survey import CertificateInfo

T = TypeVar("T")

PASSPHRASE_ENV = "DOCKGATE_CA_PASSPHRASE"
_DEFAULT_PORT = "6732"

tls_app = typer.Typer(help="Issue a CA, the gateway's server certificate and client certificates.",
                      no_args_is_help=True)

DirOpt = Annotated[Path | None, typer.Option(
    "--dir", metavar="DIR", envvar="DOCKGATE_TLS_DIR", show_default=False,
    help="Folder of the CA and the server certificate (default: $XDG_CONFIG_HOME/dockgate/tls).")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace files that are already there.")]
LeafDaysOpt = Annotated[int | None, typer.Option(
    "--days", metavar="N", show_default=False,
    help="Validity in days (default: 825, or until the CA expires if that is sooner).")]


def register(app: typer.Typer) -> None:
    app.add_typer(tls_app, name="tls")


@tls_app.command("init")
def init(
    folder: DirOpt = None,
    name: Annotated[str, typer.Option("--name", help="The CA's subject CN.")] = "dockgate CA",
    days: Annotated[int, typer.Option("--days", metavar="N", help="Validity in days.")] = 3650,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace an existing CA: every certificate it issued stops working.")] = False,
) -> None:
    """Create a CA: ca.pem (the gateway and clients trust it) and ca-key.pem (0600, keep it secret)."""
    from dockgate.pki import files
    from dockgate.pki.issue import make_ca

    where = _folder(folder)
    with _refusals(folder, where, replacing="every certificate the CA issued then stops working"):
        ca = make_ca(where, name, days, force=force)
    _say(f"created the CA {name!r} in {where}, valid until {_date(ca.certificate)}")
    _say(f"  {files.CA_CERT:<11} the CA certificate: the gateway (--tls-client-ca) and "
         "clients trust it")
    _say(f"  {files.CA_KEY:<11} its key (mode 0600): whoever holds it can issue "
         "certificates the gateway accepts")
    _note(f"  next: dockgate tls server{_dir_flag(folder)} --san HOST_OR_IP, "
          f"then dockgate tls client{_dir_flag(folder)} USER")


@tls_app.command("server")
def server(
    sans: Annotated[list[str] | None, typer.Option(
        "--san", metavar="HOST_OR_IP", show_default=False,
        help="A DNS name (*.example.com allowed) or IP address that clients use to reach the "
             "gateway. Repeatable.")] = None,
    no_default_sans: Annotated[bool, typer.Option(
        "--no-default-sans", help="Leave out localhost, 127.0.0.1 and ::1.")] = False,
    folder: DirOpt = None,
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="DIR", show_default=False,
        help="Where to write server-cert.pem and server-key.pem (default: the --dir folder).")] = None,
    days: LeafDaysOpt = None,
    force: ForceOpt = False,
) -> None:
    """Issue the gateway's certificate (serverAuth) for the names and addresses clients use, and print
    how to serve with it."""
    from dockgate.pki.issue import make_server, open_ca
    from dockgate.pki.names import DEFAULT_SANS, certificate_sans, describe_san, is_loopback

    where = _folder(folder)
    names = [*(sans or ()), *(() if no_default_sans else DEFAULT_SANS)]
    configured = session.load_config().gateway.listen
    with _refusals(folder, where):
        ca = open_ca(where)
        issued = _with_passphrase(ca.key, lambda password: make_server(
            ca, out.absolute() if out else where, names, days, force=force, password=password))
    issued_sans = certificate_sans(issued.certificate)
    _say(f"issued the server certificate for {', '.join(map(describe_san, issued_sans))}, "
         f"valid until {_date(issued.certificate)}")
    _say(f"  {issued.cert}\n  {issued.key} (mode 0600)")
    # Names other than loopback ones mean remote clients: a loopback-only listener would not reach them.
    listen = None
    if not all(map(is_loopback, issued_sans)) and _loopback_listen(configured):
        listen = f"0.0.0.0:{_port(configured)}"
    flags = [*(("--listen", listen) if listen else ()), "--tls-cert", str(issued.cert),
             "--tls-key", str(issued.key), "--tls-client-ca", str(ca.cert)]
    _say("serve with it (clients must then present a certificate from this CA):")
    _say(f"  dockgate serve {shlex.join(flags)}")
    _say(f"or set these in the [gateway] section of {session.config_path()}, then run dockgate serve:")
    settings = {**({"listen": listen} if listen else {}), "tls_cert": str(issued.cert),
                "tls_key": str(issued.key), "tls_client_ca": str(ca.cert)}
    _say(tomli_w.dumps({"gateway": settings}).rstrip())
    _note(f"  next: dockgate tls client{_dir_flag(folder)} USER")


@tls_app.command("client")
def client(
    user: Annotated[str, typer.Argument(
        metavar="USER", help="The dockgate user: the certificate's subject CN.", show_default=False)],
    folder: DirOpt = None,
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="DIR", show_default=False,
        help="Where to write ca.pem, cert.pem and key.pem (default: DIR/clients/USER).")] = None,
    days: LeafDaysOpt = None,
    force: ForceOpt = False,
) -> None:
    """Issue a client certificate (clientAuth, CN=USER) in the layout DOCKER_CERT_PATH expects.

    The export line goes to stdout, the rest to stderr: eval "$(dockgate tls client alice)" points the
    docker CLI at the gateway with the new certificate."""
    from dockgate.pki import files
    from dockgate.pki.issue import make_client, open_ca

    where = _folder(folder)
    if out is None and (user in (".", "..") or "/" in user):
        raise BadParameter("USER", f"{user!r} cannot name a folder under {where / files.CLIENTS}: give the "
                                   "folder with --out")
    target = out.absolute() if out else where / files.CLIENTS / user
    config = session.load_config()
    with _refusals(folder, where):
        ca = open_ca(where)
        issued = _with_passphrase(ca.key, lambda password: make_client(
            ca, target, user, days, force=force, password=password))
    _note(f"issued the client certificate CN={user}, valid until {_date(issued.certificate)}")
    _note(f"  {target}: {files.CA_CERT} {files.CLIENT_CERT} {files.CLIENT_KEY} "
          "(key mode 0600)")
    _note("  use it with the docker CLI:")
    host = _client_address(where / files.SERVER_CERT)
    print(f"export DOCKER_HOST=tcp://{host}:{_port(config.gateway.listen)} DOCKER_TLS_VERIFY=1 "
          f"DOCKER_CERT_PATH={shlex.quote(str(target))}", flush=True)
    mapped = config.access.cert_users.get(user)
    if mapped:
        _note(f"  the gateway takes CN {user} as user {mapped} ([access] cert_users): "
              f"if {mapped} is not a user yet, dockgate users add {mapped}")
    else:
        _note(f"  the gateway takes CN {user} as the dockgate user {user}: add it with "
              f"dockgate users add {user}, or map the CN to a user in [access] cert_users")


@tls_app.command("ls")
def list_certificates(folder: DirOpt = None, fmt: output.FormatOpt = output.Format.table) -> None:
    """List the CA and the certificates under its folder: subject, names, usages, expiry, and whether
    each still verifies against the CA (certificates written elsewhere with --out are not seen)."""
    from dockgate.pki.survey import survey

    where = _folder(folder)
    with _refusals(folder, where):
        found = survey(where)
    for problem in found.unreadable:
        output.warn(str(problem))
    if fmt is output.Format.json:
        output.print_json([info.to_json() for info in found.certificates])
        return
    now = dt.datetime.now(dt.UTC)
    output.print_table(("KIND", "SUBJECT", "SANS", "USAGE", "EXPIRES", "STATUS", "PATH"),
                       ((c.kind, c.subject, ", ".join(c.sans), ", ".join(c.usages), _expiry(c, now),
                         c.status, _relative(c.path, where)) for c in found.certificates))


def _say(text: str) -> None:
    output.console.print(text, markup=False)  # paths and names may hold [brackets]


def _note(text: str) -> None:
    output.err_console.print(text, markup=False)


def _folder(flag: Path | None) -> Path:
    from dockgate.pki.files import default_folder

    return (flag or default_folder()).absolute()


def _dir_flag(flag: Path | None) -> str:
    return f" --dir {shlex.quote(str(flag))}" if flag else ""


@contextlib.contextmanager
def _refusals(flag: Path | None, where: Path, *, replacing: str = "") -> Iterator[None]:
    """pki's refusals as the CLI's exit-2 errors, each with the command or flag that fixes it."""
    from dockgate.pki.errors import FilesExist, InvalidInput, NoCA, PKIError

    try:
        yield
    except InvalidInput as exc:
        raise BadParameter(exc.param, exc.reason) from None
    except NoCA:
        raise ConfigError(f"no CA in {where} yet: run dockgate tls init{_dir_flag(flag)} first") from None
    except FilesExist as exc:
        them = "it" if len(exc.paths) == 1 else "them"
        raise ConfigError(f"{exc}: use --force to replace {them}{f' ({replacing})' if replacing else ''}"
                          ", or choose another folder") from None
    except PKIError as exc:
        raise ConfigError(str(exc)) from None


def _with_passphrase(key: Path, issue: Callable[[bytes | None], T]) -> T:
    """Issue with ``$DOCKGATE_CA_PASSPHRASE`` if set; for an encrypted CA key without it (docker's
    TLS guide makes such keys), ask for the passphrase in a terminal."""
    from dockgate.pki.errors import EncryptedKey

    given = os.environ.get(PASSPHRASE_ENV)
    try:
        return issue(given.encode() if given is not None else None)
    except EncryptedKey:
        if given is not None or not sys.stdin.isatty():
            raise ConfigError(f"{key} is encrypted: set {PASSPHRASE_ENV} to its passphrase, or run in a "
                              "terminal to type it") from None
    return issue(typer.prompt(f"passphrase for {key}", hide_input=True).encode())


def _loopback_listen(listen: str | None) -> bool:
    host = (listen or "").rpartition(":")[0].strip("[]")
    return host in ("", "localhost") or host.startswith("127.") or host == "::1"


def _port(listen: str | None) -> str:
    port = (listen or "").rpartition(":")[2]
    return port if port.isdigit() else _DEFAULT_PORT


def _client_address(server_cert: Path) -> str:
    """Where clients reach the gateway: a name of its certificate, when it has one besides loopback."""
    from dockgate.pki.errors import PKIError
    from dockgate.pki.issue import read_certificate
    from dockgate.pki.names import certificate_sans, client_address

    try:
        sans: list[x509.GeneralName] = certificate_sans(read_certificate(server_cert))
    except PKIError:
        return "127.0.0.1"
    return client_address(sans) or "127.0.0.1"


def _date(cert: x509.Certificate) -> str:
    return f"{cert.not_valid_after_utc:%Y-%m-%d}"


def _expiry(info: CertificateInfo, now: dt.datetime) -> str:
    days = (info.not_after - now).days
    when = f"in {days} days" if days >= 0 else f"{-days} days ago"
    return f"{info.not_after:%Y-%m-%d} ({when})"


def _relative(path: Path, folder: Path) -> str:
    return str(path.relative_to(folder)) if path.is_relative_to(folder) else str(path)

