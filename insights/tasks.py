"""Celery tasks: take ids, call one service."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils.dateparse import parse_datetime

from config.retries import RETRY_ON_TRANSIENT_ERRORS
from insights import services


@shared_task(acks_late=True, **RETRY_ON_TRANSIENT_ERRORS)
def update_interests(person_id: int, since: str | None) -> dict[str, int]:
    """Incremental update from ``since`` (ISO 8601), or a full rebuild when None.

    A person erased meanwhile has nothing left to update: the task ends quietly.
    Idempotent: the update replaces everything from ``since`` on, under her profile's row
    lock, so running it twice leaves the same timeline as running it once.
    """
    person = get_user_model().objects.filter(pk=person_id, erased_at__isnull=True).first()
    if person is None:
        return {"records_read": 0, "evidence_written": 0, "points_written": 0}
    result = services.update_interests(person=person, since=parse_datetime(since) if since else None)
    return {
        "records_read": result.records_read,
        "evidence_written": result.evidence_written,
        "points_written": result.points_written,
    }
