"""Celery tasks: thin wrappers that take ids and call services."""

from __future__ import annotations

import uuid

from celery import shared_task

from ledger import anchoring, services


@shared_task(ignore_result=True)
def sequence_pending(entry_ids: list[str] | None = None) -> int:
    return services.sequence_pending(entry_ids=entry_ids)


@shared_task(ignore_result=True)
def maybe_sign_checkpoint() -> str | None:
    checkpoint = services.maybe_sign_checkpoint()
    return str(checkpoint.id) if checkpoint else None


@shared_task(ignore_result=True, autoretry_for=(ConnectionError, TimeoutError), retry_backoff=True, max_retries=8)
def anchor_checkpoint(checkpoint_id: str) -> str:
    return str(anchoring.anchor_checkpoint(uuid.UUID(checkpoint_id)).id)
