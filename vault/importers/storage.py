"""Fingerprinting, sealing and storing parsed records: the fast path behind every import.

Rows are written with ``executemany`` on the raw cursor rather than ``bulk_create``:
on the 2-core reference machine ``bulk_create`` costs ~90 us per trackpoint (model
instances, per-field pre_save/prep), which alone would cap imports near 10,000 points/s
before any sealing. The values written are exactly what Django would write (see
``ColumnValues``), so the ORM reads them back unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, connections, models, transaction
from django.utils import timezone

from vault.crypto import associated_data, seal_bytes
from vault.importers.base import ParsedImport, ParsedMoment, ParsedSocialItem, ParsedTrack
from vault.keys import PersonKeys, keys_for
from vault.models import Moment, SocialItem, Track, Trackpoint

ProgressCallback = Callable[[int], None]
LOOKUP_CHUNK = 500  # stays under SQLite's 999 parameters per statement


@dataclass
class StoreResult:
    created: int = 0
    duplicates: int = 0
    tracks_created: int = 0
    # The time of the earliest record stored (None: nothing new): what derived data, such
    # as her interest timeline, recomputes from.
    earliest: datetime | None = None


class ColumnValues:
    """Database values for the columns the importer writes, as Django would produce them.

    SQLite keeps UUIDs as 32 hex characters and datetimes as naive UTC text; other
    backends (PostgreSQL) take the Python objects, which their driver adapts.
    """

    def __init__(self, alias: str = "default") -> None:
        self.connection = connections[alias]
        self.is_sqlite = self.connection.vendor == "sqlite"

    def uuid(self, value: uuid.UUID | str) -> Any:
        """From a UUID or its 32 hex digits."""
        if self.is_sqlite:
            return value if isinstance(value, str) else value.hex
        return value if isinstance(value, uuid.UUID) else uuid.UUID(value)

    def time(self, value: datetime, formatted: str | None = None) -> Any:
        """``formatted``: ``str(value)`` if the caller has it already."""
        if not self.is_sqlite:
            return value
        if value.tzinfo is UTC:  # what every importer produces: str() then drop "+00:00"
            return (formatted or str(value))[:-6]
        return str(value.astimezone(UTC).replace(tzinfo=None))

    def constant(self, model: type[models.Model], name: str, value: Any) -> Any:
        return model._meta.get_field(name).get_db_prep_save(value, self.connection)


def new_ids(count: int) -> list[str]:
    """``count`` fresh UUIDs as 32 hex digits, laid out as UUIDv7 (ms time, then 74 random bits).

    Time-ordered ids make primary-key inserts append to the end of the index instead of
    landing on random pages; uuid4() per row also costs several times more. The time
    part reveals nothing that ``created_at`` does not already show.
    """
    stamp = f"{time.time_ns() // 1_000_000:012x}"
    noise = os.urandom(10 * count).hex()
    ids = []
    for start in range(0, 20 * count, 20):
        chunk = noise[start : start + 20]
        ids.append(f"{stamp}7{chunk[:3]}{VARIANT_DIGITS[chunk[3]]}{chunk[4:19]}")
    return ids


VARIANT_DIGITS = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def hyphenated(hex_id: str) -> str:
    """str(UUID(hex_id)), without building the UUID."""
    return f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"


class RecordSealer:
    """Seals many records of one type for one person, as ``PersonKeys.seal_raw`` would.

    The associated data is ``<prefix><record id>``; its prefix is built once per import
    instead of formatting the owner's UUID for every point. If ``associated_data`` ever
    changes shape, this falls back to ``seal_raw`` rather than seal differently.
    """

    def __init__(self, keys: PersonKeys, record_type: str) -> None:
        self.keys, self.record_type = keys, record_type
        prefix = associated_data(keys.owner_uid, record_type, "")
        probe = hyphenated("0" * 32)
        self.prefix = prefix if associated_data(keys.owner_uid, record_type, probe) == prefix + probe.encode() else None

    def seal(self, hex_id: str, plaintext: bytes) -> bytes:
        record_id = hyphenated(hex_id)
        if self.prefix is None:
            return self.keys.seal_raw(self.record_type, record_id, plaintext)
        return seal_bytes(self.keys.aead, plaintext, self.prefix + record_id.encode())

    def seal_json(self, hex_id: str, payload: Any) -> bytes:
        return self.seal(hex_id, json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())


def insert_rows(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """INSERT rows of already-adapted values into ``model``'s table (columns of fields ``names``)."""
    connection = connections["default"]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in names)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: psycopg's executemany managed ~3,000 rows/s on the build machine. The raw
            # cursor's errors are wrapped like Django's (IntegrityError drives the retry).
            copy_sql = f"COPY {table} ({columns}) FROM STDIN"
            with connection.wrap_database_errors, cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(names))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 (names from the model)
        cursor.executemany(sql, list(rows))


