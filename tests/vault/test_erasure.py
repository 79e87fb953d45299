"""Erasure (GDPR Art. 17): crypto-shred first, then delete; idempotent; backups stay unreadable."""

from __future__ import annotations

import uuid

import pytest

from accounts.services import erase_account
from tests.factories import sealed_moment
from vault.errors import VaultKeyMissing
from vault.keys import PersonKeys, keys_for, keys_for_uid
from vault.models import ImportJob, Moment, PrivacyZone, SocialItem, Track, Trackpoint, VaultKey
from vault.selectors import ledger_pseudonym
from vault.services import zone_create

VAULT_MODELS = (Trackpoint, Track, Moment, SocialItem, PrivacyZone, ImportJob)


@pytest.mark.django_db
def test_after_erasure_nothing_of_that_person_opens_or_remains(person, other_person):
    mine = sealed_moment(person, "my secret place")
    zone_create(person=person, label="home", lat=45.0, lon=9.0, radius_m=200)
    theirs = sealed_moment(other_person, "their place")
    backup = list(Moment.objects.filter(owner=person).values("id", "sealed"))  # a copy taken before

    erase_account(person)

    with pytest.raises(VaultKeyMissing):
        keys_for(person)
    assert not VaultKey.objects.filter(owner_uid=person.uid).exists()
    for model in VAULT_MODELS:
        assert not model.objects.filter(owner=person).exists(), model.__name__
    person.refresh_from_db()
    assert person.erased_at is not None
    assert not person.is_active
    assert not person.has_usable_password()
    assert person.username == f"erased-{person.uid.hex}"
    # The leftover ciphertext (as in a backup) has no key that could open it.
    assert backup[0]["id"] == mine.id
    # Other people are untouched.
    assert theirs.open(keys_for(other_person)) == {"label": "their place"}


@pytest.mark.django_db
def test_a_key_restored_from_nowhere_cannot_open_the_old_ciphertext(person):
    """Even a fresh key for the same person (e.g. re-provisioned) opens nothing old."""
    mine = sealed_moment(person, "old secret")
    erase_account(person)
    from vault.keys import create_vault_key

    create_vault_key(person.uid)
    from vault.errors import SealBroken

    with pytest.raises(SealBroken):
        mine.open(keys_for_uid(person.uid))


@pytest.mark.django_db
def test_erasure_is_idempotent_and_recorded_once_on_the_ledger(person, django_capture_on_commit_callbacks):
    from ledger.selectors import entries_for_subject

    pseudonym = ledger_pseudonym(person)
    with django_capture_on_commit_callbacks(execute=True):  # lets the sequencer run after commit
        erase_account(person)
        erase_account(person)
        person.refresh_from_db()
        erase_account(person)
    erased = [e for e in entries_for_subject(f"person:{pseudonym}") if e.kind == "account.erased"]
    assert len(erased) == 1
    assert erased[0].sequenced
    assert b"alice" not in erased[0].data  # the ledger holds the pseudonym, never the handle


@pytest.mark.django_db
def test_an_erasure_interrupted_after_the_shred_finishes_on_the_next_run(person, monkeypatch):
    sealed_moment(person, "half")
    from vault import services as vault_services

    real_shred = vault_services.shred_vault

    def crash_after_shredding(p):
        from vault import keys as vault_keys

        vault_keys.shred(p.uid)
        raise RuntimeError("worker died")

    monkeypatch.setattr(vault_services, "shred_vault", crash_after_shredding)
    with pytest.raises(RuntimeError):
        erase_account(person)
    assert Moment.objects.filter(owner=person).exists()  # ciphertext left over, but no key
    with pytest.raises(VaultKeyMissing):
        keys_for(person)

    monkeypatch.setattr(vault_services, "shred_vault", real_shred)
    person.refresh_from_db()
    erase_account(person)
    assert not Moment.objects.filter(owner=person).exists()


def test_pseudonyms_differ_per_audience_and_per_person():
    a = PersonKeys.from_dek(uuid.uuid4(), b"a" * 32)
    b = PersonKeys.from_dek(uuid.uuid4(), b"b" * 32)
    assert a.pseudonym("ledger") != a.pseudonym("partner:1")
    assert a.pseudonym("partner:1") != a.pseudonym("partner:2")
    assert a.pseudonym("ledger") != b.pseudonym("ledger")
    assert a.pseudonym("ledger") == PersonKeys.from_dek(a.owner_uid, b"a" * 32).pseudonym("ledger")
