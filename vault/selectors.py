"""Reads from the vault. This module is the vault's public face: other apps (broker,
insights, portal views) read a person's data only through these functions, which open
records with the person's key and apply privacy zones before anything leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from config.prepared import PreparedQuery
from vault.keys import PersonKeys, keys_for
from vault.models import ImportJob, Moment, PrivacyZone, SocialItem, Track, Trackpoint
from vault.privacy import EffectiveZone, Zone, coarsen, effective_zone

Precision = Literal["precise", "coarse"]


@dataclass(frozen=True)
class Cursor:
    """Keyset position (time, id) of the last row of a page."""

    at: datetime
    id: UUID


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_cursor: Cursor | None


@dataclass(frozen=True)
class OpenedPoint:
    id: UUID
    recorded_at: datetime
    lat: float
    lon: float
    ele: float | None
    hr: int | None
    device: str | None


def _time_window(
    queryset: QuerySet, field: str, start: datetime | None, end: datetime | None, after: Cursor | None
) -> QuerySet:
    if start is not None:
        queryset = queryset.filter(**{f"{field}__gte": start})
    if end is not None:
        queryset = queryset.filter(**{f"{field}__lt": end})
    if after is not None:
        # The ``>=`` bound is implied by the OR below but is what lets the database start
        # its index scan at the cursor; without it every page re-reads (and filters out)
        # all the rows of the pages before it, so page n cost O(n).
        queryset = queryset.filter(
            Q(**{f"{field}__gte": after.at}),
            Q(**{f"{field}__gt": after.at}) | Q(**{field: after.at, "id__gt": after.id}),
        )
    return queryset.order_by(field, "id")


# --- keys and pseudonyms ----------------------------------------------------------------


def person_keys(person) -> PersonKeys:
    return keys_for(person)


def ledger_pseudonym(person) -> str:
    """The person's id on the public ledger; unlinkable once the person is erased."""
    return keys_for(person).pseudonym("ledger")


def pairwise_pseudonym(person, audience: str) -> str:
    """The person's id towards one partner (audience ``"partner:<uid>"``)."""
    return keys_for(person).pseudonym(audience)


# --- privacy zones ----------------------------------------------------------------------


def zones_of(person) -> list[dict[str, Any]]:
    keys = keys_for(person)
    return [{"id": zone.id, **zone.open(keys)} for zone in PrivacyZone.objects.filter(owner=person)]


# Tuples, unordered: read on every partner call (compiled once, config.prepared), and the
# order of zones does not matter.
_zones_of_owner = PreparedQuery(
    lambda owner: PrivacyZone.objects.filter(owner_id=owner).order_by().values_list("id", "sealed"),
    owner=PrivacyZone._meta.get_field("owner"),
)


def effective_zones_of(person, *, keys: PersonKeys | None = None) -> list[EffectiveZone]:
    keys = keys or keys_for(person)
    secret = keys.secret_for("privacy-zones")
    zones = []
    for zone_id, sealed in _zones_of_owner.rows(owner=person.pk):
        data = keys.unseal(PrivacyZone.RECORD_TYPE, zone_id, sealed)
        zone = Zone(lat=data["lat"], lon=data["lon"], radius_m=data["radius_m"])
        zones.append(effective_zone(zone, secret, str(zone_id)))
    return zones


# --- lifelog --------------------------------------------------------------------------


def trackpoints_of(
    person, *, start: datetime | None = None, end: datetime | None = None, track: Track | None = None
) -> list[OpenedPoint]:
    """The person's own points, opened, unfiltered: for her own eyes only (portal, export)."""
    keys = keys_for(person)
    queryset = Trackpoint.objects.filter(owner=person)
    if track is not None:
        queryset = queryset.filter(track=track)
    queryset = _time_window(queryset, "recorded_at", start, end, None)
    return [_open_point(keys, row) for row in queryset.only("id", "recorded_at", "sealed")]


def _open_point(keys: PersonKeys, row: Trackpoint) -> OpenedPoint:
    data = row.open(keys)
    return OpenedPoint(
        id=row.id,
        recorded_at=row.recorded_at,
        lat=data["lat"],
        lon=data["lon"],
        ele=data.get("ele"),
        hr=data.get("hr"),
        device=data.get("dev"),
    )


