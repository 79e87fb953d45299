"""Benchmark: import a generated 100,000-point GPX (with heart rate) end to end on SQLite.

Prints points/s end to end (read, seal the upload, parse, fingerprint, de-duplicate,
seal every point, insert in one transaction) and, measured in the same run on the same
database, a plain unencrypted insert of the same rows (same table and columns, the
payload as plaintext JSON, no fingerprint key) as the baseline, with the ratios.

    .venv/bin/python bench/import_gpx.py [--points 100000]

Targets (issue 2): >= 10,000 points/s end to end; sealed store <= 2x the plain insert.
With DATABASE_URL (and KEYS_DATABASE_URL) set it measures that PostgreSQL database
instead, which must be empty.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"  # a fresh temp SQLite database per run


def generate_gpx(path: Path, count: int) -> None:
    """A Garmin-style run: one track, a point a second, drifting position, heart rate."""
    rng = random.Random(42)
    start = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)
    lat, lon, ele = 52.52, 13.405, 34.0
    with path.open("w") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="Garmin Connect" '
            'xmlns="http://www.topografix.com/GPX/1/1" '
            'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">\n'
            "<trk><name>Benchmark run</name><type>running</type><trkseg>\n"
        )
        for i in range(count):
            lat += rng.uniform(-5e-5, 5e-5)
            lon += rng.uniform(-5e-5, 5e-5)
            ele += rng.uniform(-0.3, 0.3)
            when = (start + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
            out.write(
                f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}"><ele>{ele:.1f}</ele><time>{when}</time>'
                "<extensions><gpxtpx:TrackPointExtension>"
                f"<gpxtpx:hr>{rng.randint(90, 175)}</gpxtpx:hr>"
                "</gpxtpx:TrackPointExtension></extensions></trkpt>\n"
            )
        out.write("</trkseg></trk></gpx>\n")


class Timer:
    """Wall and CPU time of a block: on a shared machine the CPU figure is the steadier one."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    def line(self, label: str, points: int) -> str:
        return (
            f"{label:<18} wall {self.wall:6.2f} s {points / self.wall:8,.0f} points/s | "
            f"cpu {self.cpu:6.2f} s {points / self.cpu:8,.0f} points/s"
        )


def _plain_payload(point, device_json: str) -> bytes:
    return (
        f'{{"lat":{point.lat!r},"lon":{point.lon!r},"ele":{point.ele!r},"hr":{point.hr},"dev":{device_json}}}'.encode()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from tests.factories import PersonFactory
    from vault.importers import importer_for
    from vault.importers.storage import (
        POINT_FIELDS,
        ColumnValues,
        insert_rows,
        large_sqlite_cache,
        new_ids,
        store_parsed,
    )
    from vault.importing import import_file
    from vault.models import ImportJob, Track, Trackpoint

    call_command("migrate", verbosity=0)
    call_command("migrate", database="keys", verbosity=0)
    workdir = Path(tempfile.mkdtemp(prefix="eidetic-bench-"))
    gpx = workdir / "bench.gpx"
    generate_gpx(gpx, args.points)
    if connection.vendor == "sqlite":
        database = f"SQLite {connection.Database.sqlite_version}"
    else:
        database = f"{connection.vendor} {connection.cursor().connection.info.server_version}"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{database}, {platform.platform()}")  # fmt: skip
    print(f"file: {args.points:,} points, {gpx.stat().st_size / 1e6:.1f} MB")

    # 1. End to end, as `manage.py import_data` runs it.
    alice = PersonFactory(username="bench-e2e")
    with Timer() as end_to_end:
        job = import_file(person=alice, path=gpx, progress=False)
    assert job.status == ImportJob.Status.DONE, job.error_detail
    assert job.created_items == args.points
    print(end_to_end.line("end to end", args.points))

    # 2. The parse alone.
    with Timer() as parse:
        parsed = importer_for("gpx").parse(gpx.read_bytes())
    print(parse.line("  parse only", args.points))

    # 3. Baseline: the same rows, same table and columns, plaintext JSON payload, no keys.
    carol = PersonFactory(username="bench-plain")
    with Timer() as plain:
        db = ColumnValues()
        track_id = uuid.uuid4()
        points = parsed.tracks[0].points
        # Random 32-hex fingerprints like the real ones (the unique index sees the same
        # scattered keys) and the same large page cache as the import's writer.
        noise = os.urandom(16 * len(points)).hex()
        with transaction.atomic(), large_sqlite_cache():
            Track.objects.create(
                id=track_id, owner=carol, sealed=b"{}", fingerprint="plain-track", source="bench",
                started_at=points[0].recorded_at, ended_at=points[-1].recorded_at, point_count=len(points),
            )  # fmt: skip
            owner, now, track = carol.pk, db.time(datetime.now(UTC)), db.uuid(track_id)
            device = '"Garmin Connect"'
            rows = [
                (
                    db.uuid(point_id),
                    owner,
                    _plain_payload(p, device),
                    noise[32 * i : 32 * i + 32],
                    "bench",
                    now,
                    track,
                    db.time(p.recorded_at),
                )
                for i, (p, point_id) in enumerate(zip(points, new_ids(len(points)), strict=True))
            ]
            insert_rows(Trackpoint, POINT_FIELDS, rows)
    print(plain.line("plain insert", args.points) + "  (baseline: same rows, no sealing)")
    # The baseline's rows go again, so that both inserts meet a table of the same size.
    Trackpoint.objects.filter(owner=carol).delete()
    Track.objects.filter(owner=carol).delete()

    # 4. The sealed store alone (fingerprint, dedup, seal, insert) of the same parsed points.
    bob = PersonFactory(username="bench-sealed")
    with Timer() as sealed_store:
        result = store_parsed(person=bob, parsed=parsed, source="bench")
    assert result.created == args.points
    print(sealed_store.line("  sealed store", args.points))
    print(f"ratio sealed store / plain insert: wall {sealed_store.wall / plain.wall:4.2f}x, "
          f"cpu {sealed_store.cpu / plain.cpu:4.2f}x   (target <= 2x)")  # fmt: skip
    print(f"ratio end to end   / plain insert: wall {end_to_end.wall / plain.wall:4.2f}x, "
          f"cpu {end_to_end.cpu / plain.cpu:4.2f}x")  # fmt: skip
    rate = args.points / end_to_end.wall
    print(f"target >= 10,000 points/s end to end (wall): {'met' if rate >= 10_000 else 'NOT met'} ({rate:,.0f})")
    load = os.getloadavg()[0]
    warning = " (more than the cores: wall times are inflated)" if load > (os.cpu_count() or 1) else ""
    print(f"load average during the run: {load:.2f}{warning}")


if __name__ == "__main__":
    main()
