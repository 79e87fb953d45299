"""Club segment query over 100,000 consenting people x 20 categories, on PostgreSQL.

    .venv/bin/python bench/club_aggregate.py [--people 100000] [--categories 20] [--repeat 5]

Setup (fresh PostgreSQL databases ``eidetic_bench_club`` and ``eidetic_bench_club_keys``
on the running server, via bench/api_settings.py with BENCH_DATABASE_URL): a club with
one member and its rules (k = 10), then by COPY: one live ``SegmentEnrolment`` per person
and, per person, facts in every category, spread over the 13 weeks of the query (at most
4 categories a week, as the product caps them) in one of 400 ~10 km cells: 2,000,000 facts.

Measured, ``--repeat`` times each, best and median:
- product: ``club.segments.segments_query`` (reciprocity check, consent sync, reading
  the ``SegmentCount`` roll-up, the budget charge with its ledger entry, k-suppression,
  Laplace noise per cell, the answer's cells), for all 20 categories x 13 weeks, and for
  a narrower 5 categories x 4 weeks;
- baseline: the bare GROUP BY over the same facts (no enrolment join, no charge, no
  noise), same filters, by one raw SQL query: what computing the answer from the
  per-person rows costs. The product reads the roll-up ``SegmentCount`` instead (kept
  in step by ``segments.facts_refresh``), which the loader builds by one INSERT..SELECT.
- reference: reading the same roll-up rows by raw SQL (what the product adds on top).
Prints the ratios. Target: the product query <= 1 s.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://eidetic:eidetic@127.0.0.1:5432/eidetic_bench_club")
os.environ.setdefault("BENCH_DATA_DIR", "/tmp/eidetic-club-bench")
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.api_settings"

WEEKS = 13
CELLS = 400


def recreate_databases() -> None:
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"], dbname="postgres", autocommit=True
    ) as admin:
        for alias in ("default", "keys"):
            name = settings.DATABASES[alias]["NAME"]
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')


def build_world(categories: list[str]):
    import shutil

    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import User
    from broker import services as broker_services
    from club import services
    from club.models import ContributionTally

    shutil.rmtree(settings.DATA_DIR, ignore_errors=True)
    settings.DATA_DIR.mkdir(parents=True)
    call_command("migrate", verbosity=0)
    call_command("migrate", database="keys", verbosity=0)
    admin = User.objects.create_user(username="bench-admin", password="bench-only", is_staff=True)  # noqa: S106
    club = services.club_create(name="Bench Club", admins=[admin])
    services.rules_publish(
        club=club,
        admin=admin,
        contribute_categories=categories,
        consume_categories=categories,
        reciprocity_min_count=1,
        reciprocity_period_days=30,
        segment_min_people=10,
        segment_epsilon_per_query=Decimal("1"),
        segment_budget_per_period=Decimal("10000"),
    )
    partner, _, _ = broker_services.partner_create(name="Bench Member", redirect_uri="https://bench.example/cb")
    membership = services.member_admit(club=club, admin=admin, partner=partner)
    for category in categories:
        ContributionTally.objects.create(membership=membership, category=category, day=timezone.now(), count=5)
    return club, membership


def copy_rows(table: str, columns: list[str], rows) -> None:
    from django.db import connection

    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(row))
        buffer.write("\n")
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(buffer.getvalue())


def load_population(club, membership, people: int, categories: list[str], first_week) -> int:
    """COPY the enrolments and facts; returns the number of facts."""
    from django.db import connection
    from django.utils import timezone

    from club import segments

    cap = segments.option("MAX_CATEGORIES_PER_WEEK")
    now = timezone.now()
    rng = random.Random(5)
    pseudonyms = [uuid.UUID(int=rng.getrandbits(128)).hex for _ in range(people)]
    counted_from, counted_until = (now - timedelta(days=1)).isoformat(), (now + timedelta(days=60)).isoformat()
    copy_rows(
        "club_segmentenrolment",
        [
            "club_id",
            "membership_id",
            "consent_tag",
            "pseudonym",
            "counted_from",
            "counted_until",
            "active",
            "updated_at",
        ],
        (
            (
                str(club.pk),
                str(membership.pk),
                f"{index:064x}",
                pseudonym,
                counted_from,
                counted_until,
                "t",
                now.isoformat(),
            )
            for index, pseudonym in enumerate(pseudonyms)
        ),
    )
    weeks = [(first_week + timedelta(weeks=offset)).isoformat() for offset in range(WEEKS)]
    cells = [f"{400 + rng.randrange(40)}:{100 + rng.randrange(40)}" for _ in range(CELLS)]

    def facts():
        for pseudonym in pseudonyms:
            home = rng.choice(cells)
            shuffled = rng.sample(categories, len(categories))
            chosen_weeks = rng.sample(weeks, -(-len(categories) // cap))
            for index, category in enumerate(shuffled):
                yield (str(club.pk), pseudonym, category, chosen_weeks[index // cap], home)

    rows = list(facts())
    copy_rows("club_segmentfact", ["club_id", "pseudonym", "category", "week", "cell"], rows)
    with connection.cursor() as cursor:
        # The roll-up the product keeps in step one person at a time, built here in one go.
        cursor.execute(
            "INSERT INTO club_segmentcount (club_id, category, week, cell, people) "
            "SELECT club_id, category, week, cell, COUNT(*) FROM club_segmentfact GROUP BY 1, 2, 3, 4"
        )
        cursor.execute("ANALYZE club_segmentcount")
        cursor.execute("ANALYZE club_segmentfact")
        cursor.execute("ANALYZE club_segmentenrolment")
    return len(rows)


CPU: dict[int, list[float]] = {}


def timed(function, repeat: int) -> tuple[list[float], object]:
    """Wall times (and, in CPU, this process's CPU times: the machine is shared)."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = function()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    CPU[id(times)] = cpu
    return times, result


def bare_group_by(club, categories: list[str], week_from, week_to) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT category, cell, week, COUNT(*) FROM club_segmentfact "
            "WHERE club_id = %s AND week >= %s AND week <= %s AND category = ANY(%s) GROUP BY 1, 2, 3",
            [club.pk, week_from, week_to, categories],
        )
        return cursor.fetchall()


