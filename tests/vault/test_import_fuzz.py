"""Fuzzing every parser: random bytes and mutated valid files never raise anything but
ImportMalformed/ImportRefused, and through the service never leave a partial write."""

from __future__ import annotations

import contextlib
import gzip

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.vault.fixtures import data_counts, fixture_bytes, import_bytes
from vault.errors import ImportMalformed, ImportRefused
from vault.importers import IMPORTERS, ParsedImport, detect_format
from vault.importers.compressed import expand
from vault.models import ImportJob

SAMPLES = {
    "gpx": "garmin_run.gpx",
    "takeout": "Records.json",
    "twitter_tweets": "tweets.js",
    "twitter_likes": "like.js",
    "eidetic": "eidetic.json",
}


VALUE_CHARS = "0123456789.-:TZ"
REPLACEMENTS = "x-.9e+ :ZN"


@st.composite
def mutated(draw, original: bytes) -> bytes:
    """A valid file with a few random cuts, insertions and byte flips."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        operation = draw(st.sampled_from(["truncate", "delete", "insert", "replace", "value", "value"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if operation == "value":
            # Change a character inside a value, keeping the file well-formed most of the time:
            # this is what reaches the field checks behind the syntax.
            value_positions = [i for i, byte in enumerate(data) if chr(byte) in VALUE_CHARS]
            if value_positions:
                data[draw(st.sampled_from(value_positions))] = ord(draw(st.sampled_from(REPLACEMENTS)))
        elif operation == "truncate":
            del data[at:]
        elif operation == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif operation == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=20) | st.sampled_from([b"<", b'"', b"{", b"]", b"&"]))
        elif data:
            data[at] = draw(st.integers(0, 255))
    return bytes(data)


def _parse_or_clean_error(format_name: str, data: bytes) -> None:
    error: Exception | None = None
    try:
        result = IMPORTERS[format_name].parse(data)
    except (ImportMalformed, ImportRefused) as raised:
        error = result = raised
    if error is not None:
        assert error.message  # a message for the person, not a traceback
    else:
        assert isinstance(result, ParsedImport)
        assert result.item_count > 0


@pytest.mark.parametrize("format_name", sorted(SAMPLES))
@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=2000))
def test_random_bytes_never_crash_a_parser(format_name, data):
    _parse_or_clean_error(format_name, data)


@pytest.mark.parametrize("format_name", sorted(SAMPLES))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_valid_files_never_crash_a_parser(format_name, data):
    _parse_or_clean_error(format_name, data.draw(mutated(fixture_bytes(SAMPLES[format_name]))))


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300), name=st.text(max_size=30))
def test_detection_and_expansion_never_crash(data, name):
    detect_format(name, data)
    for blob in (data, gzip.compress(data), b"\x1f\x8b" + data, b"PK\x03\x04" + data):
        with contextlib.suppress(ImportRefused):
            expand(blob, name)


@pytest.mark.django_db
@pytest.mark.parametrize("format_name", sorted(SAMPLES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_mutated_file_through_the_service_is_all_or_nothing(person, format_name, data):
    name = SAMPLES[format_name]
    content = data.draw(mutated(fixture_bytes(name)))
    before = data_counts()
    try:
        job = import_bytes(person, name, content)
    except ImportRefused:
        assert data_counts() == before
        return
    after = data_counts()
    if job.status == ImportJob.Status.FAILED:
        assert job.error_code in ("ImportMalformed", "ImportRefused")
        assert after == before
    else:
        assert job.status == ImportJob.Status.DONE
        added = sum(after.values()) - sum(before.values())
        tracks_added = after["Track"] - before["Track"]
        assert added - tracks_added == job.created_items
    assert job.sealed_upload is None
