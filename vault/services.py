"""Writes to the vault that are not imports (see ``vault.importing`` for those)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from vault import keys as vault_keys
from vault.keys import keys_for
from vault.models import ExportJob, ImportJob, Moment, PrivacyZone, SocialItem, Track, Trackpoint
from vault.selectors import moments_of, social_items_of, trackpoints_of, zones_of

EXPORT_FORMAT = "eidetic-export/1"
MAX_ZONE_RADIUS_M = 5_000
MIN_ZONE_RADIUS_M = 50


class ZoneInvalid(ValueError):
    code = "ZoneInvalid"


def provision_vault(person) -> None:
    """Give a new person their data key. Safe to call again."""
    vault_keys.create_vault_key(person.uid)


def zone_create(*, person, label: str, lat: float, lon: float, radius_m: float) -> PrivacyZone:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ZoneInvalid("The centre must be a latitude in -90..90 and a longitude in -180..180.")
    if not (MIN_ZONE_RADIUS_M <= radius_m <= MAX_ZONE_RADIUS_M):
        raise ZoneInvalid(f"The radius must be between {MIN_ZONE_RADIUS_M} and {MAX_ZONE_RADIUS_M} metres.")
    keys = keys_for(person)
    zone_id = uuid.uuid4()
    payload = {"label": label.strip()[:80], "lat": float(lat), "lon": float(lon), "radius_m": float(radius_m)}
    zone = PrivacyZone(
        id=zone_id,
        owner=person,
        sealed=keys.seal(PrivacyZone.RECORD_TYPE, zone_id, payload),
        # Zones are never de-duplicated; the fingerprint just has to be unique.
        fingerprint=keys.fingerprint("zone", zone_id),
        source="portal",
    )
    zone.save()
    return zone


def zone_delete(*, person, zone_id: uuid.UUID) -> bool:
    deleted, _ = PrivacyZone.objects.filter(owner=person, id=zone_id).delete()
    return bool(deleted)


def export_person_data(person, *, progress: Callable[[], None] | None = None) -> dict[str, Any]:
    """Everything the person holds, opened, as one JSON-ready document (GDPR Art. 15/20).

    The format is documented in docs/export-format.md; dates are ISO 8601 UTC.
    ``progress`` is called once per track and once per other part (see ``export_steps``).
    """
    step = progress or (lambda: None)
    tracks = []
    for track in Track.objects.filter(owner=person).order_by("started_at"):
        points = trackpoints_of(person, track=track)
        tracks.append(
            {
                "id": str(track.id),
                "source": track.source,
                "started_at": track.started_at.isoformat(),
                "ended_at": track.ended_at.isoformat(),
                **track.open(keys_for(person)),
                "points": [
                    {
                        "time": p.recorded_at.isoformat(),
                        "lat": p.lat,
                        "lon": p.lon,
                        "ele": p.ele,
                        "hr": p.hr,
                        "device": p.device,
                    }
                    for p in points
                ],
            }
        )
        step()
    moments = [{**item, "occurred_at": item["occurred_at"].isoformat()} for item in moments_of(person).items]
    step()
    social = [{**item, "occurred_at": item["occurred_at"].isoformat()} for item in social_items_of(person).items]
    step()
    zones = [{**zone, "id": str(zone["id"])} for zone in zones_of(person)]
    return {
        "format": EXPORT_FORMAT,
        "exported_at": datetime.now(UTC).isoformat(),
        "account": {"id": str(person.uid), "username": person.username, "joined_at": person.date_joined.isoformat()},
        "tracks": tracks,
        "moments": sorted(moments, key=lambda item: item["occurred_at"]),
        "social_items": sorted(social, key=lambda item: item["occurred_at"]),
        "privacy_zones": zones,
        "imports": [
            {
                "id": str(job.id),
                "format": job.format,
                "status": job.status,
                "created_items": job.created_items,
                "created_at": job.created_at.isoformat(),
            }
            for job in ImportJob.objects.filter(owner=person)
        ],
    }


def export_steps(person) -> int:
    """How many times ``export_person_data`` calls ``progress``: each track, moments, social items."""
    return Track.objects.filter(owner=person).count() + 2


def shred_vault(person) -> None:
    """Crypto-shred, then delete: the data key goes first, so that whatever ciphertext
    survives (a crash before the deletes, a backup, a replica) never opens again.
    Idempotent."""
    vault_keys.shred(person.uid)
    with transaction.atomic():
        for model in (Trackpoint, Track, Moment, SocialItem, PrivacyZone, ImportJob, ExportJob):
            model.objects.filter(owner=person).delete()


def announce_new_records(person, *, since: datetime | None = None) -> None:
    """Tell the apps that derive from her vault data (``settings.VAULT["ON_NEW_RECORDS"]``,
    e.g. her interest timeline) that records changed from ``since`` on (None: unknown),
    so the vault and the club need not know them. Each hook is ``hook(person, since=...)``."""
    for path in settings.VAULT.get("ON_NEW_RECORDS", ()):
        import_string(path)(person, since=since)
