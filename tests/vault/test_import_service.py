"""The import service around the parsers: jobs, progress, all-or-nothing, the task, the command."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from tests.vault.fixtures import FIXTURES, data_counts, fixture_bytes, import_bytes, import_fixture
from vault import importing
from vault.importers import ParsedImport, ParsedMoment, ParsedPoint, ParsedTrack
from vault.importers import storage as import_storage
from vault.importing import import_file, run_import, start_import, store_parsed
from vault.models import ImportJob, Moment, SocialItem, Track, Trackpoint
from vault.selectors import moments_of, trackpoints_of
from vault.tasks import run_import as run_import_task

ALL_FIXTURES = ("garmin_run.gpx", "strava_ride.gpx", "Records.json", "tweets.js", "like.js", "eidetic.json")


def _big_gpx(count: int) -> bytes:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    points = "".join(
        f'<trkpt lat="{50 + i / 10000:.6f}" lon="{8 + i / 10000:.6f}">'
        f"<time>{(start + timedelta(seconds=i)).isoformat()}</time></trkpt>"
        for i in range(count)
    )
    return f'<gpx xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>{points}</trkseg></trk></gpx>'.encode()


@pytest.mark.django_db(transaction=True)
def test_progress_is_committed_per_batch_and_visible_to_another_connection(person, settings):
    settings.VAULT = {**settings.VAULT, "IMPORT_BATCH_SIZE": 10}
    seen_elsewhere: list[tuple[int, int]] = []
    observer = connections.create_connection("default")
    original = import_storage._Progress.advance

    def watch(progress, count=1):
        original(progress, count)
        if progress.done % 10 == 0:
            with observer.cursor() as cursor:  # a separate connection: sees only committed rows
                cursor.execute(
                    f"SELECT processed_items, total_items FROM {ImportJob._meta.db_table} WHERE status = %s",  # noqa: S608
                    ["running"],
                )
                seen_elsewhere.append(cursor.fetchone())

    try:
        import_storage._Progress.advance = watch
        job = start_import(person=person, upload=io.BytesIO(_big_gpx(45)), filename="big.gpx")
    finally:
        import_storage._Progress.advance = original
        observer.close()

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert (job.processed_items, job.total_items, job.progress_percent) == (45, 45, 100)
    # Right after each batch of 10 the other connection sees its count, mid-import.
    assert seen_elsewhere == [(10, 45), (20, 45), (30, 45), (40, 45)]


@pytest.mark.django_db
def test_import_file_reports_progress_to_its_callback_and_the_job(person, tmp_path, settings):
    settings.VAULT = {**settings.VAULT, "IMPORT_BATCH_SIZE": 7}
    path = tmp_path / "big.gpx"
    path.write_bytes(_big_gpx(20))
    reported: list[tuple[int, int]] = []
    original = importing.run_import

    def with_callback(job, on_progress=None):
        return original(job, on_progress=lambda done, total: reported.append((done, total)))

    importing.run_import = with_callback
    try:
        job = import_file(person=person, path=path, progress=False)
    finally:
        importing.run_import = original

    assert job.status == ImportJob.Status.DONE
    assert reported == [(7, 20), (14, 20), (20, 20)]


@pytest.mark.django_db
def test_a_failure_while_writing_rolls_everything_back(person, monkeypatch):
    original = import_storage.insert_rows

    def fail_on_social_items(model, names, rows):
        if model is SocialItem:
            raise RuntimeError("disk full while writing 'Moss on the north wall'")
        original(model, names, rows)

    monkeypatch.setattr(import_storage, "insert_rows", fail_on_social_items)
    job = import_fixture(person, "eidetic.json")

    assert (job.status, job.error_code) == (ImportJob.Status.FAILED, "ImportFailed")
    assert "Moss" not in job.error_detail
    assert "nothing was stored" in job.error_detail
    assert Moment.objects.count() == 0  # written before the failure, rolled back with it
    assert sum(data_counts().values()) == 0
    assert job.sealed_upload is None


@pytest.mark.django_db
def test_a_finished_job_is_not_run_again(person):
    job = import_fixture(person, "garmin_run.gpx")
    finished_at = job.finished_at
    ImportJob.objects.filter(pk=job.pk).update(created_items=999)

    run_import_task.delay(str(job.id))
    run_import(ImportJob.objects.get(pk=job.pk))

    job.refresh_from_db()
    assert (job.created_items, job.finished_at, job.status) == (999, finished_at, ImportJob.Status.DONE)
    assert Trackpoint.objects.count() == 5


@pytest.mark.django_db
def test_a_failed_job_is_not_run_again(person):
    job = import_bytes(person, "bad.gpx", fixture_bytes("garmin_run.gpx")[:500])
    assert job.status == ImportJob.Status.FAILED

    run_import_task.delay(str(job.id))

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert Trackpoint.objects.count() == 0


@pytest.mark.django_db
def test_a_job_redelivered_after_a_worker_died_runs_once_more(person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the worker "dies" before running
        job = start_import(person=person, upload=io.BytesIO(fixture_bytes("like.js")), filename="like.js")
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)

    run_import_task.delay(str(job.id))

    job.refresh_from_db()
    assert (job.status, job.created_items) == (ImportJob.Status.DONE, 3)


@pytest.mark.django_db
def test_an_unknown_job_id_is_ignored():
    run_import_task.delay("00000000-0000-0000-0000-000000000000")
    assert ImportJob.objects.count() == 0


@pytest.mark.django_db
def test_store_parsed_is_the_fast_path_for_generated_data(person):
    start = datetime(2024, 3, 1, 8, tzinfo=UTC)
    points = [ParsedPoint(start + timedelta(seconds=i), 47.0 + i / 1000, 8.0, 400.0, 100 + i) for i in range(5)]
    points.reverse()  # generated data need not come in order
    parsed = ParsedImport(
        tracks=[ParsedTrack(name="Generated walk", device="demo watch", activity="walking", points=points)],
        moments=[ParsedMoment(start, "product", "Demo oat bar", ["snack"], "likes", None, None)],
    )

    first = store_parsed(person=person, parsed=parsed, source="demo")
    second = store_parsed(person=person, parsed=parsed, source="demo")

    assert (first.created, first.duplicates, first.tracks_created) == (6, 0, 1)
    assert (second.created, second.duplicates, second.tracks_created) == (0, 6, 0)
    assert [p.hr for p in trackpoints_of(person)] == [100, 101, 102, 103, 104]
    assert moments_of(person).items[0]["label"] == "Demo oat bar"
    track = Track.objects.get()
    assert track.source == "demo"
    assert (track.started_at, track.ended_at) == (start, start + timedelta(seconds=4))


@pytest.mark.django_db
def test_the_command_imports_files_and_reports(person, capsys):
    call_command("import_data", "--user", "alice", str(FIXTURES / "garmin_run.gpx"), str(FIXTURES / "like.js"))

    out = capsys.readouterr().out
    assert "garmin_run.gpx: 5 new, 0 already in the vault (gpx)." in out
    assert "like.js: 3 new, 0 already in the vault (twitter_likes)." in out
    assert Trackpoint.objects.count() == 5


@pytest.mark.django_db
def test_the_command_fails_clearly_on_a_bad_file_and_stores_nothing(person, tmp_path, capsys):
    bad = tmp_path / "broken.gpx"
    bad.write_bytes(fixture_bytes("garmin_run.gpx")[:400])
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")

    with pytest.raises(CommandError, match="2 of 2 file"):
        call_command("import_data", "--user", "alice", "--no-progress", str(bad), str(empty))

    err = capsys.readouterr().err
    assert "broken.gpx: ImportMalformed: line " in err
    assert "ImportRefused: empty.json was refused: the file is empty." in err
    assert "Traceback" not in err
    assert sum(data_counts().values()) == 0


@pytest.mark.django_db
def test_the_command_needs_an_existing_user():
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("import_data", "--user", "nobody", str(FIXTURES / "like.js"))


def _secrets_of_the_fixtures() -> list[str]:
    """Labels, texts, names and coordinates (to 4 decimals) that the fixtures hold."""
    secrets = [
        "Tiergarten Morning Loop",
        "Isar Evening Ride",
        "Cafe Marzipanwald",
        "Quenchwell sparkling birch water",
        "Aunt Philippa Grunewald",
        "bouldering in Frankenjura",
        "Moss on the north wall",
        "ottilie-vandersloot",
        "Third attempt at the rye loaf",
        "Quiet platform at Ostkreuz",
        "Heron standing perfectly still",
        "New bike lanes on Oranienstrasse",
        "sourdough",
        "Garmin Connect",
        "StravaGPX",
        "garmin_run.gpx",
    ]
    coordinates = [
        (52.516272, 13.377701), (52.516413, 13.375128), (52.514926, 13.368514), (48.129831, 11.583762),
        (48.127412, 11.590248), (51.5007439, -0.1246372), (51.5032911, -0.1282067), (52.49871, 13.41893),
    ]  # fmt: skip
    for lat, lon in coordinates:
        secrets += [f"{lat:.4f}", f"{lon:.4f}", f"{int(lat * 1e7)}"]
    return secrets


def _raw_database_bytes() -> bytes:
    """SQLite: the database file itself. Others: every row of every table cast to text
    (bytea as hex, so sealed bytes are scanned in their hex form too)."""
    if connection.vendor == "sqlite":
        connection.close()  # everything committed and the file closed
        path = Path(connection.settings_dict["NAME"])
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT CAST(t AS text) FROM {connection.ops.quote_name(table)} t")  # noqa: S608
            dump += [row[0] for row in cursor.fetchall()]
    return "\n".join(dump).encode()


@pytest.mark.django_db(transaction=True)
def test_the_database_holds_none_of_the_imported_content_in_clear(person):
    for name in ALL_FIXTURES:
        assert import_fixture(person, name).status == ImportJob.Status.DONE

    raw = _raw_database_bytes()

    assert b"import:takeout" in raw  # the scan does see what is stored in clear
    leaked = [
        raw[max(m.start() - 20, 0) : m.end() + 20]
        for secret in _secrets_of_the_fixtures()
        for pattern in (_NOT_A_TIMESTAMP + re.escape(secret.encode()), re.escape(secret.encode().hex().encode()))
        for m in re.finditer(pattern, raw)
    ]
    assert leaked == []


# A coordinate such as 13.4189 also reads as the seconds of a stored timestamp
# ("18:21:13.418912"); a coordinate in clear never follows a colon or a digit.
_NOT_A_TIMESTAMP = rb"(?<![:0-9])"


@pytest.mark.django_db
def test_a_job_whose_worker_died_mid_run_asks_for_the_file_again(person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = start_import(person=person, upload=io.BytesIO(fixture_bytes("like.js")), filename="like.js")
    # The worker had parsed the file (and dropped the upload) when it died.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, sealed_upload=None)

    run_import_task.delay(str(job.id))

    job.refresh_from_db()
    assert (job.status, job.error_code) == (ImportJob.Status.FAILED, "ImportRefused")
    assert "upload the file again" in job.error_detail
    assert sum(data_counts().values()) == 0


@pytest.mark.django_db
def test_a_concurrent_import_of_the_same_records_is_planned_again_not_duplicated(person, monkeypatch):
    parsed = ParsedImport(
        moments=[ParsedMoment(datetime(2024, 3, 1, tzinfo=UTC), "place", "Lido", [], "likes", None, None)]
    )
    original_plan = import_storage._plan
    calls = []

    def plan_then_race(keys, who, records, source):
        plan = original_plan(keys, who, records, source)
        if not calls:  # another worker stores the same records between our plan and our write
            monkeypatch.setattr(import_storage, "_plan", original_plan)
            store_parsed(person=who, parsed=records, source=source)
            monkeypatch.setattr(import_storage, "_plan", plan_then_race)
        calls.append(plan)
        return plan

    monkeypatch.setattr(import_storage, "_plan", plan_then_race)
    result = store_parsed(person=person, parsed=parsed, source="race")

    assert len(calls) == 2  # the unique fingerprint stopped the first write; the second plan saw the rival
    assert (result.created, result.duplicates) == (0, 1)
    assert Moment.objects.filter(owner=person).count() == 1


@pytest.mark.django_db
def test_an_import_that_stores_new_records_tells_the_derived_apps(person, settings, monkeypatch):
    calls = []
    monkeypatch.setattr("insights.services.interests_changed", lambda p, since=None: calls.append((p.pk, since)))
    settings.VAULT = {**settings.VAULT, "ON_NEW_RECORDS": ["insights.services.interests_changed"]}
    from vault.importing import import_file

    path = FIXTURES / "garmin_run.gpx"
    import_file(person=person, path=path, progress=False)
    # From her earliest new record on: an incremental update, not a rebuild of everything.
    first_point = Trackpoint.objects.filter(owner=person).order_by("recorded_at").first().recorded_at
    assert calls == [(person.pk, first_point)]
    import_file(person=person, path=path, progress=False)  # all duplicates: nothing new to derive from
    assert calls == [(person.pk, first_point)]


@pytest.mark.django_db
def test_the_earliest_stored_time_counts_only_new_records(person):
    def moment(day: int) -> ParsedMoment:
        return ParsedMoment(datetime(2024, 3, day, tzinfo=UTC), "place", f"Lido {day}", [], "likes", None, None)

    point = ParsedPoint(datetime(2024, 3, 9, 7, tzinfo=UTC), 45.4, 12.3, None, None)
    assert store_parsed(person=person, parsed=ParsedImport(moments=[moment(5)]), source="s").earliest == datetime(
        2024, 3, 5, tzinfo=UTC
    )
    later = ParsedImport(moments=[moment(5), moment(8)], tracks=[ParsedTrack("walk", None, "walking", [point])])
    result = store_parsed(person=person, parsed=later, source="s")  # the 5th is known: only the 8th and 9th are new

    assert (result.created, result.duplicates, result.earliest) == (2, 1, datetime(2024, 3, 8, tzinfo=UTC))
    assert store_parsed(person=person, parsed=later, source="s").earliest is None
