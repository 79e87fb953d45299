"""A partner's webhook signing secret is sealed at rest with the partner's key, opens for
signing, is rewrapped by a master-key rotation, and the migration sealed existing ones."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from broker import console, services, webhooks
from broker.models import Partner
from vault.keyring import reset_keyring
from vault.models import VaultKey

BEFORE, AFTER = [("broker", "0002_consent_addressee")], [("broker", "0003_seal_webhook_secrets")]


def _raw_partner_row(partner: Partner) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM broker_partner WHERE id = %s", [partner.pk])
        return repr(cursor.fetchone())


@pytest.mark.django_db(databases=["default", "keys"])
def test_the_secret_is_sealed_in_the_database_and_opens_to_sign():
    partner, _, _ = services.partner_create(name="Hooked", redirect_uri="https://hooked.example/cb")
    secret = partner.webhook_secret

    assert len(secret) >= 32
    assert secret not in _raw_partner_row(partner)
    assert secret.encode().hex() not in _raw_partner_row(partner)
    assert VaultKey.objects.filter(owner_uid=partner.uid).exists()
    signature = webhooks.sign(Partner.objects.get(pk=partner.pk).webhook_secret, 1_700_000_000, b"{}")
    assert webhooks.verify(secret, 1_700_000_000, b"{}", signature, now=1_700_000_000)


@pytest.mark.django_db(databases=["default", "keys"])
def test_rotation_replaces_the_sealed_secret():
    partner, _, _ = services.partner_create(name="Rotating", redirect_uri="https://rotating.example/cb")
    old_blob, old = bytes(partner.sealed_webhook_secret), partner.webhook_secret

    new = console.webhook_secret_rotate(partner=partner)

    stored = Partner.objects.get(pk=partner.pk)
    assert stored.webhook_secret == new != old
    assert bytes(stored.sealed_webhook_secret) != old_blob
    assert new not in _raw_partner_row(stored)


@pytest.mark.django_db(databases=["default", "keys"])
def test_a_master_key_rotation_keeps_the_secret_working(settings, tmp_path):
    settings.VAULT = {**settings.VAULT, "KEYRING_DIR": tmp_path / "keys"}
    reset_keyring()
    partner, _, _ = services.partner_create(name="Rewrapped", redirect_uri="https://rewrapped.example/cb")
    secret = partner.webhook_secret
    old_kek = VaultKey.objects.get(owner_uid=partner.uid).kek_id

    call_command("rotate_kek", "--no-progress")

    reset_keyring()
    assert VaultKey.objects.get(owner_uid=partner.uid).kek_id != old_kek
    assert Partner.objects.get(pk=partner.pk).webhook_secret == secret


@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_the_migration_seals_existing_secrets_and_reverses():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    OldPartner = executor.loader.project_state(BEFORE).apps.get_model("broker", "Partner")
    old = OldPartner.objects.create(name="Legacy", webhook_secret="legacy-secret-0123456789abcdefghijklmnop")

    executor.migrate(AFTER)
    executor.loader.build_graph()

    partner = Partner.objects.get(pk=old.pk)
    assert partner.webhook_secret == "legacy-secret-0123456789abcdefghijklmnop"
    assert "legacy-secret" not in _raw_partner_row(partner)

    executor.migrate(BEFORE)
    executor.loader.build_graph()
    OldPartner = executor.loader.project_state(BEFORE).apps.get_model("broker", "Partner")
    assert OldPartner.objects.get(pk=old.pk).webhook_secret == "legacy-secret-0123456789abcdefghijklmnop"
    executor.migrate(AFTER)


@pytest.mark.django_db(databases=["default", "keys"])
def test_a_partner_made_in_the_admin_gets_a_sealed_secret_it_never_shows():
    from django.test import Client

    from accounts.models import User

    browser = Client()
    browser.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    form = browser.get("/admin/broker/partner/add/")
    browser.post("/admin/broker/partner/add/", {"name": "Admin-made", "webhook_url": ""})

    partner = Partner.objects.get(name="Admin-made")
    assert form.status_code == 200
    assert "webhook_secret" not in form.content.decode()
    assert len(partner.webhook_secret) >= 32
    assert partner.webhook_secret not in _raw_partner_row(partner)
