"""Webhook signing secrets move from a clear column to one sealed with each partner's own
data key in the key store (see ``Partner.sealed_webhook_secret``)."""

from django.db import migrations, models

RECORD = "partner.webhook_secret"  # broker.models.WEBHOOK_SIGNING_RECORD, frozen here


def seal_secrets(apps, schema_editor):
    from vault.keys import create_vault_key, keys_for_uid

    Partner = apps.get_model("broker", "Partner")
    for partner in Partner.objects.using(schema_editor.connection.alias).all():
        create_vault_key(partner.uid)
        partner.sealed_webhook_secret = keys_for_uid(partner.uid).seal_raw(
            RECORD, partner.uid, partner.webhook_secret.encode()
        )
        partner.save(update_fields=["sealed_webhook_secret"])


def open_secrets(apps, schema_editor):
    from vault.keys import keys_for_uid

    Partner = apps.get_model("broker", "Partner")
    for partner in Partner.objects.using(schema_editor.connection.alias).all():
        blob = bytes(partner.sealed_webhook_secret)
        partner.webhook_secret = keys_for_uid(partner.uid).unseal_raw(RECORD, partner.uid, blob).decode()
        partner.save(update_fields=["webhook_secret"])


class Migration(migrations.Migration):
    dependencies = [
        ("broker", "0002_consent_addressee"),
        ("vault", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="partner",
            name="sealed_webhook_secret",
            field=models.BinaryField(default=b"", editable=False),
            preserve_default=False,
        ),
        migrations.RunPython(seal_secrets, open_secrets),
        migrations.RemoveField(model_name="partner", name="webhook_secret"),
    ]
