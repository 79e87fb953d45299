"""The auditor page's "verify now": one run of the verifier over the database, done by a
worker, with its progress and outcome in a ``VerificationRun`` row.

Idempotent: while a run is unfinished, starting again returns it; a finished run is never
redone (start a new one). The row survives a reload, so the page can be left and reopened.
"""

from __future__ import annotations

import logging
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from ledger import selectors, tree
from ledger.models import VerificationRun

logger = logging.getLogger(__name__)
Status = VerificationRun.Status


def verification_start() -> VerificationRun:
    """Queue a verification of the whole ledger, or return the one under way."""
    with transaction.atomic():
        unfinished = VerificationRun.objects.select_for_update().filter(status__in=VerificationRun.UNFINISHED).first()
        if unfinished is not None:
            return unfinished
        run = VerificationRun.objects.create(total_items=tree.sequenced_size())
        transaction.on_commit(lambda: _enqueue(run))
    return run


def _enqueue(run: VerificationRun) -> None:
    from ledger.tasks import verify_ledger  # the task module imports this one

    verify_ledger.delay(str(run.id))
    run.refresh_from_db()


def verification_runs(limit: int = 10) -> list[VerificationRun]:
    return list(VerificationRun.objects.all()[:limit])


def verification_run(run_id: UUID | str) -> VerificationRun:
    """``VerificationRun.DoesNotExist`` when there is no such run."""
    return VerificationRun.objects.get(id=run_id)


def run_verification(run_id: UUID | str) -> None:
    run = VerificationRun.objects.filter(id=run_id).first()
    if run is None or run.finished:
        return
    VerificationRun.objects.filter(id=run.id).update(
        status=Status.RUNNING, total_items=tree.sequenced_size(), processed_items=0
    )

    def progressed(count: int) -> None:
        VerificationRun.objects.filter(id=run.id).update(processed_items=count)

    try:
        report = selectors.verify_database(on_progress=progressed)
    except Exception:  # an unreachable chain node, a broken key file: say so, do not hang
        logger.exception("ledger verification %s could not run", run.id)
        VerificationRun.objects.filter(id=run.id).update(
            status=Status.FAILED, summary="The verifier could not run; see the server log.", finished_at=timezone.now()
        )
        return
    VerificationRun.objects.filter(id=run.id).update(
        status=Status.DONE,
        processed_items=report.size,
        total_items=max(report.size, run.total_items),
        verified=report.ok,
        summary=report.summary(),
        first_bad_entry=report.first_bad_entry,
        finished_at=timezone.now(),
    )
