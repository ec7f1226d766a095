"""The chunked-body scanner finds the end of a body however the bytes are split."""

from __future__ import annotations

import pytest

from dockgate.net.chunked import ChunkedError, ChunkedScanner

BODY = (b"4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
        b"0\r\nTrailer: x\r\n\r\n")


def test_every_split_finds_the_same_end():
    for split in range(len(BODY) + 1):
        scanner = ChunkedScanner()
        used = scanner.feed(BODY[:split] + b"")
        assert used == split or scanner.done
        rest = scanner.feed(BODY[split:] + b"NEXT REQUEST") if not scanner.done else 0
        assert scanner.done
        assert split + rest == len(BODY)


def test_byte_by_byte():
    scanner = ChunkedScanner()
    for i in range(len(BODY)):
        assert scanner.feed(BODY[i:i + 1]) == 1
    assert scanner.done


def test_no_trailers_and_many_small_chunks():
    body = b"".join(b"%x\r\n%s\r\n" % (len(line), line) for line in [b"x" * 110] * 1000) + b"0\r\n\r\n"
    scanner = ChunkedScanner()
    assert scanner.feed(body + b"extra") == len(body) and scanner.done


@pytest.mark.parametrize("body", [b"zz\r\n", b"-1\r\n", b"+5\r\n", b"1" * 5000])
def test_invalid_sizes(body):
    with pytest.raises(ChunkedError):
        ChunkedScanner().feed(body)


@pytest.mark.parametrize("size", [b"0x5", b"+5", b"-5", b"5_0", b" ", b"1" * 17])
def test_chunk_sizes_are_plain_hex_as_go_reads_them(size):
    with pytest.raises(ChunkedError):
        ChunkedScanner().feed(size + b"\r\nhello\r\n0\r\n\r\n")
