"""Small fixes to a request head before h11 parses it.

The seed types ``GET /containers/json HTTP/1.1`` into telnet with no Host header; HTTP/1.1 requires
one and h11 rejects its absence, so a missing Host is supplied (the engine ignores its value).
"""

from __future__ import annotations

import re

_HOST = re.compile(rb"\r?\nhost[ \t]*:", re.IGNORECASE)
MAX_HEAD = 64 * 1024


def head_end(buf: bytes | bytearray) -> int:
    """Offset just past the blank line ending the head, or -1 if it has not arrived yet."""
    crlf = buf.find(b"\r\n\r\n")
    lf = buf.find(b"\n\n")
    ends = [i + 4 for i in (crlf,) if i >= 0] + [i + 2 for i in (lf,) if i >= 0]
    return min(ends) if ends else -1


def ensure_host(head: bytes) -> bytes:
    """``head`` ends with its blank line; returns it with ``Host: localhost`` added when missing."""
    request_line_end = head.find(b"\n")
    if request_line_end < 0 or not head[:request_line_end].rstrip().endswith(b"HTTP/1.1"):
        return head
    if _HOST.search(head):
        return head
    eol = b"\r\n" if head[request_line_end - 1:request_line_end] == b"\r" else b"\n"
    return head[:request_line_end + 1] + b"Host: localhost" + eol + head[request_line_end + 1:]
