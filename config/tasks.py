"""Tasks of the deployment itself (not of an app): the workers' heartbeat."""

from __future__ import annotations

import time

from celery import shared_task
from django.core.cache import cache

from config.health import HEARTBEAT_CACHE_KEY


@shared_task(ignore_result=True)
def worker_heartbeat() -> float:
    """Periodic (beat): record that a worker took a task from the queue just now.

    Idempotent: it only overwrites one timestamp. It also proves beat and the broker work,
    which is what the readiness check wants to know.
    """
    return record_heartbeat()


def record_heartbeat() -> float:
    now = time.time()
    # No expiry: the check reads the age, and a missing key would hide how old it is.
    cache.set(HEARTBEAT_CACHE_KEY, now, timeout=None)
    return now
