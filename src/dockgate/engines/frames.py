"""Demultiplexing of the engine's stdout/stderr stream framing.

Non-TTY logs, attach and exec output arrive as frames: one byte stream type (0 stdin, 1 stdout,
2 stderr), three zero bytes, a big-endian uint32 length, then the payload. TTY containers send raw
bytes with no header. aiodocker merges and decodes the streams, which loses the separation and breaks
binary output, so the gateway, CLI and dashboard use this decoder instead.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

_HEADER = struct.Struct(">BxxxL")


class StreamKind(IntEnum):
    STDIN = 0
    STDOUT = 1
    STDERR = 2


@dataclass(frozen=True, slots=True)
class Chunk:
    stream: StreamKind
    data: bytes


class FrameDecoder:
    """Incremental decoder: feed bytes as they arrive, get whole chunks back.

    With ``tty=True`` every byte is stdout, as the engine sends no framing for TTY containers.
    """

    def __init__(self, *, tty: bool = False) -> None:
        self.tty = tty
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Chunk]:
        if self.tty:
            return [Chunk(StreamKind.STDOUT, bytes(data))] if data else []
        self._buf += data
        out: list[Chunk] = []
        while len(self._buf) >= _HEADER.size:
            kind, length = _HEADER.unpack_from(self._buf)
            end = _HEADER.size + length
            if len(self._buf) < end:
                break
            try:
                stream = StreamKind(kind)
            except ValueError as exc:
                raise FrameError(f"unknown stream type {kind} in a multiplexed stream") from exc
            out.append(Chunk(stream, bytes(self._buf[_HEADER.size : end])))
            del self._buf[:end]
        return out

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame still waiting for the rest."""
        return len(self._buf)


class FrameError(ValueError):
    """The stream does not follow the engine's framing (usually: it was a TTY stream)."""


def encode_frame(stream: StreamKind, data: bytes) -> bytes:
    """The inverse of :class:`FrameDecoder`, for tests and for re-framing relayed output."""
    return _HEADER.pack(int(stream), len(data)) + data