def existing_fingerprints(model: type[models.Model], person, fingerprints: Iterable[str]) -> set[str]:
    wanted = list(dict.fromkeys(fingerprints))
    found: set[str] = set()
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        found.update(model.objects.filter(owner=person, fingerprint__in=chunk).values_list("fingerprint", flat=True))
    return found


# --- planning: which records are new -----------------------------------------------------


def point_fingerprint(keys: PersonKeys, point, stamp: str | None = None) -> str:
    """``stamp`` is ``str(point.recorded_at)`` when the caller has it already (formatting
    a datetime costs as much as the rest of the fingerprint)."""
    return keys.fingerprint("point", stamp or str(point.recorded_at), point.lat, point.lon)


def moment_fingerprint(keys: PersonKeys, moment: ParsedMoment) -> str:
    return keys.fingerprint("moment", moment.occurred_at.isoformat(), moment.kind, moment.label)


def social_fingerprint(keys: PersonKeys, item: ParsedSocialItem) -> str:
    if item.external_id:
        return keys.fingerprint("social", item.network, item.kind, item.external_id)
    return keys.fingerprint(
        "social", item.network, item.kind, item.occurred_at.isoformat(), item.text, item.url, item.handle, item.topic
    )


def track_fingerprint(keys: PersonKeys, source: str, point_fingerprints: Sequence[str]) -> str:
    # A track is the same track when it holds the same points.
    digest = hashlib.sha256("\n".join(point_fingerprints).encode()).hexdigest()
    return keys.fingerprint("track", source, digest)


@dataclass
class _TrackPlan:
    track: ParsedTrack
    fingerprint: str
    new_points: list[tuple[Any, str, str]] = field(default_factory=list)  # (point, fingerprint, str(time))


@dataclass
class _Plan:
    tracks: list[_TrackPlan] = field(default_factory=list)
    moments: list[tuple[ParsedMoment, str]] = field(default_factory=list)
    social_items: list[tuple[ParsedSocialItem, str]] = field(default_factory=list)
    duplicates: int = 0

    def earliest(self) -> datetime | None:
        times = [point.recorded_at for track in self.tracks for point, _fp, _stamp in track.new_points]
        times += [moment.occurred_at for moment, _fp in self.moments]
        times += [item.occurred_at for item, _fp in self.social_items]
        return min(times, default=None)


def _plan(keys: PersonKeys, person, parsed: ParsedImport, source: str) -> _Plan:
    plan = _Plan()
    track_stamps: list[list[str]] = [[str(p.recorded_at) for p in t.points] for t in parsed.tracks]
    track_fps: list[list[str]] = [
        [point_fingerprint(keys, p, stamp) for p, stamp in zip(t.points, stamps, strict=True)]
        for t, stamps in zip(parsed.tracks, track_stamps, strict=True)
    ]
    known_points = _point_fingerprints_between(person, parsed.tracks)
    fingerprints_of_tracks = [track_fingerprint(keys, source, fps) for fps in track_fps]
    known_tracks = existing_fingerprints(Track, person, fingerprints_of_tracks)
    seen: set[str] = set()  # a file may hold the same point twice
    for track, fps, stamps, track_fp in zip(
        parsed.tracks, track_fps, track_stamps, fingerprints_of_tracks, strict=True
    ):
        track_plan = _TrackPlan(track=track, fingerprint=track_fp)
        for point, fp, stamp in zip(track.points, fps, stamps, strict=True):
            if track_fp in known_tracks or fp in known_points or fp in seen:
                plan.duplicates += 1
                continue
            seen.add(fp)
            track_plan.new_points.append((point, fp, stamp))
        if track_plan.new_points and track_fp not in seen:
            seen.add(track_fp)
            plan.tracks.append(track_plan)
    plan.moments, dup_moments = _new_only(Moment, person, parsed.moments, lambda m: moment_fingerprint(keys, m))
    plan.social_items, dup_social = _new_only(
        SocialItem, person, parsed.social_items, lambda s: social_fingerprint(keys, s)
    )
    plan.duplicates += dup_moments + dup_social
    return plan