def bare_rollup(club, categories: list[str], week_from, week_to) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT category, cell, week, people FROM club_segmentcount "
            "WHERE club_id = %s AND week >= %s AND week <= %s AND category = ANY(%s) AND people > 0",
            [club.pk, week_from, week_to, categories],
        )
        return cursor.fetchall()


def describe(label: str, times: list[float]) -> str:
    cpu = CPU.get(id(times), [0.0])
    return (
        f"{label:<42} wall best {min(times) * 1000:7.1f} ms  median {statistics.median(times) * 1000:7.1f} ms"
        f" | python cpu median {statistics.median(cpu) * 1000:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from club import segments

    recreate_databases()
    categories = [f"category_{index:02d}" for index in range(args.categories)]
    club, membership = build_world(categories)
    last_week = segments.week_of(timezone.now())
    first_week = last_week - timedelta(weeks=WEEKS - 1)
    started = time.perf_counter()
    fact_count = load_population(club, membership, args.people, categories, first_week)
    load_seconds = time.perf_counter() - started

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        server = cursor.fetchone()[0].split(",")[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {server}")
    print(f"population: {args.people:,} people, {len(categories)} categories, {fact_count:,} facts, {CELLS} cells, ")
    print(f"            {WEEKS} weeks; loaded by COPY in {load_seconds:.1f} s")

    scenarios = [
        ("all categories x 13 weeks", categories, first_week),
        ("5 categories x 4 weeks", categories[:5], last_week - timedelta(weeks=3)),
    ]
    for label, chosen, week_from in scenarios:

        def product(chosen=chosen, week_from=week_from):
            return segments.segments_query(
                club=club,
                partner=membership.partner,
                categories=chosen,
                week_from=week_from,
                week_to=last_week,
                epsilon=Decimal("1"),
                now=timezone.now(),
            )

        def baseline(chosen=chosen, week_from=week_from):
            return bare_group_by(club, chosen, week_from, last_week)

        def rollup(chosen=chosen, week_from=week_from):
            return bare_rollup(club, chosen, week_from, last_week)

        baseline()  # warm the cache for all
        rollup()
        base_times, rows = timed(baseline, args.repeat)
        rollup_times, _ = timed(rollup, args.repeat)
        product_times, answer = timed(product, args.repeat)
        print(
            f"\nquery: {label}: {len(rows):,} non-empty cells, {len(answer.cells):,} released (k=10, "
            f"noise scale {answer.noise_scale:.0f})"
        )
        print(describe("baseline: bare GROUP BY over the facts", base_times))
        print(describe("reference: bare read of the roll-up rows", rollup_times))
        print(describe("product: segments_query (all steps)", product_times))
        ratio = statistics.median(product_times) / statistics.median(base_times)
        over_rollup = statistics.median(product_times) / statistics.median(rollup_times)
        verdict = "met" if statistics.median(product_times) <= 1.0 else "NOT met"
        print(f"ratio product / bare GROUP BY (median): {ratio:.2f}x; product / bare roll-up read: {over_rollup:.1f}x")
        print(f"target <= 1 s (median): {verdict}")
    print(f"\nload average: {os.getloadavg()[0]:.2f} (python cpu excludes the PostgreSQL server's own work)")


if __name__ == "__main__":
    main()
