"""Long work shows progress: her export, the ledger verification, the master key rotation.

Each is a job row a worker fills in (Celery is eager in tests, so the job has finished
once the request's transaction commits); its page shows a progress bar, survives a
reload, and starting again while one is unfinished returns the same job.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.urls import reverse

from ledger import services as ledger_services
from ledger.models import Entry, VerificationRun
from tests.factories import sealed_moment
from tests.vault.test_portal_pages import seed_vault
from vault import exporting
from vault.keyring import get_keyring, reset_keyring
from vault.keys import keys_for
from vault.models import ExportJob, KeyRotation, VaultKey

pytestmark = pytest.mark.django_db


# --- export -----------------------------------------------------------------------------------


def test_export_runs_as_a_job_and_downloads_when_ready(client, person, django_capture_on_commit_callbacks):
    seed_vault(person, points=5)
    client.force_login(person)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("vault:export_start"))
    job = ExportJob.objects.get(owner=person)
    assert response.status_code == 302
    assert response["Location"] == reverse("vault:export_job", kwargs={"job_id": job.id})
    assert job.status == ExportJob.Status.DONE
    assert job.processed_items == job.total_items == 3  # one track, moments, social items

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert reverse("vault:export_job_download", kwargs={"job_id": job.id}).encode() in page.content
    assert b'<progress id="export-progress" max="100" value="100">' in page.content

    status = client.get(reverse("vault:export_job_status", kwargs={"job_id": job.id})).json()
    assert status["finished"] is True
    assert status["percent"] == 100
    assert status["download_url"].endswith("/download")

    download = client.get(status["download_url"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="eidetic-export-')
    document = json.loads(download.content)
    assert [track["name"] for track in document["tracks"]] == ["Gianicolo hill walk"]


def test_the_stored_export_is_sealed_not_clear(client, person, django_capture_on_commit_callbacks):
    seed_vault(person, points=3)
    client.force_login(person)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("vault:export_start"))
    job = ExportJob.objects.get(owner=person)
    stored = bytes(job.sealed_document)
    assert b"Gianicolo" not in stored
    assert b"eidetic-export/1" not in stored
    assert b"Gianicolo" in keys_for(person).unseal_raw("export_job", job.id, stored)


def test_starting_twice_while_unfinished_returns_the_same_job(person):
    first = exporting.export_start(person=person)  # no commit in this test: the job stays pending
    second = exporting.export_start(person=person)
    assert first.id == second.id
    assert ExportJob.objects.filter(owner=person).count() == 1


def test_a_pending_export_page_shows_progress_and_refreshes_itself(client, person):
    job = exporting.export_start(person=person)
    client.force_login(person)
    page = client.get(reverse("vault:export_job", kwargs={"job_id": job.id})).content.decode()
    assert 'data-progress-url="' + reverse("vault:export_job_status", kwargs={"job_id": job.id}) in page
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "js/progress.js" in page
    assert "Download my data" not in page
    download = client.get(reverse("vault:export_job_download", kwargs={"job_id": job.id}))
    assert download.status_code == 302  # not ready: back to the job page, no partial file


def test_a_finished_job_is_not_run_again(person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = exporting.export_start(person=person)
    job.refresh_from_db()
    finished_at = job.finished_at
    exporting.run_export(job.id)
    job.refresh_from_db()
    assert job.finished_at == finished_at


def test_someone_elses_export_is_a_404(client, person, other_person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = exporting.export_start(person=other_person)
    client.force_login(person)
    for name in ("vault:export_job", "vault:export_job_status", "vault:export_job_download"):
        assert client.get(reverse(name, kwargs={"job_id": job.id})).status_code == 404, name


def test_export_pages_are_for_people_only(client, staff_user):
    client.force_login(staff_user)
    assert client.get(reverse("vault:export")).status_code == 403
    assert client.post(reverse("vault:export_start")).status_code == 403


def test_erasure_deletes_her_exports(person, django_capture_on_commit_callbacks):
    from accounts.services import erase_account

    with django_capture_on_commit_callbacks(execute=True):
        exporting.export_start(person=person)
    erase_account(person)
    assert not ExportJob.objects.filter(owner=person).exists()


def test_export_page_lists_recent_exports_or_says_there_are_none(client, person, django_capture_on_commit_callbacks):
    client.force_login(person)
    assert "You have not exported anything yet" in client.get(reverse("vault:export")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        job = exporting.export_start(person=person)
    page = client.get(reverse("vault:export")).content.decode()
    assert reverse("vault:export_job", kwargs={"job_id": job.id}) in page
    assert "You have not exported anything yet" not in page


# --- ledger verification ----------------------------------------------------------------------


def _ledger_with_entries(count: int) -> None:
    for number in range(count):
        ledger_services.append(kind="test.event", actor="system", subject=f"thing:{number}", body={"n": number})
    ledger_services.sequence_pending()


def test_auditor_runs_a_verification_and_sees_it_verify(client, auditor, django_capture_on_commit_callbacks):
    _ledger_with_entries(5)
    client.force_login(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("ledger:verifications"))
    run = VerificationRun.objects.get()
    assert response["Location"] == reverse("ledger:verification", kwargs={"run_id": run.id})
    assert run.status == VerificationRun.Status.DONE
    assert run.verified is True
    assert run.processed_items == run.total_items == 5
    page = client.get(response["Location"]).content.decode()
    assert "The ledger verifies" in page
    assert "OK: the ledger verifies" in page
    status = client.get(reverse("ledger:verification_status", kwargs={"run_id": run.id})).json()
    assert status == {**status, "finished": True, "verified": True, "percent": 100, "processed": 5, "total": 5}
    assert "5 of 5 entries" in page
    listing = client.get(reverse("ledger:verifications")).content.decode()
    assert reverse("ledger:verification", kwargs={"run_id": run.id}) in listing
    assert "5 of 5" in listing


def test_a_tampered_ledger_is_reported_with_its_first_bad_entry(client, auditor, django_capture_on_commit_callbacks):
    from django.db import connection

    from ledger import triggers

    _ledger_with_entries(4)
    with connection.cursor() as cursor:  # an insider edits entry 2 behind the triggers' back
        for statement in triggers.remove_sql(connection.vendor):
            cursor.execute(statement)
    forged = bytes(Entry.objects.get(seq=2).data).replace(b'"n":2', b'"n":7')
    Entry.objects.filter(seq=2).update(data=forged)
    client.force_login(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("ledger:verifications"))
    run = VerificationRun.objects.get()
    assert run.verified is False
    assert run.first_bad_entry == 2
    page = client.get(reverse("ledger:verification", kwargs={"run_id": run.id})).content.decode()
    assert "does not verify" in page
    assert reverse("ledger:entry", kwargs={"seq": 2}) in page


def test_verification_is_idempotent_while_one_is_unfinished(client, auditor):
    client.force_login(auditor)
    client.post(reverse("ledger:verifications"))  # not committed: it stays pending
    client.post(reverse("ledger:verifications"))
    assert VerificationRun.objects.count() == 1
    run = VerificationRun.objects.get()
    page = client.get(reverse("ledger:verification", kwargs={"run_id": run.id})).content.decode()
    assert 'data-finished="false"' in page
    assert '<meta http-equiv="refresh"' in page


def test_verification_is_for_auditors_and_staff_only(client, person, staff_user, operator):
    assert client.get(reverse("ledger:verifications")).status_code == 302  # to the login page
    for user in (person, staff_user):
        client.force_login(user)
        assert client.get(reverse("ledger:verifications")).status_code == 403
        assert client.post(reverse("ledger:verifications")).status_code == 403
    client.force_login(operator)
    assert client.get(reverse("ledger:verifications")).status_code == 200
    assert not VerificationRun.objects.exists()


# --- master key rotation ----------------------------------------------------------------------


@pytest.fixture
def fresh_keyring(settings, tmp_path):
    settings.VAULT = {**settings.VAULT, "KEYRING_DIR": tmp_path / "keys"}
    reset_keyring()
    yield
    reset_keyring()


def test_operator_rotates_the_master_key_from_the_page(
    client, fresh_keyring, operator, person, other_person, django_capture_on_commit_callbacks
):
    moment = sealed_moment(person, "still opens")
    old_id = get_keyring().current()[0]
    client.force_login(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("vault:key_rotation"), {"generate": "on"})
    assert response.status_code == 302
    job = KeyRotation.objects.get()
    assert job.status == KeyRotation.Status.DONE
    assert job.kek_id
    assert job.kek_id != old_id
    assert job.processed_items == job.total_items == 2
    assert set(VaultKey.objects.values_list("kek_id", flat=True)) == {job.kek_id}
    reset_keyring()
    assert moment.open(keys_for(person)) == {"label": "still opens"}
    page = client.get(reverse("vault:key_rotation")).content.decode()
    assert job.kek_id in page
    assert "2 of 2 data keys" in page


def test_the_rotation_status_is_json_for_operators_only(
    client, fresh_keyring, operator, person, auditor, django_capture_on_commit_callbacks
):
    client.force_login(operator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("vault:key_rotation"), {"generate": "on"})
    job = KeyRotation.objects.get()
    address = reverse("vault:key_rotation_status", kwargs={"job_id": job.id})

    status = client.get(address).json()
    assert status == {
        **status,
        "id": str(job.id),
        "finished": True,
        "percent": 100,
        "processed": 1,
        "total": 1,
        "kek_id": job.kek_id,
        "error": None,
    }
    assert client.get(reverse("vault:key_rotation_status", kwargs={"job_id": uuid.uuid4()})).status_code == 404
    for user in (person, auditor):
        client.force_login(user)
        assert client.get(address).status_code == 403


def test_rotation_is_staff_only(client, fresh_keyring, person, auditor):
    for user in (person, auditor):
        client.force_login(user)
        assert client.get(reverse("vault:key_rotation")).status_code == 403
        assert client.post(reverse("vault:key_rotation"), {"generate": "on"}).status_code == 403
    assert not KeyRotation.objects.exists()


def test_a_second_start_returns_the_unfinished_rotation(client, fresh_keyring, operator):
    client.force_login(operator)
    client.post(reverse("vault:key_rotation"), {"generate": "on"})  # not committed: stays pending
    client.post(reverse("vault:key_rotation"), {"generate": "on"})
    assert KeyRotation.objects.count() == 1
    page = client.get(reverse("vault:key_rotation")).content.decode()
    assert "A rotation is under way" in page
    assert 'data-finished="false"' in page


def test_a_restarted_rotation_keeps_its_master_key(fresh_keyring, operator, person):
    from vault import rotation

    job = KeyRotation.objects.create(started_by=operator)
    rotation.run_rotation(job.id)
    job.refresh_from_db()
    ids_after_first = set(get_keyring().ids())
    KeyRotation.objects.filter(id=job.id).update(status=KeyRotation.Status.RUNNING)  # as if the worker died
    rotation.run_rotation(job.id)
    reset_keyring()
    assert set(get_keyring().ids()) == ids_after_first  # no second key was made
    assert set(VaultKey.objects.values_list("kek_id", flat=True)) == {job.kek_id}


def test_a_keyring_that_cannot_make_keys_fails_the_rotation_and_changes_nothing(
    fresh_keyring, operator, person, monkeypatch
):
    from vault import rotation
    from vault.errors import KeyringError
    from vault.keyring import FileKeyring

    def refuse(self):
        raise KeyringError("install the new key as current, keep the old one as previous, then run rotate_kek")

    monkeypatch.setattr(FileKeyring, "generate", refuse)
    before = set(VaultKey.objects.values_list("kek_id", flat=True))
    job = KeyRotation.objects.create(started_by=operator, generate_new_key=True)
    rotation.run_rotation(job.id)
    job.refresh_from_db()
    assert job.status == KeyRotation.Status.FAILED
    assert job.error_code == "KeyringError"
    assert "install the new key" in job.error_detail
    assert set(VaultKey.objects.values_list("kek_id", flat=True)) == before
