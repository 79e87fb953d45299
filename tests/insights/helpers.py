"""Storing vault records for insights tests, sealed the way the vault stores them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from vault.keys import keys_for
from vault.models import Moment, SocialItem, Track, Trackpoint


def add_moment(
    person,
    when: datetime,
    label: str,
    *,
    sentiment: str = "likes",
    tags: list[str] | None = None,
    place: dict[str, Any] | None = None,
    hr: int | None = None,
    kind: str = "place",
) -> Moment:
    keys = keys_for(person)
    moment_id = uuid.uuid4()
    payload = {"kind": kind, "label": label, "tags": tags or [], "sentiment": sentiment, "place": place, "hr": hr}
    return Moment.objects.create(
        id=moment_id,
        owner=person,
        occurred_at=when,
        source="test",
        fingerprint=keys.fingerprint("moment", moment_id),
        sealed=keys.seal(Moment.RECORD_TYPE, moment_id, payload),
    )


def add_social(person, when: datetime, text: str, *, kind: str = "post", topic: str | None = None) -> SocialItem:
    keys = keys_for(person)
    item_id = uuid.uuid4()
    payload = {"text": text, "topic": topic, "url": None, "handle": None}
    return SocialItem.objects.create(
        id=item_id,
        owner=person,
        kind=kind,
        network="test",
        occurred_at=when,
        source="test",
        fingerprint=keys.fingerprint("social", item_id),
        sealed=keys.seal(SocialItem.RECORD_TYPE, item_id, payload),
    )


def add_track(person, points: list[tuple[datetime, float, float, int | None]]) -> Track:
    keys = keys_for(person)
    track_id = uuid.uuid4()
    track = Track.objects.create(
        id=track_id,
        owner=person,
        started_at=points[0][0],
        ended_at=points[-1][0],
        point_count=len(points),
        source="test",
        fingerprint=keys.fingerprint("track", track_id),
        sealed=keys.seal(Track.RECORD_TYPE, track_id, {"name": "walk"}),
    )
    rows = []
    for when, lat, lon, hr in points:
        point_id = uuid.uuid4()
        rows.append(
            Trackpoint(
                id=point_id,
                owner=person,
                track=track,
                recorded_at=when,
                source="test",
                fingerprint=keys.fingerprint("point", point_id),
                sealed=keys.seal(Trackpoint.RECORD_TYPE, point_id, {"lat": lat, "lon": lon, "ele": None, "hr": hr}),
            )
        )
    Trackpoint.objects.bulk_create(rows)
    return track