def _point_fingerprints_between(person, tracks: list[ParsedTrack]) -> set[str]:
    """Fingerprints of the person's stored points in the file's time span.

    A point's fingerprint includes its time, so only points in that span can be
    duplicates: one indexed range query instead of one IN-lookup per 500 points, and
    next to nothing for new data.
    """
    times = [point.recorded_at for track in tracks for point in track.points]
    if not times:
        return set()
    queryset = Trackpoint.objects.filter(owner=person, recorded_at__gte=min(times), recorded_at__lte=max(times))
    return set(queryset.values_list("fingerprint", flat=True))


def _new_only(model, person, records: list, fingerprint_of: Callable[[Any], str]) -> tuple[list, int]:
    fingerprints = [fingerprint_of(record) for record in records]
    known = existing_fingerprints(model, person, fingerprints)
    new, duplicates = [], 0
    for record, fp in zip(records, fingerprints, strict=True):
        if fp in known:
            duplicates += 1
            continue
        known.add(fp)
        new.append((record, fp))
    return new, duplicates


# --- sealing and writing -----------------------------------------------------------------


class _Progress:
    """Counts processed items and reports every ``every`` of them (and at the end)."""

    def __init__(self, callback: ProgressCallback | None, every: int, start: int = 0) -> None:
        self.callback, self.every, self.done, self._last = callback, every, start, start

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self.callback is not None and self.done - self._last >= self.every:
            self._last = self.done
            self.callback(self.done)

    def finish(self) -> None:
        if self.callback is not None and self.done != self._last:
            self._last = self.done
            self.callback(self.done)


def _dumps_point(point, device_json: str) -> bytes:
    # The trackpoint payload, written by hand: json.dumps is a third of the sealing cost
    # per point, and these five fields are numbers, null, or one pre-encoded string.
    ele = "null" if point.ele is None else repr(point.ele)
    hr = "null" if point.hr is None else str(point.hr)
    return f'{{"lat":{point.lat!r},"lon":{point.lon!r},"ele":{ele},"hr":{hr},"dev":{device_json}}}'.encode()


@dataclass
class _Rows:
    tracks: list[tuple] = field(default_factory=list)
    points: list[tuple] = field(default_factory=list)
    moments: list[tuple] = field(default_factory=list)
    social_items: list[tuple] = field(default_factory=list)


COMMON_FIELDS = ("id", "owner", "sealed", "fingerprint", "source", "created_at")
TRACK_FIELDS = (*COMMON_FIELDS, "started_at", "ended_at", "point_count", "import_job")
POINT_FIELDS = (*COMMON_FIELDS, "track", "recorded_at")
MOMENT_FIELDS = (*COMMON_FIELDS, "occurred_at")
SOCIAL_FIELDS = (*COMMON_FIELDS, "kind", "network", "occurred_at")


