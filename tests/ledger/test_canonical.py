"""The ledger's canonical encoding is RFC 8785 (JCS), byte for byte, whichever path writes it."""

from __future__ import annotations

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import entries

SAFE_INTEGERS = st.integers(-entries.MAX_SAFE_INTEGER, entries.MAX_SAFE_INTEGER)
# Controls, quote, backslash, DEL, Latin-1, BMP letters past the surrogates, astral emoji.
TEXT = st.text(
    st.one_of(
        st.characters(max_codepoint=0x7F),
        st.sampled_from("éß€\ue000\uffef\u2028😀𝄞"),
    ),
    max_size=12,
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | SAFE_INTEGERS | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(TEXT, JSON_VALUES, max_size=6))
def test_the_encoding_is_the_rfc8785_one(body):
    entries.check_json_value(body)
    document = {"v": 1, "seq": 7, "ts": "2026-11-22T12:00:00.000000Z", "body": body, "prev": "0" * 64}

    assert entries.canonical(document) == rfc8785.dumps(document)


def test_keys_that_sort_differently_in_utf16_take_the_library_path():
    # U+E000 sorts after U+1D11E by code point, before it by UTF-16 code unit (JCS's order).
    document = {"\ue000": 1, "𝄞": 2}

    encoded = entries.canonical(document)

    assert encoded == rfc8785.dumps(document)
    assert encoded.index("𝄞".encode()) < encoded.index("\ue000".encode())
