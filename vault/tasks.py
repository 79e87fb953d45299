"""Celery tasks of the vault. Tasks take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from config.retries import RETRY_ON_TRANSIENT_ERRORS
from vault import importing
from vault.models import ImportJob


@shared_task(acks_late=True, ignore_result=True, **RETRY_ON_TRANSIENT_ERRORS)
def run_import(job_id: str) -> None:
    """Run one import job. Idempotent: a finished (done or failed) job is not run again, and
    its records are stored in one transaction, so a job that is run again after its worker
    died (or after a database error) stores them once."""
    job = ImportJob.objects.filter(id=job_id).select_related("owner").first()
    if job is None or job.finished:
        return
    importing.run_import(job)


@shared_task(acks_late=True, ignore_result=True)
def run_export(job_id: str) -> None:
    """Build one export. Idempotent: a finished job is not run again."""
    from vault import exporting

    exporting.run_export(job_id)


@shared_task(acks_late=True, ignore_result=True)
def rotate_kek(rotation_id: str) -> None:
    """Run one master key rotation. Idempotent: a finished rotation is not run again."""
    from vault import rotation

    rotation.run_rotation(rotation_id)
