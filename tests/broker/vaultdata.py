"""Sealed vault records for broker tests, written the way the importers write them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from vault.keys import keys_for
from vault.models import Moment, SocialItem, Track, Trackpoint


def add_moments(person, start: datetime, count: int, *, step=timedelta(minutes=1), place=None) -> list[Moment]:
    keys = keys_for(person)
    rows = []
    for index in range(count):
        moment_id = uuid.uuid4()
        payload = {
            "kind": "place",
            "label": f"moment {index}",
            "tags": ["cosy"],
            "sentiment": "loves",
            "place": dict(place) if place else None,
            "hr": 70,
        }
        rows.append(
            Moment(
                id=moment_id,
                owner=person,
                occurred_at=start + index * step,
                source="test",
                fingerprint=keys.fingerprint("moment", moment_id),
                sealed=keys.seal("moment", moment_id, payload),
            )
        )
    return Moment.objects.bulk_create(rows)


def add_points(person, start: datetime, coordinates: list[tuple[float, float]], *, step=timedelta(seconds=10)):
    keys = keys_for(person)
    track_id = uuid.uuid4()
    track = Track.objects.create(
        id=track_id,
        owner=person,
        started_at=start,
        ended_at=start + step * max(len(coordinates), 1),
        point_count=len(coordinates),
        source="test",
        fingerprint=keys.fingerprint("track", track_id),
        sealed=keys.seal("track", track_id, {"name": "walk"}),
    )
    rows = []
    for index, (lat, lon) in enumerate(coordinates):
        point_id = uuid.uuid4()
        rows.append(
            Trackpoint(
                id=point_id,
                owner=person,
                track=track,
                recorded_at=start + index * step,
                source="test",
                fingerprint=keys.fingerprint("pt", point_id),
                sealed=keys.seal("trackpoint", point_id, {"lat": lat, "lon": lon, "ele": 12.5, "hr": 80 + index % 40}),
            )
        )
    return Trackpoint.objects.bulk_create(rows)


def add_social(person, start: datetime, kind: str, count: int) -> list[SocialItem]:
    keys = keys_for(person)
    rows = []
    for index in range(count):
        item_id = uuid.uuid4()
        payload = {"text": f"{kind} {index}", "topic": "chairs", "handle": "@a_friend", "url": "https://x.example/1"}
        rows.append(
            SocialItem(
                id=item_id,
                owner=person,
                kind=kind,
                network="x",
                occurred_at=start + timedelta(minutes=index),
                source="test",
                fingerprint=keys.fingerprint("social", item_id),
                sealed=keys.seal("social_item", item_id, payload),
            )
        )
    return SocialItem.objects.bulk_create(rows)
