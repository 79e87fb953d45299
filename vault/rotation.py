"""Master key (KEK) rotation as a background job, started from the operations page.

The same work as ``manage.py rotate_kek``: only the small wrapped data keys change, each
in one compare-and-set, so everything stays readable throughout. The job row records the
new key's id before the first re-wrap and counts re-wrapped keys as it goes, so a restarted
worker carries on under the same key, and the page can show progress after a reload.
"""

from __future__ import annotations

import logging
from uuid import UUID

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from vault.errors import KeyringError
from vault.keyring import get_keyring, reset_keyring
from vault.keys import rewrap
from vault.models import KeyRotation, VaultKey

logger = logging.getLogger(__name__)
Status = KeyRotation.Status


def rotation_start(*, user, generate_new_key: bool = True) -> KeyRotation:
    """Queue a rotation, or return the one already under way (one at a time)."""
    with transaction.atomic():
        unfinished = KeyRotation.objects.select_for_update().filter(status__in=KeyRotation.UNFINISHED).first()
        if unfinished is not None:
            return unfinished
        job = KeyRotation.objects.create(started_by=user, generate_new_key=generate_new_key)
        transaction.on_commit(lambda: _enqueue(job))
    return job


def _enqueue(job: KeyRotation) -> None:
    from vault.tasks import rotate_kek  # the task module imports this one

    rotate_kek.delay(str(job.id))
    job.refresh_from_db()


def rotations() -> list[KeyRotation]:
    return list(KeyRotation.objects.select_related("started_by")[:10])


def key_counts() -> dict[str, int]:
    """How many data keys each master key wraps (ids and counts only)."""
    rows = VaultKey.objects.values_list("kek_id").order_by("kek_id")
    counts: dict[str, int] = {}
    for (kek_id,) in rows.iterator():
        counts[kek_id] = counts.get(kek_id, 0) + 1
    return counts


def run_rotation(job_id: UUID | str) -> None:
    """Re-wrap every data key under the rotation's master key. Idempotent."""
    job = KeyRotation.objects.filter(id=job_id).first()
    if job is None or job.finished:
        return
    try:
        kek_id = job.kek_id or _choose_key(job)
        stale = VaultKey.objects.exclude(kek_id=kek_id)
        KeyRotation.objects.filter(id=job.id).update(status=Status.RUNNING, total_items=stale.count())
        for vault_key in stale.iterator(chunk_size=500):
            rewrap(vault_key)
            KeyRotation.objects.filter(id=job.id).update(processed_items=F("processed_items") + 1)
    except KeyringError as error:
        _finish(job, Status.FAILED, error_code=error.code, error_detail=error.message[:300])
        return
    _finish(job, Status.DONE)


def _choose_key(job: KeyRotation) -> str:
    reset_keyring()
    keyring = get_keyring()
    kek_id = keyring.generate() if job.generate_new_key else keyring.current()[0]
    KeyRotation.objects.filter(id=job.id).update(kek_id=kek_id)
    return kek_id


def _finish(job: KeyRotation, status: str, **fields: str) -> None:
    KeyRotation.objects.filter(id=job.id).update(status=status, finished_at=timezone.now(), **fields)
