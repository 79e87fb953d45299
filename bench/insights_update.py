#!/usr/bin/env python
"""Benchmark: the interest timeline of a person with a year of data.

    .venv/bin/python bench/insights_update.py [--scale 1.0] [--runs 3]

Generates one person with a year of sealed data (at scale 1 exactly 500,000 trackpoints,
5,000 moments and 5,000 social items, spread evenly over 365 days; bulk-inserted), then
measures:

- full rebuild (``insights.services.rebuild_interests``), target <= 10 s;
- incremental update for one new day after a day of new data arrives, target <= 200 ms,
  on the path a vault import takes: ``vault.services.announce_new_records(person,
  since=<the day's earliest record>)`` -> ``insights.services.interests_changed`` -> the
  Celery task (eager under these settings) -> ``update_interests(since=...)``;

Every build also reads her club observations (``club.selectors.observations_for_insights``);
this person has none, so that is one empty query per build.

and, in the same run, baselines: the bare cost of opening the records each one reads
through the vault selectors (full: every moment and social item; incremental: the
moments of the look-back window and the day's social items), with the ratios.
Uses the test settings (SQLite in a temporary directory; DATABASE_URL for PostgreSQL).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday
DAYS = 365
# A year's volume at scale 1 (issue 6): each day gets its even share of these.
YEAR = {"trackpoints": 500_000, "moments": 5_000, "social_items": 5_000}
ROME = (41.8986, 12.4741)
LABELS = [
    ("baroque ceiling at the church", True),
    ("espresso at the bar", True),
    ("morning run by the river", False),
    ("jazz club night", True),
    ("vintage teak sideboard", False),
    ("groceries", False),
    ("meeting at the office", False),
    ("pasta carbonara at the trattoria", True),
    ("playground with the kids", True),
    ("reading a novel", False),
]
TEXTS = ["Loving this mid-century sideboard", "Best sourdough in town", "lol", "Off to the Dolomites hiking", "ok"]
SENTIMENTS = ["loves", "likes", "neutral", "dislikes", "loathes"]


def _seal_rows(model, keys, items, **common):
    rows = []
    for fields, payload in items:
        row_id = uuid.uuid4()
        rows.append(
            model(
                id=row_id,
                sealed=keys.seal(model.RECORD_TYPE, row_id, payload),
                fingerprint=keys.fingerprint(model.RECORD_TYPE, row_id),
                source="bench",
                **common,
                **fields,
            )
        )
    return rows


def share_of_day(kind: str, day: int, scale: float) -> int:
    """The day's even share of a year's volume, so that the 365 days add up to exactly
    the year's figure (days after the year get a share as if the year went on)."""
    total = round(YEAR[kind] * scale)
    return total * (day + 1) // DAYS - total * day // DAYS


def generate_day(person, keys, track, day: int, rng: random.Random, scale: float) -> datetime:
    """One day: trackpoints from 07:00 every ~40 s, moments and social items; returns the
    time of its earliest record (what an import announces)."""
    from vault.models import Moment, SocialItem, Trackpoint

    day_start = START + timedelta(days=day)
    n_points = share_of_day("trackpoints", day, scale)
    lat, lon = ROME
    points = []
    for index in range(n_points):
        lat += rng.gauss(0, 0.0002)
        lon += rng.gauss(0, 0.0002)
        when = day_start + timedelta(hours=7, seconds=index * 40 / max(scale, 0.05))
        points.append(
            ({"recorded_at": when, "track": track}, {"lat": lat, "lon": lon, "ele": 30.0, "hr": rng.randint(60, 140)})
        )
    moments = []
    for _ in range(share_of_day("moments", day, scale)):
        label, with_place = rng.choice(LABELS)
        when = day_start + timedelta(hours=7, minutes=rng.randint(0, 14 * 60))
        place = (
            {"name": label.split(" at ")[-1], "lat": ROME[0], "lon": ROME[1]}
            if with_place and rng.random() < 0.6
            else None
        )
        payload = {
            "kind": "place",
            "label": label,
            "tags": [],
            "sentiment": rng.choice(SENTIMENTS),
            "place": place,
            "hr": rng.randint(60, 130),
        }
        moments.append(({"occurred_at": when}, payload))
    social = []
    for _ in range(share_of_day("social_items", day, scale)):
        when = day_start + timedelta(hours=rng.randint(7, 23))
        social.append(
            (
                {"occurred_at": when, "kind": rng.choice(["post", "like", "interest"]), "network": "x"},
                {"text": rng.choice(TEXTS), "topic": None, "url": None, "handle": None},
            )
        )
    Trackpoint.objects.bulk_create(_seal_rows(Trackpoint, keys, points, owner=person), batch_size=5000)
    Moment.objects.bulk_create(_seal_rows(Moment, keys, moments, owner=person), batch_size=5000)
    SocialItem.objects.bulk_create(_seal_rows(SocialItem, keys, social, owner=person), batch_size=5000)
    return min(fields.get("recorded_at") or fields["occurred_at"] for fields, _ in [*points, *moments, *social])


