"""Append-only triggers on entries, checkpoints and anchors, and the sequencer's head row."""

from django.db import migrations

from ledger import triggers


def install_triggers(apps, schema_editor):
    for statement in triggers.install_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def remove_triggers(apps, schema_editor):
    for statement in triggers.remove_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def create_head(apps, schema_editor):
    apps.get_model("ledger", "LedgerHead").objects.using(schema_editor.connection.alias).get_or_create(id=1)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(install_triggers, remove_triggers),
        migrations.RunPython(create_head, migrations.RunPython.noop),
    ]
