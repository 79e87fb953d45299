from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("eidetic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _first_heartbeat(**kwargs) -> None:
    """A worker that just started is alive: say so before beat's first heartbeat task."""
    from config.tasks import record_heartbeat

    record_heartbeat()
