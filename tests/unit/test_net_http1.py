"""Heads and body framing: what the relay forwards, where each message ends, and what it refuses."""

from __future__ import annotations

import pytest

from dockgate.net.http1 import (
    Body,
    HTTPError,
    forwardable,
    head_end,
    is_relayable_as_sent,
    parse_request_head,
    parse_response_head,
    request_body,
    request_bytes,
    response_body,
    response_bytes,
)


def test_head_end_with_crlf_and_with_bare_newlines():
    assert head_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\nbody") == len(b"GET / HTTP/1.1\r\nA: b\r\n\r\n")
    assert head_end(b"GET / HTTP/1.1\n\n") == len(b"GET / HTTP/1.1\n\n")
    assert head_end(b"GET / HTTP/1.1\r\nA: b\r\n") == -1
    assert head_end(b"GET / HTTP/1.1\r\n\r\nPOST / HTTP/1.1\n\n") == len(b"GET / HTTP/1.1\r\n\r\n")


def test_request_head_parts():
    head = parse_request_head(b"POST /v1.41/exec/x/start?a=1 HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n"
                              b"Upgrade: tcp\r\nContent-Length: 2\r\n\r\n")
    assert (head.method, head.target, head.version) == (b"POST", b"/v1.41/exec/x/start?a=1", b"1.1")
    assert head.get(b"host") == b"h"
    assert head.upgrade == b"tcp"
    assert head.keep_alive
    assert not request_body(head).done


def test_telnet_style_head_without_host_and_with_bare_newlines_parses():
    head = parse_request_head(b"GET /containers/json?all=1 HTTP/1.1\nAccept: */*\n\n")
    assert head.target == b"/containers/json?all=1"
    assert head.get(b"host") is None
    assert head.get(b"accept") == b"*/*"
    assert request_body(head).done


@pytest.mark.parametrize(("head", "keep"), [
    (b"GET / HTTP/1.1\r\n\r\n", True),
    (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", False),
    (b"GET / HTTP/1.0\r\n\r\n", False),
    (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", True),
])
def test_keep_alive_follows_version_and_connection_header(head, keep):
    assert parse_request_head(head).keep_alive is keep


def test_upgrade_needs_the_connection_token():
    assert parse_request_head(b"GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n").upgrade is None


@pytest.mark.parametrize(("head", "status", "fragment"), [
    (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "Content-Length"),
    (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400, "Content-Length"),
    (b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400, "Content-Length"),
    (b"GET / HTTP/1.1\r\nBad Header: a\r\n\r\n", 400, "header"),
    (b"NOT HTTP AT ALL\r\n\r\n", 400, "invalid request"),
    (b"GET / HTTP/2.0\r\n\r\n", 505, "version"),
])
def test_ambiguous_or_broken_heads_are_refused(head, status, fragment):
    with pytest.raises(HTTPError) as caught:
        request_body(parse_request_head(head))
    assert caught.value.status == status
    assert fragment.lower() in str(caught.value).lower()


def test_transfer_codings_other_than_chunked_are_refused():
    head = parse_request_head(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
    with pytest.raises(HTTPError) as caught:
        request_body(head)
    assert caught.value.status == 501


def test_length_body_ends_exactly_and_leaves_the_next_request():
    body = Body(length=5)
    data = b"helloGET / HTTP/1.1\r\n\r\n"
    assert body.feed(data) == 5
    assert body.done


def test_chunked_body_is_delimited_and_can_be_decoded():
    body = Body(chunked=True)
    payload: list[bytes] = []
    data = b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nNEXT"
    assert body.feed(data[:7], payload) == 7
    assert body.feed(data[7:], payload) == len(data) - 7 - 4
    assert body.done
    assert b"".join(payload) == b"abcde"


def test_broken_chunked_body_is_an_error():
    with pytest.raises(HTTPError):
        Body(chunked=True).feed(b"zz\r\n")


@pytest.mark.parametrize(("response", "method", "kind"), [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", b"HEAD", "none"),
    (b"HTTP/1.1 204 No Content\r\n\r\n", b"DELETE", "none"),
    (b"HTTP/1.1 304 Not Modified\r\n\r\n", b"GET", "none"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"GET", "chunked"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", b"GET", "length"),
    (b"HTTP/1.0 200 OK\r\n\r\n", b"GET", "eof"),
])
def test_response_framing(response, method, kind):
    body = response_body(parse_response_head(response), method)
    actual = "none" if body.done else "chunked" if body.chunked else "eof" if body.until_eof else "length"
    assert actual == kind


def test_response_head_parts_and_keep_alive():
    head = parse_response_head(b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
    assert (head.status, head.reason, head.keep_alive) == (101, b"UPGRADED", True)
    assert not parse_response_head(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").keep_alive


def test_hop_by_hop_headers_and_those_named_by_connection_are_not_forwarded():
    headers = [(b"Host", b"h"), (b"Connection", b"close, X-Private"), (b"X-Private", b"1"),
               (b"Keep-Alive", b"5"), (b"Transfer-Encoding", b"chunked"), (b"Expect", b"100-continue")]
    assert forwardable(headers) == [(b"Host", b"h"), (b"Transfer-Encoding", b"chunked")]


@pytest.mark.parametrize(("raw", "as_sent"), [
    (b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nTransfer-Encoding: chunked\r\n\r\n", True),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", False),
    (b"HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 0\r\n\r\n", False),
    (b"HTTP/1.1 200 OK\nContent-Length: 0\n\n", False),  # bare newlines: rewritten with CRLF
    (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", False),  # forwarded as HTTP/1.1
])
def test_a_response_head_goes_unchanged_only_when_nothing_in_it_is_about_the_connection(raw, as_sent):
    assert is_relayable_as_sent(parse_response_head(raw), raw) is as_sent


def test_serialised_heads_parse_back():
    raw = request_bytes(b"GET", b"/v1.41/info", [(b"Host", b"x")])
    assert parse_request_head(raw).target == b"/v1.41/info"
    raw = response_bytes(404, b"Not Found", [(b"Content-Length", b"0")])
    assert parse_response_head(raw).status == 404
