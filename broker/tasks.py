"""Celery tasks: they take ids and call services (HackSoft style)."""

from __future__ import annotations

from celery import shared_task

from broker import services, webhooks


@shared_task(bind=True, max_retries=8, acks_late=True)
def deliver_webhook(self, delivery_id: int) -> str:
    """One attempt now; on failure, retried with exponential backoff. In eager mode
    (local, tests) a failure is left to the sweeper so no request waits on retries."""
    status = webhooks.deliver(delivery_id)
    if status == "pending" and not self.request.is_eager:
        raise self.retry(countdown=webhooks.backoff(self.request.retries + 1).total_seconds())
    return status


@shared_task
def sweep_webhooks() -> int:
    """Periodic: deliver every outbox row that is due (covers a broker that was down)."""
    return webhooks.sweep()


@shared_task
def expire_consents() -> int:
    """Periodic: move consents past their expiry to ``expired`` (recorded, notified)."""
    return services.expire_due_consents()