def _seal_rows(keys: PersonKeys, person, plan: _Plan, source: str, job_id, progress: _Progress) -> _Rows:
    db = ColumnValues()
    owner = db.constant(Trackpoint, "owner", person.pk)
    now = db.time(timezone.now().astimezone(UTC))
    job = None if job_id is None else db.uuid(job_id)
    rows = _Rows()
    track_sealer, point_sealer = RecordSealer(keys, Track.RECORD_TYPE), RecordSealer(keys, Trackpoint.RECORD_TYPE)
    for track_plan in plan.tracks:
        track, points = track_plan.track, track_plan.new_points
        (track_id,) = new_ids(1)
        times = [point.recorded_at for point, _fp, _stamp in points]
        payload = {"name": track.name, "device": track.device, "activity": track.activity}
        rows.tracks.append(
            (db.uuid(track_id), owner, track_sealer.seal_json(track_id, payload), track_plan.fingerprint,
             source, now, db.time(min(times)), db.time(max(times)), len(points), job)
        )  # fmt: skip
        device_json, track_value, seal = (
            json.dumps(track.device, ensure_ascii=False),
            db.uuid(track_id),
            point_sealer.seal,
        )
        for (point, fp, stamp), point_id in zip(points, new_ids(len(points)), strict=True):
            sealed = seal(point_id, _dumps_point(point, device_json))
            rows.points.append(
                (db.uuid(point_id), owner, sealed, fp, source, now, track_value, db.time(point.recorded_at, stamp))
            )
            progress.advance()
    sealer = RecordSealer(keys, Moment.RECORD_TYPE)
    for (moment, fp), moment_id in zip(plan.moments, new_ids(len(plan.moments)), strict=True):
        payload = {"kind": moment.kind, "label": moment.label, "tags": moment.tags, "sentiment": moment.sentiment,
                   "place": moment.place, "hr": moment.hr}  # fmt: skip
        sealed = sealer.seal_json(moment_id, payload)
        rows.moments.append((db.uuid(moment_id), owner, sealed, fp, source, now, db.time(moment.occurred_at)))
        progress.advance()
    sealer = RecordSealer(keys, SocialItem.RECORD_TYPE)
    for (item, fp), item_id in zip(plan.social_items, new_ids(len(plan.social_items)), strict=True):
        payload = {"text": item.text, "url": item.url, "handle": item.handle, "topic": item.topic}
        sealed = sealer.seal_json(item_id, payload)
        rows.social_items.append(
            (db.uuid(item_id), owner, sealed, fp, source, now, item.kind, item.network[:30], db.time(item.occurred_at))
        )
        progress.advance()
    return rows


def _write(rows: _Rows) -> None:
    with transaction.atomic(), large_sqlite_cache():
        insert_rows(Track, TRACK_FIELDS, rows.tracks)
        insert_rows(Trackpoint, POINT_FIELDS, rows.points)
        insert_rows(Moment, MOMENT_FIELDS, rows.moments)
        insert_rows(SocialItem, SOCIAL_FIELDS, rows.social_items)


@contextmanager
def large_sqlite_cache(kibibytes: int = 64 * 1024) -> Iterator[None]:
    """SQLite's default 2 MB page cache thrashes on the fingerprint index of a big import
    (keyed hashes land on random pages); 64 MB for the duration of the insert avoids it."""
    connection = connections["default"]
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = -{int(kibibytes)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def store_parsed(
    *,
    person,
    parsed: ParsedImport,
    source: str,
    import_job_id: uuid.UUID | None = None,
    on_progress: ProgressCallback | None = None,
    progress_every: int = 2000,
) -> StoreResult:
    """Seal and store parsed records for ``person``, all or nothing, skipping known ones.

    The slow part (sealing) runs before the one short write transaction, reporting
    progress as it goes; see ``vault.importing.run_import`` for why. Safe to call again
    with the same records: known fingerprints are counted as duplicates, not stored.
    """
    keys = keys_for(person)
    for attempt in (1, 2):
        plan = _plan(keys, person, parsed, source)
        progress = _Progress(on_progress, progress_every, start=plan.duplicates)
        rows = _seal_rows(keys, person, plan, source, import_job_id, progress)
        try:
            _write(rows)
        except IntegrityError:
            # Another import stored some of the same records since we planned: plan again.
            if attempt == 2:
                raise
            continue
        progress.finish()
        return StoreResult(
            created=len(rows.points) + len(rows.moments) + len(rows.social_items),
            duplicates=plan.duplicates,
            tracks_created=len(rows.tracks),
            earliest=plan.earliest(),
        )
    raise AssertionError("unreachable")
