from django.db import migrations, models
from django.db.models import F


def keep_what_members_were_told(apps, schema_editor):
    # Batches sent before this change told the member the exact count: that is what it knows.
    IntroductionBatch = apps.get_model("club", "IntroductionBatch")
    IntroductionBatch.objects.update(requests_sent_approx=F("requests_sent"))


class Migration(migrations.Migration):
    dependencies = [
        ("club", "0002_segments_introductions_quota"),
    ]

    operations = [
        migrations.AddField(
            model_name="introductionbatch",
            name="requests_sent_approx",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(keep_what_members_were_told, migrations.RunPython.noop),
    ]
