"""Why TLS files could not be made or used, in words that name the file and the fix.

The CLI turns :class:`InvalidInput` into its exit-2 ``invalid --FLAG`` message and every other
:class:`PKIError` into a one-line configuration error; other callers (tests, scripts) get plain
exceptions without importing the CLI.
"""

from __future__ import annotations

from pathlib import Path


class PKIError(Exception):
    """A CA, certificate or key that cannot be made, read or used."""


class InvalidInput(PKIError):
    """A name, address or validity the certificate cannot carry; ``param`` names the input."""

    def __init__(self, param: str, reason: str) -> None:
        super().__init__(f"invalid {param}: {reason}")
        self.param = param
        self.reason = reason


class NoCA(PKIError):
    """The folder holds no CA certificate yet."""

    def __init__(self, folder: Path) -> None:
        super().__init__(f"no CA in {folder}")
        self.folder = folder


class EncryptedKey(PKIError):
    """The CA key needs a passphrase (docker's own TLS guide makes such keys)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} is encrypted: its passphrase is needed")
        self.path = path


class FilesExist(PKIError):
    """Issuing would replace files that are already there."""

    def __init__(self, paths: list[Path]) -> None:
        names = ", ".join(str(p) for p in paths)
        super().__init__(f"{names} already exist{'s' if len(paths) == 1 else ''}")
        self.paths = paths