def trackpoints_for_sharing(
    person,
    *,
    start: datetime | None,
    end: datetime | None,
    precision: Precision = "precise",
    after: Cursor | None = None,
    limit: int = 100,
    include_heart_rate: bool = False,
    include_location: bool = True,
    keys: PersonKeys | None = None,
) -> Page:
    """Points a partner may receive: never one inside any privacy zone (effective edge).

    Pages are by stored rows: a page may hold fewer than ``limit`` items where points
    were withheld; ``next_cursor`` is None only when the window is exhausted.
    """
    keys = keys or keys_for(person)
    zones = effective_zones_of(person, keys=keys)
    queryset = _time_window(Trackpoint.objects.filter(owner=person), "recorded_at", start, end, after)
    rows = list(queryset.only("id", "recorded_at", "sealed")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    items: list[dict[str, Any]] = []
    for row in rows:
        point = _open_point(keys, row)
        if any(zone.contains(point.lat, point.lon) for zone in zones):
            continue
        item: dict[str, Any] = {"id": str(point.id), "recorded_at": point.recorded_at}
        if include_location:
            lat, lon = (point.lat, point.lon) if precision == "precise" else coarsen(point.lat, point.lon)
            item.update(lat=lat, lon=lon)
            if precision == "precise":
                item["ele"] = point.ele
        if include_heart_rate:
            item["hr"] = point.hr
        items.append(item)
    next_cursor = Cursor(rows[-1].recorded_at, rows[-1].id) if has_more and rows else None
    return Page(items=items, next_cursor=next_cursor)


def tracks_of(person) -> QuerySet[Track]:
    return Track.objects.filter(owner=person)


def open_track(person, track: Track) -> dict[str, Any]:
    return {
        "id": track.id,
        "started_at": track.started_at,
        "ended_at": track.ended_at,
        "point_count": track.point_count,
        **track.open(keys_for(person)),
    }


def _moment_rows_query(*, owner, start, end, after_at, after_id, limit) -> QuerySet:
    after = Cursor(after_at, after_id) if after_at is not None else None
    queryset = _time_window(Moment.objects.filter(owner_id=owner), "occurred_at", start, end, after)
    # Plain tuples of what is returned: no model instances, no unused columns to parse
    # (pages of partner reads open hundreds of rows per call).
    queryset = queryset.values_list("id", "occurred_at", "source", "sealed")
    return queryset[: limit + 1] if limit else queryset


# Every partner read of moments runs it: compiled once per shape (config.prepared).
_moment_rows = PreparedQuery(
    _moment_rows_query,
    owner=Moment._meta.get_field("owner"),
    start=Moment._meta.get_field("occurred_at"),
    end=Moment._meta.get_field("occurred_at"),
    after_at=Moment._meta.get_field("occurred_at"),
    after_id=Moment._meta.get_field("id"),
)


def _moment_rows_of(owner_id: int, *, start, end, after: Cursor | None, limit: int | None) -> list[tuple]:
    """(id, occurred_at, source, sealed) of one page of the owner's moments, one row more
    than ``limit`` when there are more."""
    after_at, after_id = (after.at, after.id) if after else (None, None)
    return _moment_rows.rows(
        owner=owner_id, start=start, end=end, after_at=after_at, after_id=after_id, shape={"limit": limit}
    )


def moments_of(
    person,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    after: Cursor | None = None,
    limit: int | None = None,
    keys: PersonKeys | None = None,
) -> Page:
    keys = keys or keys_for(person)
    rows = _moment_rows_of(person.pk, start=start, end=end, after=after, limit=limit)
    has_more = limit is not None and len(rows) > limit
    rows = rows[:limit] if limit else rows
    items = [
        {"id": str(row_id), "occurred_at": at, "source": source, **keys.unseal(Moment.RECORD_TYPE, row_id, sealed)}
        for row_id, at, source, sealed in rows
    ]
    return Page(items=items, next_cursor=Cursor(rows[-1][1], rows[-1][0]) if has_more else None)


def moments_for_sharing(
    person,
    *,
    start: datetime | None,
    end: datetime | None,
    after: Cursor | None = None,
    limit: int = 100,
    precision: Precision | None = None,
    keys: PersonKeys | None = None,
) -> Page:
    """Moments for a partner: a place inside a privacy zone loses its coordinates;
    without a location scope (``precision=None``) no coordinates are given at all.

    ``keys``: the person's keys when the caller already holds them (one key-store read
    per request instead of one per helper)."""
    keys = keys or keys_for(person)
    page = moments_of(person, start=start, end=end, after=after, limit=limit, keys=keys)
    zones = effective_zones_of(person, keys=keys)
    for item in page.items:
        item.pop("source", None)
        place = item.get("place")
        if not place:
            continue
        lat, lon = place.pop("lat", None), place.pop("lon", None)
        if precision is None or lat is None or any(zone.contains(lat, lon) for zone in zones):
            continue
        place["lat"], place["lon"] = (lat, lon) if precision == "precise" else coarsen(lat, lon)
    return page


def social_items_of(
    person,
    *,
    kinds: list[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    after: Cursor | None = None,
    limit: int | None = None,
    keys: PersonKeys | None = None,
) -> Page:
    keys = keys or keys_for(person)
    queryset = SocialItem.objects.filter(owner=person)
    if kinds:
        queryset = queryset.filter(kind__in=kinds)
    queryset = _time_window(queryset, "occurred_at", start, end, after)
    rows = list(queryset[: limit + 1] if limit else queryset)
    has_more = limit is not None and len(rows) > limit
    rows = rows[:limit] if limit else rows
    items = [
        {"id": str(row.id), "kind": row.kind, "network": row.network, "occurred_at": row.occurred_at, **row.open(keys)}
        for row in rows
    ]
    return Page(items=items, next_cursor=Cursor(rows[-1].occurred_at, rows[-1].id) if has_more else None)


def import_jobs_of(person) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(owner=person)


def import_job_of(person, job_id: UUID) -> ImportJob:
    """The person's own job; DoesNotExist for anyone else's (a 404, never a 403)."""
    return ImportJob.objects.get(owner=person, id=job_id)


def sampled_trackpoints_of(person, *, track: Track | None = None, limit: int = 300) -> list[OpenedPoint]:
    """At most ``limit`` of the person's own points, evenly spaced in time, opened (portal drawings).

    The database numbers the rows and returns only the sampled ones: drawing a 150-point
    outline of a 10,000-point track should not cost 10,000 fetches and decryptions.
    """
    queryset = Trackpoint.objects.filter(owner=person)
    if track is not None:
        queryset = queryset.filter(track=track)
    # A track knows its size (the importer counts it): one query less per track card.
    total = track.point_count if track is not None and track.point_count else queryset.count()
    if total > limit:
        step = (total - 1) / max(limit - 1, 1)
        wanted = sorted({round(i * step) + 1 for i in range(limit)})
        numbered = queryset.annotate(row_number=Window(RowNumber(), order_by=[F("recorded_at").asc(), F("id").asc()]))
        queryset = numbered.filter(row_number__in=wanted)
    keys = keys_for(person)
    rows = queryset.order_by("recorded_at", "id").only("id", "recorded_at", "sealed")
    return [_open_point(keys, row) for row in rows]


def sampled_outlines_of(person, tracks: list[Track], *, limit: int) -> dict[UUID, list[OpenedPoint]]:
    """``sampled_trackpoints_of`` for a page of track cards at once, in two queries however
    many tracks: the points per track, then the sampled rows of all of them (numbered over
    the tracks in order, so that one window condition picks every track's samples)."""
    if not tracks:
        return {}
    mine = Trackpoint.objects.filter(owner=person, track__in=[track.id for track in tracks])
    counts = dict(mine.values_list("track_id").annotate(n=Count("id")).values_list("track_id", "n"))
    wanted: list[int] = []
    offset = 0
    for track_id in sorted(counts):  # the same order as the window's, below
        total = counts[track_id]
        if total > limit:
            step = (total - 1) / max(limit - 1, 1)
            wanted += sorted({offset + round(i * step) + 1 for i in range(limit)})
        else:
            wanted += range(offset + 1, offset + total + 1)
        offset += total
    order = [F("track_id").asc(), F("recorded_at").asc(), F("id").asc()]
    rows = (
        mine.annotate(row_number=Window(RowNumber(), order_by=order))
        .filter(row_number__in=wanted)
        .order_by(*order)
        .only("id", "track_id", "recorded_at", "sealed")
    )
    keys = keys_for(person)
    outlines: dict[UUID, list[OpenedPoint]] = {track.id: [] for track in tracks}
    for row in rows:
        outlines[row.track_id].append(_open_point(keys, row))
    return outlines


def trackpoints_in_windows(person, windows: list[tuple[datetime, datetime]]) -> list[OpenedPoint]:
    """The person's own points inside any of the [start, end) windows, opened, by time.

    For the insights app's dwell times around moments: one key lookup, one plain range
    query per window (the (owner, recorded_at) index serves it; ORed windows made SQLite
    scan all her points) and value rows instead of model instances.
    """
    keys = keys_for(person)
    points: list[OpenedPoint] = []
    mine = Trackpoint.objects.filter(owner=person).order_by("recorded_at", "id")
    for start, end in sorted(windows):
        rows = mine.filter(recorded_at__gte=start, recorded_at__lt=end).values_list("id", "recorded_at", "sealed")
        for point_id, recorded_at, sealed in rows:
            data = keys.unseal(Trackpoint.RECORD_TYPE, point_id, bytes(sealed))
            points.append(
                OpenedPoint(
                    point_id, recorded_at, data["lat"], data["lon"], data.get("ele"), data.get("hr"), data.get("dev")
                )
            )
    return points
