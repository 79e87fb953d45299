"""Celery tasks: thin wrappers that take ids and call services.

Periodic runs hold a single-run lock (config.locks), so beat never has two of one at
once; the services stay safe without it (the ledger head's row lock, idempotent anchors).
"""

from __future__ import annotations

import uuid

from celery import shared_task

from config.locks import held, single_run
from config.retries import RETRY_ON_TRANSIENT_ERRORS
from ledger import anchoring, selectors, services
from ledger.errors import CheckpointNotFound


@shared_task(ignore_result=True)
def sequence_pending(entry_ids: list[str] | None = None) -> int:
    """Sequence pending entries: the given ones (after a commit), or all of them (beat).

    Idempotent: a sequenced entry is no longer pending, so a second run finds nothing to
    move. Runs for given ids wait on the head row lock rather than the single-run lock: a
    writer must see its own entries sequenced.
    """
    if entry_ids is None:
        return _sequence_all() or 0
    return services.sequence_pending(entry_ids=entry_ids)


@single_run("ledger.sequence", timeout=10)
def _sequence_all() -> int:
    return services.sequence_pending()


@shared_task(ignore_result=True)
@single_run("ledger.checkpoint", timeout=30)
def maybe_sign_checkpoint() -> str | None:
    """Periodic: sign a checkpoint when one is due. Idempotent: a tree that has not grown
    since the last checkpoint gets no new one."""
    checkpoint = services.maybe_sign_checkpoint()
    return str(checkpoint.id) if checkpoint else None


# Publishing waits for the transaction to be mined (up to 120 s in Web3Anchor).
ANCHOR_LOCK_SECONDS = 300


@shared_task(ignore_result=True, **RETRY_ON_TRANSIENT_ERRORS)
def anchor_checkpoint(checkpoint_id: str) -> str | None:
    """Anchor one checkpoint. Idempotent: an anchored checkpoint keeps its first anchor, and
    one lock per checkpoint stops two workers from publishing it at the same moment."""
    return _anchor(checkpoint_id)


@shared_task(ignore_result=True)
@single_run("ledger.anchor-latest", timeout=ANCHOR_LOCK_SECONDS)
def anchor_latest_checkpoint() -> str | None:
    """Periodic: anchor the newest checkpoint if it has no anchor yet (its own task failed
    for good or was lost). Anchoring the newest vouches for every earlier one, as they are
    all consistent with it. Idempotent, as ``anchor_checkpoint``."""
    try:
        checkpoint = selectors.latest_checkpoint()
    except CheckpointNotFound:
        return None
    return _anchor(str(checkpoint.id))


def _anchor(checkpoint_id: str) -> str | None:
    with held(f"ledger.anchor:{checkpoint_id}", timeout=ANCHOR_LOCK_SECONDS) as acquired:
        if not acquired:
            return None  # another worker is publishing it right now
        return str(anchoring.anchor_checkpoint(uuid.UUID(checkpoint_id)).id)


@shared_task(acks_late=True, ignore_result=True)
def verify_ledger(run_id: str) -> None:
    """One verification run started from the auditor page. Idempotent."""
    from ledger import verification

    verification.run_verification(run_id)
