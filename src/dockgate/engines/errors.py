"""One hierarchy for everything that goes wrong talking to an engine, each with a message a person
can act on. Layers above catch :class:`EngineError` and print ``str(exc)``; nobody sees a traceback.
"""

from __future__ import annotations

import ssl

import aiodocker
import aiohttp


class BadParameter(ValueError):
    """A parameter the engine would reject or misread, caught before sending; ``param`` names it
    for the CLI's exit-2 message and the gateway's 400."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"invalid {param}: {message}")
        self.param = param


class EngineError(Exception):
    """Base class. ``host`` names the engine the error came from."""

    exit_code = 1

    def __init__(self, message: str, *, host: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.host = host

    def __str__(self) -> str:
        return f"{self.host}: {self.message}" if self.host else self.message


class EngineUnreachable(EngineError):
    """No connection could be made: socket missing, connection refused, DNS, timeout."""


class EnginePermissionDenied(EngineUnreachable):
    """The socket exists but this user may not open it."""


class EngineTLSError(EngineUnreachable):
    """The TLS handshake failed: wrong CA, expired or mismatched certificate, TLS against plain TCP."""


class EngineAPIError(EngineError):
    """The engine answered with an error status; ``status`` and its own message are kept."""

    def __init__(self, status: int, message: str, *, host: str | None = None) -> None:
        super().__init__(message, host=host)
        self.status = status


class NotFound(EngineAPIError):
    """404: no such container, image, network, volume or exec."""


class ImageNotFound(NotFound):
    """404 for an image; the CLI offers ``pull``."""

    def __init__(self, status: int, message: str, *, host: str | None = None,
                 image: str | None = None) -> None:
        super().__init__(status, message, host=host)
        self.image = image


class Conflict(EngineAPIError):
    """409: name already in use, container not running, in use by another container..."""


class NotImplementedByDriver(EngineAPIError):
    """501: e.g. logs of a container whose log driver cannot be read back."""


def from_aiodocker(exc: aiodocker.DockerError, *, host: str, url: str) -> EngineError:
    """Turn aiodocker's one exception type into ours, recovering the connection cause it hides."""
    if exc.status == 900:  # aiodocker's code for "could not connect"; the cause is the context
        return from_connection_error(exc.__context__ or exc, host=host, url=url)
    message = str(exc.message).strip()
    if exc.status == 400 and "HTTP request to an HTTPS server" in message:  # Go's answer to plain HTTP
        return EngineTLSError(
            f"the engine at {url} only speaks TLS: give this host its CA and client certificate "
            "(tls_ca, tls_cert, tls_key, or DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH)", host=host)
    if exc.status == 404:
        if "no such image" in message.lower():
            return ImageNotFound(404, message, host=host)
        return NotFound(404, message, host=host)
    if exc.status == 409:
        return Conflict(409, message, host=host)
    if exc.status == 501:
        return NotImplementedByDriver(501, message, host=host)
    return EngineAPIError(exc.status, message, host=host)


def from_connection_error(exc: BaseException, *, host: str, url: str) -> EngineError:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, aiohttp.ClientConnectorCertificateError):
            cause = cause.certificate_error  # passes for ssl's error but lacks its verify_message
        if isinstance(cause, ssl.SSLCertVerificationError):
            return EngineTLSError(
                f"TLS verification of {url} failed ({cause.verify_message}); check the CA file "
                "and that the server certificate names this address", host=host)
        if isinstance(cause, ssl.SSLError | aiohttp.ClientSSLError):
            return EngineTLSError(
                f"TLS handshake with {url} failed ({_reason(cause)}); check the certificates and "
                "that the engine listens with TLS", host=host)
        if isinstance(cause, PermissionError):
            return EnginePermissionDenied(
                f"permission denied on {url}: run as root or as a member of the socket's group "
                "(usually 'docker')", host=host)
        if isinstance(cause, FileNotFoundError):
            return EngineUnreachable(f"cannot reach the engine at {url}: no such socket", host=host)
        if isinstance(cause, ConnectionRefusedError):
            server = "sshd" if url.startswith("ssh://") else "dockerd"
            return EngineUnreachable(
                f"cannot reach the engine at {url}: connection refused (is {server} running?)",
                host=host)
        if isinstance(cause, TimeoutError):
            return EngineUnreachable(f"cannot reach the engine at {url}: timed out", host=host)
        if isinstance(cause, aiohttp.ServerDisconnectedError):
            return EngineUnreachable(
                f"the engine at {url} closed the connection (plain HTTP to a TLS port?)", host=host)
        cause = cause.__cause__ or cause.__context__
    return EngineUnreachable(f"cannot reach the engine at {url}: {_reason(exc)}", host=host)


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
    return str(text) or type(exc).__name__
