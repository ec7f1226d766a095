"""Byte streams to a remote engine over ssh, the docker CLI's way: ``docker system dial-stdio``.

One SSH connection per host carries many channels; each channel runs dial-stdio, which connects its
stdin/stdout to the remote engine's socket (whatever path, rootless or not). Host keys are checked
against ``~/.ssh/known_hosts`` and ``~/.ssh/config`` is honoured (asyncssh's defaults).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from dockgate.net.streams import READ_SIZE

if TYPE_CHECKING:  # asyncssh costs ~0.1 s to import: only ssh hosts pay for it
    import asyncssh


class SSHProcessStream:
    """A ``docker system dial-stdio`` process on the remote host, as a ByteStream."""

    def __init__(self, process: asyncssh.SSHClientProcess[bytes]) -> None:
        self._process = process

    async def read(self, n: int = READ_SIZE) -> bytes:
        import asyncssh

        try:
            return await self._process.stdout.read(n)
        except (asyncssh.Error, ConnectionError):
            return b""

    def write(self, data: bytes) -> None:
        self._process.stdin.write(data)

    async def drain(self) -> None:
        await self._process.stdin.drain()

    def write_eof(self) -> None:
        with contextlib.suppress(Exception):  # the channel may already be gone
            self._process.stdin.write_eof()

    def close(self) -> None:
        self._process.close()

    async def wait_closed(self) -> None:
        await self._process.wait_closed()

    def extra(self, name: str) -> Any:
        return None


class SSHDialer:
    """Opens dial-stdio channels on one host, reconnecting the SSH session when it drops."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._host = parts.hostname or ""
        self._port = parts.port or 22
        self._user = parts.username
        self._conn: asyncssh.SSHClientConnection | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> SSHProcessStream:
        """A new dial-stdio channel; ssh failures become ConnectionError with the reason."""
        import asyncssh

        try:
            async with self._lock:
                if self._conn is None or self._conn.is_closed():
                    self._conn = await asyncssh.connect(self._host, self._port, username=self._user)
            process = await self._conn.create_process("docker system dial-stdio", encoding=None)
        except asyncssh.Error as exc:
            raise ConnectionError(f"ssh: {exc.reason}") from exc
        return SSHProcessStream(process)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
