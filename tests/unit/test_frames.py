"""Demultiplexing the engine's stream framing, whatever the chunking of the bytes on the wire."""

from __future__ import annotations

import pytest

from dockgate.engines.frames import Chunk, FrameDecoder, FrameError, StreamKind, encode_frame


def test_frames_split_at_every_byte_boundary_decode_the_same():
    wire = (encode_frame(StreamKind.STDOUT, b"out\n") + encode_frame(StreamKind.STDERR, b"err\n")
            + encode_frame(StreamKind.STDOUT, b"\x00\xffbinary"))
    expected = [Chunk(StreamKind.STDOUT, b"out\n"), Chunk(StreamKind.STDERR, b"err\n"),
                Chunk(StreamKind.STDOUT, b"\x00\xffbinary")]
    for split in range(len(wire) + 1):
        decoder = FrameDecoder()
        chunks = decoder.feed(wire[:split]) + decoder.feed(wire[split:])
        assert chunks == expected
        assert decoder.pending == 0


def test_incomplete_frame_waits_for_the_rest():
    decoder = FrameDecoder()
    assert decoder.feed(encode_frame(StreamKind.STDERR, b"abcdef")[:10]) == []
    assert decoder.pending == 10


def test_tty_streams_are_stdout_without_headers():
    decoder = FrameDecoder(tty=True)
    assert decoder.feed(b"\x01\x00\x00\x00raw") == [Chunk(StreamKind.STDOUT, b"\x01\x00\x00\x00raw")]


def test_unknown_stream_type_is_an_error_not_garbage():
    with pytest.raises(FrameError):
        FrameDecoder().feed(b"\x07\x00\x00\x00\x00\x00\x00\x01x")


def test_empty_frame():
    assert FrameDecoder().feed(encode_frame(StreamKind.STDOUT, b"")) == [Chunk(StreamKind.STDOUT, b"")]
