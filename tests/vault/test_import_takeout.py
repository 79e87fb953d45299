"""Google Takeout Records.json importer."""

from __future__ import annotations

import json

import pytest

from tests.vault.fixtures import data_counts, fixture_bytes, import_bytes, import_fixture
from vault.models import ImportJob, Track
from vault.selectors import open_track, trackpoints_of

pytestmark = pytest.mark.django_db


def _records(*locations: dict) -> bytes:
    return json.dumps({"locations": list(locations)}).encode()


GOOD = {"latitudeE7": 515007439, "longitudeE7": -1246372, "timestamp": "2023-03-11T09:15:13.205Z"}


def test_it_imports_records_json_grouped_by_day_and_device(person):
    job = import_fixture(person, "Records.json")

    assert job.status == ImportJob.Status.DONE, job.error_detail
    assert (job.format, job.created_items) == ("takeout", 4)
    tracks = list(Track.objects.filter(owner=person).order_by("started_at"))
    assert [t.point_count for t in tracks] == [3, 1]
    assert {t.source for t in tracks} == {"import:takeout"}
    assert open_track(person, tracks[0])["name"] == "Location history 2023-03-11"
    points = trackpoints_of(person)
    assert (points[0].lat, points[0].lon, points[0].ele) == (51.5007439, -0.1246372, 21.0)
    assert points[0].device == "1978345513"
    # timestampMs, and an E7 longitude written as unsigned 32-bit by an old exporter
    assert points[-1].recorded_at.isoformat() == "2023-03-12T13:24:02+00:00"
    assert points[-1].lon == pytest.approx(-0.0123679)


def test_a_second_import_creates_nothing(person):
    import_fixture(person, "Records.json")
    before = data_counts()

    again = import_fixture(person, "Records.json")

    assert (again.created_items, again.duplicate_items) == (0, 4)
    assert data_counts() == before


def _assert_failed_clean(job, *words):
    assert job.status == ImportJob.Status.FAILED
    assert job.error_code == "ImportMalformed"
    for word in words:
        assert word in job.error_detail
    assert sum(data_counts().values()) == 0


def test_a_truncated_file_names_line_and_column(person):
    data = fixture_bytes("Records.json")
    _assert_failed_clean(import_bytes(person, "Records.json", data[:700]), "line ", "column ", "invalid JSON")


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ({**GOOD, "latitudeE7": "515007439"}, ("$.locations[1].latitudeE7", "integer")),
        ({**GOOD, "latitudeE7": 1_000_000_000}, ("$.locations[1]", "out of range")),
        ({"latitudeE7": 1, "timestamp": "2023-03-11T09:15:13Z"}, ("$.locations[1]", "longitudeE7 missing")),
        ({"latitudeE7": 1, "longitudeE7": 1}, ("$.locations[1]", "timestamp")),
        ({**GOOD, "timestamp": "last tuesday"}, ("$.locations[1].timestamp", "ISO 8601")),
        ({"latitudeE7": 1, "longitudeE7": 1, "timestampMs": "soon"}, ("$.locations[1]", "timestampMs")),
        ({**GOOD, "altitude": "high"}, ("$.locations[1].altitude",)),
        ("not an object", ("$.locations[1]", "object")),
    ],
)
def test_a_bad_record_fails_the_file_with_its_json_path(person, bad, words):
    job = import_bytes(person, "Records.json", _records(GOOD, bad))

    _assert_failed_clean(job, *words)
    assert "515007439" not in job.error_detail
    assert "last tuesday" not in job.error_detail


def test_nan_is_not_json(person):
    data = b'{"locations": [{"latitudeE7": NaN, "longitudeE7": 1, "timestamp": "2023-03-11T09:15:13Z"}]}'
    _assert_failed_clean(import_bytes(person, "Records.json", data), "NaN")


def test_locations_must_be_an_array(person):
    _assert_failed_clean(import_bytes(person, "Records.json", b'{"locations": {"a": 1}}'), "$", "locations")