def make_person(scale: float, rng: random.Random):
    from tests.factories import PersonFactory
    from vault.keys import keys_for
    from vault.models import Track

    person = PersonFactory(username=f"bench-{uuid.uuid4().hex[:6]}")
    keys = keys_for(person)
    track_id = uuid.uuid4()
    track = Track.objects.create(
        id=track_id,
        owner=person,
        sealed=keys.seal("track", track_id, {"name": "year"}),
        fingerprint="year",
        source="bench",
        started_at=START,
        ended_at=START + timedelta(days=DAYS),
    )
    began = time.perf_counter()
    for day in range(DAYS):
        with transaction.atomic():
            generate_day(person, keys, track, day, rng, scale)
    return person, keys, track, time.perf_counter() - began


def timed(function) -> float:
    began = time.perf_counter()
    function()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="Fraction of a full year's volume per day.")
    parser.add_argument("--runs", type=int, default=3, help="Full rebuilds to time (median reported).")
    parser.add_argument("--days", type=int, default=5, help="New days to time incremental updates on.")
    args = parser.parse_args()

    old_config = setup_databases(verbosity=0, interactive=False, aliases=["default", "keys"], serialized_aliases=[])
    try:
        run(args)
        _print_load()
    finally:
        teardown_databases(old_config, verbosity=0)


def run(args) -> None:
    from insights import services
    from insights.building import plan_for
    from insights.models import InterestProfile
    from insights.scoring import LOOKBACK
    from vault import selectors as vault
    from vault.models import Moment, SocialItem, Trackpoint
    from vault.services import announce_new_records

    rng = random.Random(2025)
    person, keys, track, generated_in = make_person(args.scale, rng)
    counts = {model.__name__: model.objects.filter(owner=person).count() for model in (Trackpoint, Moment, SocialItem)}
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"database {connection.vendor}"
    )
    print(f"data: {counts} generated and sealed in {generated_in:.1f} s")

    baseline_full = statistics.median(
        timed(lambda: (vault.moments_of(person), vault.social_items_of(person))) for _ in range(args.runs)
    )
    rebuilds = [timed(lambda: services.rebuild_interests(person=person)) for _ in range(args.runs)]
    full = statistics.median(rebuilds)
    print(
        f"full rebuild: median {full:.2f} s of {args.runs} ({', '.join(f'{t:.2f}' for t in rebuilds)}) "
        f"target <= 10 s -> {'OK' if full <= 10 else 'MISSED'}"
    )
    print(f"  baseline (open every moment and social item): {baseline_full:.2f} s; ratio {full / baseline_full:.2f}x")

    # The first task call in a process sets Celery up (a worker does that once): timed
    # apart, on an announcement of the year's last day, so the medians are a warm worker's.
    first_call = timed(lambda: announce_new_records(person, since=START + timedelta(days=DAYS - 1)))
    print(f"  first announcement in this process (sets Celery up, not in the median): {first_call * 1000:.0f} ms")
    increments, baselines = [], []
    for extra in range(args.days):
        day = DAYS + extra
        with transaction.atomic():
            since = generate_day(person, keys, track, day, rng, args.scale)
        window = plan_for(since).recompute_from
        began = time.perf_counter()
        vault.moments_of(person, start=window - LOOKBACK)
        vault.social_items_of(person, start=window)
        baselines.append(time.perf_counter() - began)
        updated_before = InterestProfile.objects.get(owner=person).updated_at
        # Outside any transaction, so the on-commit hook runs the (eager) task at once.
        began = time.perf_counter()
        announce_new_records(person, since=since)
        increments.append(time.perf_counter() - began)
        profile = InterestProfile.objects.get(owner=person)
        if profile.updated_at == updated_before or profile.rebuilt_at > updated_before:
            raise SystemExit("the announcement did not run an incremental update")
    incremental, baseline_day = statistics.median(increments), statistics.median(baselines)
    print(
        f"incremental update, one new day: median {incremental * 1000:.0f} ms of {args.days} "
        f"({', '.join(f'{t * 1000:.0f}' for t in increments)}) target <= 200 ms -> "
        f"{'OK' if incremental <= 0.2 else 'MISSED'}"
    )
    print(
        f"  baseline (open the look-back moments and the day's social items): {baseline_day * 1000:.0f} ms; "
        f"ratio {incremental / baseline_day:.2f}x; full rebuild / incremental: {full / incremental:.0f}x"
    )


def _print_load() -> None:
    one, five, _ = os.getloadavg()
    print(f"load average during the run: {one:.2f} (1 min), {five:.2f} (5 min); above the cores, times are inflated")


if __name__ == "__main__":
    main()
