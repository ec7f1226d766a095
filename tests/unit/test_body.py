"""Request bodies decoded as the engine's Go encoding/json decodes them, ambiguity refused.

The folding cases were checked against Go's encoding/json: "Ho\\u017ftConfig" (long s) and
"Networ\\u212aMode" (Kelvin sign) set HostConfig and NetworkMode; "Pr\\u0131vileged" (dotless i)
does not set Privileged; a HostConfig given twice in different case is merged.
"""

from __future__ import annotations

import json

import pytest

from dockgate.access.body import (
    DEFAULT_LIMIT,
    BodyError,
    BodyTooLarge,
    GoObject,
    ensure_within_limit,
    fold_name,
    parse_body,
)

LONG_S = "\u017f"
KELVIN = "\u212a"


@pytest.mark.parametrize("key", [
    "HostConfig", "hostconfig", "HOSTCONFIG", "hOsTcOnFiG",
    f"Ho{LONG_S}tConfig", f"HO{LONG_S}TCONFIG",
])
def test_struct_fields_match_any_folded_spelling(key):
    body = parse_body(json.dumps({key: {"Privileged": True}}, ensure_ascii=False).encode())
    assert body.get("HostConfig") == {"Privileged": True}
    assert body["HostConfig"]["privileged"] is True
    assert "HostConfig" in body
    assert list(body) == [key]


@pytest.mark.parametrize("key", [f"Networ{KELVIN}Mode", f"networ{KELVIN}mode", "Networ\\u212aMode"])
def test_kelvin_sign_folds_with_k(key):
    raw = ('{"' + key + '": "host"}').encode()
    assert parse_body(raw).get("NetworkMode") == "host"


def test_escapes_are_decoded_before_matching():
    body = parse_body(b'{"\\u0048ostConfig": {"\\u0050rivileged": true, "Bind\\u0073": ["/:/h"]}}')
    host = body.get("HostConfig")
    assert host.get("Privileged") is True and host.get("Binds") == ["/:/h"]


@pytest.mark.parametrize("key", [
    "Pr\u0131vileged",   # dotless i: Go pins it to itself, so no match
    "Pr\u0130vileged",   # dotted capital I: likewise
    "Privil\u00e9ged",   # a different letter
    "Privileged\u200b",  # zero-width space
])
def test_lookalikes_do_not_match(key):
    body = parse_body(json.dumps({key: True}, ensure_ascii=False).encode())
    assert body.get("Privileged") is None and "Privileged" not in body


@pytest.mark.parametrize(("a", "b", "same"), [
    ("Image", "IMAGE", True),
    (f"{LONG_S}ysctls", "Sysctls", True),
    (f"{KELVIN}ernelMemory", "kernelmemory", True),
    ("\u00e9", "\u00c9", True),               # non-ASCII letters fold too (for unknown keys)
    ("\u03c3", "\u03c2", True),               # sigma and final sigma
    ("\u00df", "SS", False),                  # multi-letter mappings are not simple folds
    ("fi", "\ufb01", False),
    ("i", "\u0131", False),
])
def test_fold_name_follows_go_simple_folding(a, b, same):
    assert (fold_name(a) == fold_name(b)) is same


def test_exact_duplicate_is_refused_with_its_path():
    with pytest.raises(BodyError) as info:
        parse_body(b'{"HostConfig": {"Binds": ["/srv:/s"], "Mounts": [{"Type": "bind", "Type": "volume"}]}}')
    assert info.value.status == 400
    assert '"Type"' in info.value.message and "HostConfig.Mounts[0]" in info.value.message


def test_duplicate_spelt_by_escape_is_refused():
    with pytest.raises(BodyError) as info:
        parse_body(b'{"Privileged": false, "\\u0050rivileged": true}')
    assert info.value.status == 400 and "given twice" in info.value.message


