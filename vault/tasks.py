"""Celery tasks of the vault. Tasks take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from vault import importing
from vault.models import ImportJob


@shared_task(acks_late=True, ignore_result=True)
def run_import(job_id: str) -> None:
    """Run one import job. Idempotent: a finished (done or failed) job is not run again."""
    job = ImportJob.objects.filter(id=job_id).select_related("owner").first()
    if job is None or job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        return
    importing.run_import(job)
