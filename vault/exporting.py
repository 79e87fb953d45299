"""Her data export as a background job: start it, follow its progress, download it.

The document is built by a worker (eager in local and test settings), sealed under her
own key while it waits in the database, and opened only for her download. Starting is
idempotent: while an export is unfinished, starting again returns that same job.
"""

from __future__ import annotations

import json
import logging
from uuid import UUID

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from vault import services
from vault.errors import ExportNotReady, VaultError
from vault.keys import keys_for
from vault.models import ExportJob

logger = logging.getLogger(__name__)
Status = ExportJob.Status


def export_start(*, person) -> ExportJob:
    """Queue an export of everything she holds, or return the one already under way."""
    unfinished = ExportJob.objects.filter(owner=person, status__in=ExportJob.UNFINISHED).first()
    if unfinished is not None:
        return unfinished
    try:
        with transaction.atomic():
            job = ExportJob.objects.create(owner=person, total_items=services.export_steps(person))
    except IntegrityError:  # a second click raced this one: the constraint kept one job
        return ExportJob.objects.get(owner=person, status__in=ExportJob.UNFINISHED)
    transaction.on_commit(lambda: _enqueue(job))
    return job


def _enqueue(job: ExportJob) -> None:
    from vault.tasks import run_export  # the task module imports this one

    run_export.delay(str(job.id))
    job.refresh_from_db()  # eager Celery has run it already: let the caller see that


def export_job_of(person, job_id: UUID | str) -> ExportJob:
    """Her own export job; ``ExportJob.DoesNotExist`` for anyone else's."""
    return ExportJob.objects.get(owner=person, id=job_id)


def exports_of(person) -> list[ExportJob]:
    return list(ExportJob.objects.filter(owner=person).defer("sealed_document")[:5])


def run_export(job_id: UUID | str) -> None:
    """Build, seal and store the document. Idempotent: a finished job is left alone, and
    a job restarted after a crash starts over from nothing (the document is one write)."""
    job = ExportJob.objects.filter(id=job_id).select_related("owner").first()
    if job is None or job.finished:
        return
    ExportJob.objects.filter(id=job.id).update(status=Status.RUNNING, processed_items=0)

    def step() -> None:
        ExportJob.objects.filter(id=job.id).update(processed_items=F("processed_items") + 1)

    try:
        document = services.export_person_data(job.owner, progress=step)
        data = json.dumps(document, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False).encode()
        sealed = keys_for(job.owner).seal_raw(ExportJob.RECORD_TYPE, job.id, data)
    except VaultError as error:
        _fail(job, error.code, error.message)
        return
    except Exception:
        logger.exception("export %s failed", job.id)  # the id only: never her data
        _fail(job, "ExportFailed", "The export could not be built; nothing was lost. Please try again.")
        return
    ExportJob.objects.filter(id=job.id).update(
        status=Status.DONE,
        sealed_document=sealed,
        size_bytes=len(data),
        processed_items=F("total_items"),
        finished_at=timezone.now(),
    )


def _fail(job: ExportJob, code: str, message: str) -> None:
    ExportJob.objects.filter(id=job.id).update(
        status=Status.FAILED, error_code=code, error_detail=message[:300], finished_at=timezone.now()
    )


def export_document(person, job: ExportJob) -> bytes:
    """The finished export, opened for her download; ``ExportNotReady`` before it is done."""
    if job.status != Status.DONE or job.sealed_document is None:
        raise ExportNotReady
    return keys_for(person).unseal_raw(ExportJob.RECORD_TYPE, job.id, bytes(job.sealed_document))
