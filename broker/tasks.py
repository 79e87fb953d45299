"""Celery tasks: they take ids and call services (HackSoft style)."""

from __future__ import annotations

from celery import shared_task

from broker import services, webhooks
from config.locks import single_run
from config.retries import RETRY_ON_TRANSIENT_ERRORS


@shared_task(bind=True, acks_late=True, **RETRY_ON_TRANSIENT_ERRORS)
def deliver_webhook(self, delivery_id: int) -> str:
    """One attempt now; on failure, retried with exponential backoff. In eager mode
    (local, tests) a failure is left to the sweeper so no request waits on retries.

    Idempotent: an attempt first claims the outbox row (a short lease), so a delivered row
    is never sent again and two workers never send one row at once. Delivery is at least
    once (a worker may die between the partner's 2xx and recording it); partners drop
    repeats by ``Eidetic-Event-Id``.
    """
    status = webhooks.deliver(delivery_id)
    if status == "pending" and not self.request.is_eager:
        raise self.retry(countdown=webhooks.backoff(self.request.retries + 1).total_seconds())
    return status


@shared_task
@single_run("broker.sweep-webhooks", timeout=900)
def sweep_webhooks() -> int | None:
    """Periodic: deliver every outbox row that is due (covers a broker that was down).

    Idempotent as ``deliver_webhook`` (each row is claimed before it is sent); one run at a
    time. The lock outlasts a full sweep (200 rows at the webhook timeout each).
    """
    return webhooks.sweep()


@shared_task
@single_run("broker.expire-consents", timeout=600)
def expire_consents() -> int | None:
    """Periodic: move consents past their expiry to ``expired`` (recorded, notified).

    Idempotent: only active or paused consents past expiry are picked, each under its row
    lock, so an expired consent is never expired (recorded, notified) twice.
    """
    return services.expire_due_consents()


@shared_task
@single_run("broker.prune-idempotency", timeout=600)
def prune_idempotency_records() -> int | None:
    """Periodic: delete Idempotency-Key records past their replay window.

    Idempotent: it deletes only rows older than the window; a second run finds none.
    """
    from broker.api.idempotency import prune_expired  # the API module: tasks stay importable without DRF views

    return prune_expired()
