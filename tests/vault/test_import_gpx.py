"""GPX importer: Garmin and Strava exports, and every way a GPX file can be bad."""

from __future__ import annotations

import pytest

from tests.vault.fixtures import data_counts, fixture_bytes, import_bytes, import_fixture
from vault.importing import import_job_filename
from vault.keys import keys_for
from vault.models import ImportJob, Track, Trackpoint
from vault.selectors import open_track, trackpoints_of

pytestmark = pytest.mark.django_db

EMPTY = {"Track": 0, "Trackpoint": 0, "Moment": 0, "SocialItem": 0, "PrivacyZone": 0}


def _gpx(points: str, creator: str = "test") -> bytes:
    return (
        f'<?xml version="1.0"?><gpx version="1.1" creator="{creator}" xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
        f"<trk><name>Secret Loop</name><trkseg>{points}</trkseg></trk></gpx>"
    ).encode()


GOOD_POINT = '<trkpt lat="52.5" lon="13.4"><time>2024-01-01T10:00:00Z</time></trkpt>'


def test_it_imports_a_garmin_connect_export_with_heart_rate(person):
    job = import_fixture(person, "garmin_run.gpx")

    assert job.status == ImportJob.Status.DONE, job.error_detail
    assert (job.format, job.total_items, job.processed_items, job.created_items) == ("gpx", 5, 5, 5)
    track = Track.objects.get(owner=person)
    assert track.source == "import:gpx"
    assert track.point_count == 5
    opened = open_track(person, track)
    assert (opened["name"], opened["device"], opened["activity"]) == (
        "Tiergarten Morning Loop",
        "Garmin Connect",
        "running",
    )
    points = trackpoints_of(person, track=track)
    assert [p.hr for p in points] == [96, 118, 131, 142, None]
    assert (points[0].lat, points[0].lon, points[0].ele) == (52.516272, 13.377701, 34.4)
    assert points[-1].ele is None
    assert points[0].device == "Garmin Connect"
    assert track.started_at.isoformat() == "2024-05-04T06:12:03+00:00"
    assert track.ended_at.isoformat() == "2024-05-04T06:14:50+00:00"
    assert job.sealed_upload is None
    assert import_job_filename(job) == "garmin_run.gpx"


def test_it_imports_a_strava_export_and_ignores_waypoints(person):
    job = import_fixture(person, "strava_ride.gpx")

    assert job.status == ImportJob.Status.DONE, job.error_detail
    assert job.created_items == 4
    track = Track.objects.get(owner=person)
    assert open_track(person, track)["activity"] == "cycling"
    assert [p.hr for p in trackpoints_of(person)] == [104, 109, 113, 117]


def test_a_second_import_of_the_same_file_creates_nothing(person):
    import_fixture(person, "garmin_run.gpx")
    before = data_counts()

    again = import_fixture(person, "garmin_run.gpx")

    assert again.status == ImportJob.Status.DONE
    assert (again.created_items, again.duplicate_items) == (0, 5)
    assert data_counts() == before


def test_the_same_file_for_two_people_is_two_vaults(person, other_person):
    import_fixture(person, "garmin_run.gpx")
    job = import_fixture(other_person, "garmin_run.gpx")

    assert job.created_items == 5
    assert Trackpoint.objects.filter(owner=other_person).count() == 5


def test_an_overlapping_file_stores_only_the_new_points(person):
    import_bytes(person, "a.gpx", _gpx(GOOD_POINT))
    two = GOOD_POINT + '<trkpt lat="52.6" lon="13.5"><time>2024-01-01T10:01:00Z</time></trkpt>'

    job = import_bytes(person, "b.gpx", _gpx(two))

    assert (job.created_items, job.duplicate_items) == (1, 1)
    assert Trackpoint.objects.filter(owner=person).count() == 2


def test_a_point_written_twice_in_one_file_is_stored_once(person):
    job = import_bytes(person, "twice.gpx", _gpx(GOOD_POINT * 2))

    assert (job.created_items, job.duplicate_items) == (1, 1)


def test_gpx_1_0_and_gpx_without_namespace_are_read(person):
    gpx10 = (
        b'<gpx version="1.0" creator="old" xmlns="http://www.topografix.com/GPX/1/0"><trk><trkseg>'
        b'<trkpt lat="1.5" lon="2.5"><time>2010-01-01T00:00:00Z</time></trkpt></trkseg></trk></gpx>'
    )
    bare = b'<gpx><trk><trkseg><trkpt lat="1.6" lon="2.6"><time>2010-01-01T00:00:01</time></trkpt></trkseg></trk></gpx>'

    assert import_bytes(person, "old.gpx", gpx10).created_items == 1
    assert import_bytes(person, "bare.gpx", bare).created_items == 1


def _assert_failed(job: ImportJob, code: str, *position_words: str) -> None:
    assert job.status == ImportJob.Status.FAILED
    assert job.error_code == code
    for word in position_words:
        assert word in job.error_detail
    assert job.sealed_upload is None
    assert job.created_items == 0
    assert data_counts() == EMPTY


