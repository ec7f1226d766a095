"""Where an HTTP/1.1 chunked body ends, found without re-encoding it.

The engine sends streamed answers (logs, events, a large list) as one chunk per write, often one per
log line, and clients send build contexts and image tars the same way. Parsing and re-encoding each
chunk costs more than the engine takes to produce it, so bodies pass through unchanged and are only
scanned for their last chunk. The payload can be collected too, for the rare reader that needs it
decoded (an HTTP/1.0 client, an error message).
"""

from __future__ import annotations

_SIZE, _DATA, _TRAILER = range(3)
MAX_LINE = 4096


class ChunkedError(ValueError):
    """Not a valid chunked body."""


class ChunkedScanner:
    def __init__(self) -> None:
        self._state = _SIZE
        self._need = 0  # bytes of chunk data still to skip
        self._crlf = 0  # bytes of the CRLF after the chunk data still to skip
        self._line = bytearray()  # a size or trailer line split across reads
        self.done = False

    def feed(self, data: bytes | bytearray, payload: list[bytes | bytearray] | None = None) -> int:
        """How many bytes of ``data`` belong to the body (all of them unless it ends inside);
        chunk data is appended to ``payload`` when given."""
        pos, end = 0, len(data)
        while pos < end and not self.done:
            if self._state == _DATA:
                if self._need:
                    take = min(self._need, end - pos)
                    if payload is not None:
                        payload.append(data[pos:pos + take])
                    pos += take
                    self._need -= take
                    continue
                take = min(self._crlf, end - pos)
                pos += take
                self._crlf -= take
                if not self._crlf:
                    self._state = _SIZE
                continue
            eol = data.find(b"\n", pos)
            if eol < 0:
                self._line += data[pos:]
                if len(self._line) > MAX_LINE:
                    raise ChunkedError("chunk header line too long")
                return end
            line = bytes(self._line) + data[pos:eol] if self._line else data[pos:eol]
            self._line.clear()
            pos = eol + 1
            if self._state == _SIZE:
                size = _chunk_size(line)
                if size:
                    self._need, self._crlf, self._state = size, 2, _DATA
                else:
                    self._state = _TRAILER
            elif not line.rstrip(b"\r"):  # the empty line after the last chunk (and any trailers)
                self.done = True
        return pos


_HEX = frozenset(b"0123456789abcdefABCDEF")


def _chunk_size(line: bytes | bytearray) -> int:
    """Plain hex digits only, as Go reads them (Python's int() would also take 0x, _ and signs)."""
    text = line.split(b";", 1)[0].strip(b" \t\r")
    if not text or len(text) > 16 or not _HEX.issuperset(text):
        raise ChunkedError(f"invalid chunk size {text[:20]!r}")
    return int(text, 16)