@pytest.mark.parametrize(("raw", "field"), [
    (b'{"HostConfig": {"Privileged": true}, "hostconfig": {"Memory": 1}}', "Memory"),
    (b'{"HostConfig": {"Privileged": true, "PRIVILEGED": false}}', "Privileged"),
    (f'{{"HostConfig": {{"Binds": [], "Bind{LONG_S}": ["/:/h"]}}}}'.encode(), "Binds"),
])
def test_folded_duplicate_struct_field_is_refused_when_read(raw, field):
    body = parse_body(raw)
    with pytest.raises(BodyError) as info:
        body.get("HostConfig").get(field)
    assert info.value.status == 400 and "more than once" in info.value.message


def test_map_keys_differing_in_case_are_distinct_entries():
    body = parse_body(b'{"Labels": {"tier": "a", "Tier": "b"}}')
    assert body.get("Labels").pairs() == (("tier", "a"), ("Tier", "b"))
    assert body.get("labels") == {"tier": "a", "Tier": "b"}


def test_oversized_body_is_413_not_skipped():
    with pytest.raises(BodyTooLarge) as info:
        parse_body(b'{"Image": "' + b"a" * 100 + b'"}', limit=64)
    assert info.value.status == 413 and "64 bytes" in info.value.message


def test_size_check_before_reading():
    ensure_within_limit(DEFAULT_LIMIT)
    with pytest.raises(BodyTooLarge):
        ensure_within_limit(DEFAULT_LIMIT + 1)


def test_default_limit_is_one_mebibyte():
    body = b'{"Env": ["' + b"x" * (DEFAULT_LIMIT - 20) + b'"]}'
    assert len(body) <= DEFAULT_LIMIT and parse_body(body).get("Env")
    with pytest.raises(BodyTooLarge):
        parse_body(body + b" " * 20)


@pytest.mark.parametrize(("raw", "expect", "words"), [
    (b"[1, 2]", "object", "expected an object, got an array"),
    (b'"text"', "object", "got a string"),
    (b"null", "object", "got null"),
    (b"{}", "array", "expected an array, got an object"),
    (b'{"a": 1} {"b": 2}', "object", "Extra data"),
    (b'{"a": NaN}', "object", "NaN"),
    (b'{"a": Infinity}', "object", "Infinity"),
    (b'\xef\xbb\xbf{"a": 1}', "object", "BOM"),
    (b'{"a": 1,}', "object", "line 1"),
    (b'{"Image": "a\\ud800b"}', "object", "surrogate"),
    (b"[" * 5000 + b"]" * 5000, "any", "nested too deeply"),
])
def test_malformed_or_wrong_shape_is_400(raw, expect, words):
    with pytest.raises(BodyError) as info:
        parse_body(raw, expect=expect)
    assert info.value.status == 400 and words in info.value.message


@pytest.mark.parametrize("raw", [b'{"Image": "\xff"}', b'{"Image": "\xc3"}', b'{"\xed\xa0\x80": 1}'])
def test_invalid_utf8_is_400(raw):
    with pytest.raises(BodyError) as info:
        parse_body(raw)
    assert info.value.status == 400 and "not UTF-8" in info.value.message


def test_surrogate_pairs_are_fine():
    assert parse_body(b'{"Image": "\\ud83d\\ude00"}').get("Image") == "\U0001f600"


@pytest.mark.parametrize("raw", [b"", b"  \r\n\t"])
def test_empty_body_is_none(raw):
    assert parse_body(raw) is None


def test_array_body():
    assert parse_body(b'["DEBUG=1"]', expect="array") == ["DEBUG=1"]


def test_go_object_is_read_only_mapping_of_actual_keys():
    body = parse_body(b'{"image": "busybox", "Cmd": ["sh"]}')
    assert isinstance(body, GoObject) and len(body) == 2
    assert list(body) == ["image", "Cmd"] and body.spellings("IMAGE") == ["image"]
    assert body.get("Entrypoint", "absent") == "absent"
    with pytest.raises(KeyError):
        body["Entrypoint"]
    with pytest.raises(TypeError):
        body["Image"] = "x"  # type: ignore[index]
