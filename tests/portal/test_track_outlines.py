"""The track list draws every card from one sampling query: it must pick exactly the
points the one-track sampler picks, for short and long tracks alike."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from vault import selectors
from vault.keys import keys_for
from vault.models import Track, Trackpoint

pytestmark = pytest.mark.django_db
START = datetime(2026, 5, 1, 8, tzinfo=UTC)


def _track(person, points: int, hour: int) -> Track:
    keys = keys_for(person)
    track_id = uuid.uuid4()
    begin = START + timedelta(hours=hour)
    track = Track.objects.create(
        id=track_id,
        owner=person,
        sealed=keys.seal("track", track_id, {"name": f"track {hour}"}),
        fingerprint=keys.fingerprint("track", track_id),
        source="test",
        started_at=begin,
        ended_at=begin + timedelta(seconds=points),
        point_count=points,
    )
    rows = []
    for i in range(points):
        point_id = uuid.uuid4()
        rows.append(
            Trackpoint(
                id=point_id,
                owner=person,
                track=track,
                recorded_at=begin + timedelta(seconds=i),
                sealed=keys.seal("trackpoint", point_id, {"lat": 41.9 + i / 1e5, "lon": 12.5 + hour / 100}),
                fingerprint=keys.fingerprint("trackpoint", point_id),
                source="test",
            )
        )
    Trackpoint.objects.bulk_create(rows)
    return track


@pytest.mark.parametrize("limit", [5, 20, 80])
def test_one_query_picks_what_the_one_track_sampler_picks(person, other_person, limit):
    tracks = [_track(person, n, hour) for hour, n in enumerate((3, 47, 120, 20))]
    _track(other_person, 50, 9)  # someone else's points never mix in
    outlines = selectors.sampled_outlines_of(person, tracks, limit=limit)
    for track in tracks:
        expected = selectors.sampled_trackpoints_of(person, track=track, limit=limit)
        assert [p.id for p in outlines[track.id]] == [p.id for p in expected]
        assert len(outlines[track.id]) == min(limit, track.point_count)


def test_no_tracks_no_query(person, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert selectors.sampled_outlines_of(person, [], limit=10) == {}
