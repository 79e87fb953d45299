"""Files refused before anything is stored: empty, oversize, wrong type, compression bombs."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.vault.fixtures import fixture_bytes, import_bytes, vault_counts
from vault.errors import ImportRefused
from vault.importing import start_import
from vault.models import ImportJob

pytestmark = pytest.mark.django_db

FIXTURE_FORMATS = {
    "garmin_run.gpx": "gpx",
    "strava_ride.gpx": "gpx",
    "Records.json": "takeout",
    "tweets.js": "twitter_tweets",
    "like.js": "twitter_likes",
    "eidetic.json": "eidetic",
}
NOTHING = {"Track": 0, "Trackpoint": 0, "Moment": 0, "SocialItem": 0, "PrivacyZone": 0, "ImportJob": 0}


def _refused(person, name: str, data: bytes, format: str | None = None) -> str:
    with pytest.raises(ImportRefused) as refusal:
        import_bytes(person, name, data, format)
    assert vault_counts() == NOTHING
    message = str(refusal.value)
    assert message.startswith(f"{name} was refused: ")
    return message


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data)


def _zip(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "expected"), FIXTURE_FORMATS.items())
def test_each_format_is_detected_from_its_content(person, name, expected):
    job = import_bytes(person, name, fixture_bytes(name))
    assert (job.format, job.status) == (expected, ImportJob.Status.DONE)


@pytest.mark.parametrize("name", FIXTURE_FORMATS)
@pytest.mark.parametrize("content", [b"", b"   \n\t  "])
def test_an_empty_file_is_refused(person, name, content):
    assert "the file is empty" in _refused(person, name, content)


@pytest.mark.parametrize("name", FIXTURE_FORMATS)
def test_an_oversize_file_is_refused(person, name, settings):
    data = fixture_bytes(name)
    settings.VAULT = {**settings.VAULT, "IMPORT_MAX_BYTES": len(data) - 1}

    assert f"larger than the {len(data) - 1:,}-byte limit" in _refused(person, name, data)


def test_an_oversize_django_upload_is_refused_by_its_declared_size(person, settings):
    settings.VAULT = {**settings.VAULT, "IMPORT_MAX_BYTES": 100}
    upload = SimpleUploadedFile("run.gpx", fixture_bytes("garmin_run.gpx"), content_type="application/gpx+xml")

    with pytest.raises(ImportRefused, match=r"run\.gpx was refused: it is larger than"):
        start_import(person=person, upload=upload, filename="run.gpx")
    assert vault_counts() == NOTHING


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("holiday.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)),
        ("run.gpx", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)),
        ("notes.txt", b"Dear diary, today I walked to the lake."),
        ("Records.json", b'{"semanticSegments": []}'),
        ("report.pdf", b"%PDF-1.7\n1 0 obj"),
        ("page.html", b"<!doctype html><html><body>hi</body></html>"),
        ("ambiguous.json", b'{"format": "eidetic-import/1", "locations": []}'),
    ],
)
def test_a_file_of_another_type_is_refused(person, name, data):
    assert "its type is not one Eidetic imports" in _refused(person, name, data)


@pytest.mark.parametrize(
    ("name", "source"), [("run.gpx", "eidetic.json"), ("Records.json", "garmin_run.gpx"), ("tweets.js", "Records.json")]
)
def test_a_name_that_contradicts_the_content_is_refused(person, name, source):
    _refused(person, name, fixture_bytes(source))


def test_a_forced_format_must_match_the_content(person):
    message = _refused(person, "run.gpx", fixture_bytes("garmin_run.gpx"), format="takeout")
    assert "does not look like a Google Takeout Records.json file" in message


def test_an_unknown_forced_format_is_refused(person):
    assert "is not an import format" in _refused(person, "run.gpx", fixture_bytes("garmin_run.gpx"), format="kml")


@pytest.mark.parametrize("name", FIXTURE_FORMATS)
def test_gzip_and_zip_uploads_of_each_format_are_accepted(person, name):
    gz_job = import_bytes(person, f"{name}.gz", _gzip(fixture_bytes(name)))
    zip_job = import_bytes(person, f"{name}.zip", _zip((f"Takeout/{name}", fixture_bytes(name))))

    assert gz_job.status == ImportJob.Status.DONE, gz_job.error_detail
    assert gz_job.format == FIXTURE_FORMATS[name]
    assert gz_job.created_items > 0
    assert (zip_job.status, zip_job.created_items) == (ImportJob.Status.DONE, 0)  # same records: duplicates
    assert zip_job.duplicate_items == gz_job.created_items


def test_a_gzip_bomb_is_refused(person):
    bomb = _gzip(b"\n" * (50 * 1024 * 1024))  # ~50 KB that expands 1,000-fold
    assert len(bomb) < 100_000

    assert "compression bomb" in _refused(person, "bomb.gpx.gz", bomb)


def test_a_zip_bomb_is_refused(person):
    bomb = _zip(("Records.json", b'{"locations": [' + b" " * (50 * 1024 * 1024) + b"]}"))

    assert "compression bomb" in _refused(person, "bomb.zip", bomb)


def test_the_expanded_size_limit_applies_to_honest_files_too(person, settings):
    data = fixture_bytes("garmin_run.gpx")
    settings.VAULT = {**settings.VAULT, "IMPORT_MAX_EXPANDED_BYTES": len(data) - 1}

    assert "expands to more than" in _refused(person, "run.gpx.gz", _gzip(data))


def test_double_compression_is_refused(person):
    assert "compressed twice" in _refused(person, "run.gpx.gz.gz", _gzip(_gzip(fixture_bytes("garmin_run.gpx"))))


def test_a_damaged_gzip_is_refused(person):
    data = _gzip(fixture_bytes("garmin_run.gpx"))
    assert "not a readable gzip file" in _refused(person, "run.gpx.gz", data[: len(data) // 2])


def test_a_zip_with_several_files_is_refused(person):
    data = _zip(("a.gpx", fixture_bytes("garmin_run.gpx")), ("b.gpx", fixture_bytes("strava_ride.gpx")))
    assert "exactly one file" in _refused(person, "tracks.zip", data)


def test_a_damaged_zip_is_refused(person):
    assert "not a readable zip" in _refused(person, "x.zip", b"PK\x03\x04" + bytes(100))


def test_a_zip_holding_an_empty_file_is_refused(person):
    assert "empty" in _refused(person, "x.zip", _zip(("run.gpx", b"")))


def test_the_message_names_the_file_without_its_directories(person):
    with pytest.raises(ImportRefused, match=r"^notes\.txt was refused"):
        import_bytes(person, "/home/alice/private/notes.txt", b"hello")
