"""Where dockgate's TLS files live, and how they are written.

One folder (``$XDG_CONFIG_HOME/dockgate/tls`` unless told otherwise) holds the CA and the gateway's
certificate under the names docker's TLS guide uses; each client gets a folder in the layout the
docker CLI reads from ``DOCKER_CERT_PATH``::

    ca.pem  ca-key.pem  server-cert.pem  server-key.pem  clients/USER/{ca.pem,cert.pem,key.pem}

Files are written whole or not at all (a temporary file renamed into place), keys owner-only from
their first byte, and nothing is replaced unless the caller says so.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from dockgate.pki.errors import FilesExist, PKIError

CA_CERT = "ca.pem"
CA_KEY = "ca-key.pem"
SERVER_CERT = "server-cert.pem"
SERVER_KEY = "server-key.pem"
CLIENT_CERT = "cert.pem"
CLIENT_KEY = "key.pem"
CLIENTS = "clients"

KEY_MODE = 0o600
CERT_MODE = 0o644


def default_folder(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/dockgate/tls`` (``~/.config/dockgate/tls``), beside the configuration file."""
    env = os.environ if env is None else env
    base = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "dockgate" / "tls"


def refuse_to_replace(paths: list[Path], force: bool) -> None:
    """Raise :class:`FilesExist` naming every one of ``paths`` that exists, unless ``force``."""
    existing = [p for p in paths if p.exists() or p.is_symlink()]
    if existing and not force:
        raise FilesExist(existing)


def make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise PKIError(f"cannot use {folder} as a folder: a file of that name is in the way") from None
    except OSError as exc:
        raise PKIError(f"cannot create {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PKIError(f"cannot write in {folder}: permission denied")


def write_file(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to a new file with ``mode`` in the same folder, then rename it over ``path``.

    The mode is set when the file is created, so a key is never readable by others, not even for
    the moment between creating and filling it; a key that was already there with a looser mode is
    replaced by a new file, not rewritten in place.
    """
    make_folder(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise PKIError(f"cannot write in {path.parent}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), mode)  # mkstemp makes 0600; certificates are for others to read
            out.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise PKIError(f"cannot write {path}: {exc.strerror}") from None
