from __future__ import annotations

import base64

import pytest
from django.core.management import CommandError, call_command

from tests.factories import PersonFactory, sealed_moment
from vault.crypto import new_key
from vault.errors import KeyringError
from vault.keyring import EnvironmentKeyring, FileKeyring, get_keyring, kek_id_of, reset_keyring
from vault.keys import keys_for, keys_for_uid
from vault.models import VaultKey


@pytest.fixture(autouse=True)
def fresh_keyring(settings, tmp_path):
    settings.VAULT = {**settings.VAULT, "KEYRING_DIR": tmp_path / "keys"}
    reset_keyring()
    yield
    reset_keyring()


@pytest.mark.django_db
def test_after_rotation_everything_opens_and_every_dek_is_under_the_new_kek():
    people = PersonFactory.create_batch(5)
    moments = [sealed_moment(p, f"label {i}") for i, p in enumerate(people)]
    old_id = get_keyring().current()[0]

    call_command("rotate_kek", "--no-progress")

    reset_keyring()
    new_id = get_keyring().current()[0]
    assert new_id != old_id
    assert set(VaultKey.objects.values_list("kek_id", flat=True)) == {new_id}
    for i, (person, moment) in enumerate(zip(people, moments, strict=True)):
        moment.refresh_from_db()
        assert moment.open(keys_for(person)) == {"label": f"label {i}"}


@pytest.mark.django_db
def test_retiring_the_old_kek_keeps_everything_readable():
    person = PersonFactory()
    moment = sealed_moment(person, "kept")
    old_id = get_keyring().current()[0]
    call_command("rotate_kek", "--no-progress", "--retire-old")
    reset_keyring()
    assert old_id not in get_keyring().ids()
    assert moment.open(keys_for_uid(person.uid)) == {"label": "kept"}


@pytest.mark.django_db
def test_a_half_finished_rotation_leaves_everything_readable():
    """Rotation interrupted after some keys: old and new KEKs both still open their DEKs."""
    people = PersonFactory.create_batch(4)
    moments = [sealed_moment(p, "x") for p in people]
    keyring = get_keyring()
    keyring.generate()
    from vault.keys import rewrap

    rewrap(VaultKey.objects.get(owner_uid=people[0].uid))
    rewrap(VaultKey.objects.get(owner_uid=people[1].uid))
    assert VaultKey.objects.values("kek_id").distinct().count() == 2
    reset_keyring()
    for person, moment in zip(people, moments, strict=True):
        assert moment.open(keys_for(person)) == {"label": "x"}


@pytest.mark.django_db
def test_a_process_that_loaded_the_keyring_before_rotation_still_opens_rewrapped_keys(tmp_path):
    person = PersonFactory()
    moment = sealed_moment(person, "y")
    stale_view = FileKeyring(tmp_path / "keys")  # what another worker process holds
    call_command("rotate_kek", "--no-progress")
    new_id = VaultKey.objects.get(owner_uid=person.uid).kek_id
    assert new_id not in stale_view._keys
    assert stale_view.get(new_id)  # reloads from disk instead of failing
    reset_keyring()
    assert moment.open(keys_for(person)) == {"label": "y"}


@pytest.mark.django_db
def test_rotation_refuses_clearly_without_the_old_key(settings, monkeypatch):
    person = PersonFactory()
    sealed_moment(person, "z")
    settings.VAULT = {**settings.VAULT, "KEYRING": "vault.keyring.EnvironmentKeyring"}
    monkeypatch.setenv("EIDETIC_KEK", base64.b64encode(new_key()).decode())
    monkeypatch.delenv("EIDETIC_KEK_PREVIOUS", raising=False)
    reset_keyring()
    with pytest.raises(CommandError, match="is not in the keyring"):
        call_command("rotate_kek", "--no-progress", "--no-generate")


def test_environment_keyring_reads_current_and_previous(monkeypatch, tmp_path):
    current, previous = new_key(), new_key()
    secret_file = tmp_path / "kek"
    secret_file.write_text(base64.b64encode(current).decode())
    monkeypatch.delenv("EIDETIC_KEK", raising=False)
    monkeypatch.setenv("EIDETIC_KEK_FILE", str(secret_file))
    monkeypatch.setenv("EIDETIC_KEK_PREVIOUS", base64.b64encode(previous).decode())
    keyring = EnvironmentKeyring()
    assert keyring.current() == (kek_id_of(current), current)
    assert keyring.get(kek_id_of(previous)) == previous


@pytest.mark.parametrize(
    ("value", "message"),
    [("not base64!!", "not valid base64"), (base64.b64encode(b"short").decode(), "must decode to 32 bytes")],
)
def test_environment_keyring_rejects_bad_keys(monkeypatch, value, message):
    monkeypatch.setenv("EIDETIC_KEK", value)
    with pytest.raises(KeyringError, match=message):
        EnvironmentKeyring()


def test_environment_keyring_requires_a_key(monkeypatch):
    monkeypatch.delenv("EIDETIC_KEK", raising=False)
    monkeypatch.delenv("EIDETIC_KEK_FILE", raising=False)
    with pytest.raises(KeyringError, match="EIDETIC_KEK"):
        EnvironmentKeyring()


def test_file_keyring_creates_a_private_key_on_first_use(tmp_path):
    keyring = FileKeyring(tmp_path / "k")
    kek_id, key = keyring.current()
    path = tmp_path / "k" / f"kek-{kek_id}.key"
    assert path.stat().st_mode & 0o077 == 0
    assert FileKeyring(tmp_path / "k").current() == (kek_id, key)
