"""VerificationRun takes the shape of every other background job (config.jobs.BackgroundJob):
its counters are renamed and it gains the error code and detail columns."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0003_verificationrun"),
    ]

    operations = [
        migrations.RenameField(model_name="verificationrun", old_name="total", new_name="total_items"),
        migrations.RenameField(model_name="verificationrun", old_name="processed", new_name="processed_items"),
        migrations.AddField(
            model_name="verificationrun",
            name="error_code",
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AddField(
            model_name="verificationrun",
            name="error_detail",
            field=models.CharField(blank=True, max_length=300),
        ),
    ]
