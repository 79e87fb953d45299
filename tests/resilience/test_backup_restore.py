"""Backup and restore as docs/operations.md describes it: ``pg_dump`` of both databases,
an erasure after the dump, then the OLDER data dump restored next to the CURRENT keys
database. The ledger verifies, the erased person's records stay unreadable (her wrapped
key is gone), and erasing her again removes what the restore brought back.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.services import erase_account
from ledger import selectors as ledger_selectors
from ledger import services as ledger_services
from ledger.models import Entry
from tests.broker.conftest import grant, make_partner
from tests.broker.vaultdata import add_moments
from tests.factories import PersonFactory
from vault import keys as vault_keys
from vault.errors import VaultKeyMissing
from vault.models import Moment, VaultKey

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _libpq_env(alias: str) -> tuple[dict[str, str], str]:
    """Connection settings of a Django database for pg_dump/pg_restore, never on argv."""
    params = connections[alias].settings_dict
    environ = {
        **os.environ,
        "PGHOST": str(params["HOST"] or "127.0.0.1"),
        "PGPORT": str(params["PORT"] or 5432),
        "PGUSER": params["USER"],
        "PGPASSWORD": params["PASSWORD"] or "",
    }
    return environ, params["NAME"]


def pg_dump(alias: str, target: Path) -> None:
    environ, name = _libpq_env(alias)
    subprocess.run(["pg_dump", "--format=custom", f"--file={target}", name], env=environ, check=True, timeout=60)


def pg_restore(alias: str, dump: Path) -> None:
    """The documented restore: ``pg_restore --clean --if-exists --no-owner``, services stopped
    (here: this process's connections closed)."""
    connections.close_all()
    environ, name = _libpq_env(alias)
    result = subprocess.run(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={name}", str(dump)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def _sequenced_checkpoint() -> None:
    ledger_services.sequence_pending()
    ledger_services.sign_checkpoint()


@pytest.fixture
def dumps(tmp_path) -> Path:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump and pg_restore (postgresql-client) are not installed")
    return tmp_path


def test_an_older_data_dump_restored_with_current_keys_keeps_the_erased_unreadable(dumps, settings):
    settings.BROKER = {**settings.BROKER, "WEBHOOK_SENDER": "broker.webhooks.MemorySender"}
    start = timezone.now() - timedelta(days=3)
    erased, kept = PersonFactory(username="to-be-erased"), PersonFactory(username="stays")
    add_moments(erased, start, 20)
    add_moments(kept, start, 20)
    partner = make_partner("Backup Beds")
    consent_of_erased = grant(erased, partner)
    _sequenced_checkpoint()
    erased_uid, erased_pk = erased.uid, erased.pk

    # Nightly backup: both databases, apart.
    pg_dump("default", dumps / "eidetic.dump")
    pg_dump("keys", dumps / "eidetic_keys.dump")

    # After the backup: more data for one person, the other is erased.
    add_moments(kept, start + timedelta(days=1), 5)
    erase_account(erased)
    _sequenced_checkpoint()
    assert not VaultKey.objects.filter(owner_uid=erased_uid).exists()

    # Disaster: the data database is restored from the OLDER dump; keys stay current.
    pg_restore("default", dumps / "eidetic.dump")

    restored = User.objects.get(pk=erased_pk)
    assert restored.erased_at is None, "the restore brought back her pre-erasure row"
    assert Moment.objects.filter(owner=restored).count() == 20, "and her ciphertext"
    vault_keys._cache.forget(erased_uid)  # a restarted process starts with no cached keys
    with pytest.raises(VaultKeyMissing):
        vault_keys.keys_for(restored)
    # ... which nothing opens, through the partner API either (no data, no 500).
    read = Client(raise_request_exception=False).get(
        "/api/v1/data/moments", HTTP_AUTHORIZATION=f"Bearer {consent_of_erased.access_token}"
    )
    assert read.status_code not in (200, 500), read.content
    assert b"items" not in read.content

    # The people not erased are whole as of the dump, and open with the current keys.
    kept_moments = Moment.objects.filter(owner=kept)
    assert kept_moments.count() == 20
    kept_keys = vault_keys.keys_for(kept)
    assert all(moment.open(kept_keys) for moment in kept_moments)

    # The restored ledger verifies up to the dump's head.
    report = ledger_selectors.verify_database(check_anchors=False)
    assert report.ok, report.summary()
    restored_size = report.size

    # Erasing her again (as the docs say) removes the rows. Without her key her pseudonym
    # cannot be computed, so this second erasure adds nothing to the log, which stays dense.
    erase_account(restored)
    assert not Moment.objects.filter(owner_id=erased_pk).exists()
    assert User.objects.get(pk=erased_pk).erased_at is not None
    add_moments(kept, start + timedelta(days=2), 1)
    grant(kept, partner)  # life goes on: new entries extend the restored log
    _sequenced_checkpoint()
    report = ledger_selectors.verify_database(check_anchors=False)
    assert report.ok, report.summary()
    assert report.size > restored_size
    assert list(Entry.objects.order_by("seq").values_list("seq", flat=True)) == list(range(report.size))


def test_restoring_an_old_keys_dump_would_resurrect_the_erased(dumps):
    """Why the docs forbid restoring an old keys dump over a newer keys database: it still
    holds the wrapped key of people erased since, and their restored data opens again."""
    person = PersonFactory(username="erased-later")
    add_moments(person, timezone.now() - timedelta(days=1), 3)
    pg_dump("default", dumps / "eidetic.dump")
    pg_dump("keys", dumps / "eidetic_keys.dump")
    erase_account(person)

    pg_restore("default", dumps / "eidetic.dump")
    pg_restore("keys", dumps / "eidetic_keys.dump")
    vault_keys._cache.forget(person.uid)
    restored = User.objects.get(pk=person.pk)
    moments = Moment.objects.filter(owner=restored)
    assert [m.open(vault_keys.keys_for(restored))["label"] for m in moments]