def test_a_truncated_file_fails_with_its_line_and_column_and_stores_nothing(person):
    data = fixture_bytes("garmin_run.gpx")
    job = import_bytes(person, "cut.gpx", data[: len(data) * 2 // 3])

    _assert_failed(job, "ImportMalformed", "line ", "column ", "not well-formed")
    assert "cut.gpx" not in job.error_detail  # the name is sealed; the detail is stored in clear


def test_mismatched_tags_fail_with_the_position(person):
    data = fixture_bytes("strava_ride.gpx").replace(b"</ele>", b"</elevation>", 1)

    _assert_failed(import_bytes(person, "bad.gpx", data), "ImportMalformed", "line 12,")


def test_a_bad_coordinate_names_the_point_but_not_the_value(person):
    data = _gpx(GOOD_POINT + '<trkpt lat="fifty-two" lon="13.4"><time>2024-01-01T10:01:00Z</time></trkpt>')
    job = import_bytes(person, "bad.gpx", data)

    _assert_failed(job, "ImportMalformed", "track 1, point 2", "not a number")
    assert "fifty" not in job.error_detail


@pytest.mark.parametrize(
    ("point", "reason"),
    [
        ('<trkpt lat="91" lon="13.4"><time>2024-01-01T10:00:00Z</time></trkpt>', "out of range"),
        ('<trkpt lat="nan" lon="13.4"><time>2024-01-01T10:00:00Z</time></trkpt>', "out of range"),
        ('<trkpt lon="13.4"><time>2024-01-01T10:00:00Z</time></trkpt>', "missing"),
        ('<trkpt lat="52" lon="13.4"></trkpt>', "no time"),
        ('<trkpt lat="52" lon="13.4"><time>yesterday</time></trkpt>', "ISO 8601"),
        ('<trkpt lat="52" lon="13.4"><time>1600-01-01T00:00:00Z</time></trkpt>', "1970-2100"),
        ('<trkpt lat="52" lon="13.4"><ele>high</ele><time>2024-01-01T10:00:00Z</time></trkpt>', "elevation"),
        (
            '<trkpt lat="52" lon="13.4"><time>2024-01-01T10:00:00Z</time><extensions><gpxtpx:TrackPointExtension>'
            "<gpxtpx:hr>900</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>",
            "heart rate out of range",
        ),
    ],
)
def test_bad_points_fail_the_whole_file(person, point, reason):
    job = import_bytes(person, "bad.gpx", _gpx(GOOD_POINT + point))

    _assert_failed(job, "ImportMalformed", "track 1, point 2", reason)


@pytest.mark.parametrize("encoding", ["UxF-8", "UTF-16"])
def test_an_encoding_the_parser_cannot_use_fails_cleanly(person, encoding):
    # Found by the fuzz test: expat raised LookupError for an unknown encoding name.
    data = fixture_bytes("garmin_run.gpx").replace(b'encoding="UTF-8"', f'encoding="{encoding}"'.encode())

    _assert_failed(import_bytes(person, "enc.gpx", data), "ImportMalformed", "line 1")


def test_a_gpx_without_track_points_fails_clearly(person):
    data = b'<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><wpt lat="1" lon="2"/></gpx>'

    _assert_failed(import_bytes(person, "empty.gpx", data), "ImportMalformed", "no track points")


def test_an_entity_expansion_bomb_is_refused_and_stores_nothing(person):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><gpx><trk><name>&c;</name><trkseg>'
        b'<trkpt lat="1" lon="2"><time>2020-01-01T00:00:00Z</time></trkpt></trkseg></trk></gpx>'
    )
    _assert_failed(import_bytes(person, "bomb.gpx", bomb), "ImportRefused", "DTD")


def test_an_external_entity_is_refused(person):
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<gpx><trk><name>&x;</name><trkseg><trkpt lat="1" lon="2"><time>2020-01-01T00:00:00Z</time></trkpt>'
        b"</trkseg></trk></gpx>"
    )
    _assert_failed(import_bytes(person, "xxe.gpx", xxe), "ImportRefused", "DTD")


def test_sealed_values_belong_to_their_owner_and_row(person):
    import_fixture(person, "garmin_run.gpx")
    first, second = Trackpoint.objects.filter(owner=person).order_by("recorded_at")[:2]
    keys = keys_for(person)

    assert first.open(keys)["hr"] == 96
    from vault.errors import SealBroken

    with pytest.raises(SealBroken):
        keys.unseal(Trackpoint.RECORD_TYPE, second.id, bytes(first.sealed))


def test_millions_of_elements_outside_track_points_are_refused_before_they_fill_memory(person):
    filler = b"<extensions>" + b"<x/>" * 250_000 + b"</extensions>"
    data = _gpx(GOOD_POINT).replace(b"<trk>", filler + b"<trk>")

    _assert_failed(import_bytes(person, "filler.gpx", data), "ImportMalformed", "too many elements")
