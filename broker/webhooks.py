"""Webhooks to partners: signing, the outbox, and delivery (at least once).

A status change writes a ``WebhookDelivery`` row in its own transaction (``queue``);
after commit a Celery task is asked to deliver it, and a periodic sweeper delivers
whatever is still pending, so nothing is lost while Redis or the workers are down.
Partners de-duplicate by the ``Eidetic-Event-Id`` header.

Signature: ``Eidetic-Signature: v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>``
with ``Eidetic-Timestamp`` in Unix seconds; partners should refuse timestamps older
than five minutes (replay).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from broker.models import Partner, WebhookDelivery

logger = logging.getLogger("eidetic.broker.webhooks")

SIGNATURE_HEADER = "Eidetic-Signature"
TIMESTAMP_HEADER = "Eidetic-Timestamp"
EVENT_ID_HEADER = "Eidetic-Event-Id"
EVENT_TYPE_HEADER = "Eidetic-Event-Type"


def broker_setting(name: str) -> Any:
    return settings.BROKER[name]


# --- signing --------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def verify(secret: str, timestamp: int, body: bytes, signature: str, *, now: int, tolerance: int = 300) -> bool:
    """What a partner does on receipt: constant-time compare, and refuse stale timestamps."""
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def encode(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


# --- senders: the pluggable edge ------------------------------------------------------


class WebhookSender:
    """How a signed webhook leaves Eidetic. ``send`` raises ``DeliveryFailed`` on any
    failure (network, timeout, non-2xx); returning means the partner accepted it."""

    def send(self, *, url: str, body: bytes, headers: dict[str, str]) -> None:
        raise NotImplementedError


class DeliveryFailed(Exception):
    pass


class HttpSender(WebhookSender):
    """POSTs with ``requests``; no redirects followed (the registered URL is the one)."""

    def send(self, *, url: str, body: bytes, headers: dict[str, str]) -> None:
        import requests

        try:
            response = requests.post(
                url,
                data=body,
                headers={**headers, "Content-Type": "application/json"},
                timeout=broker_setting("WEBHOOK_TIMEOUT_SECONDS"),
                allow_redirects=False,
            )
        except requests.RequestException as error:
            raise DeliveryFailed(type(error).__name__) from error
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"HTTP {response.status_code}")


class MemorySender(WebhookSender):
    """Keeps what it sends in ``sent`` (class-level): for tests and offline demos."""

    sent: list[dict[str, Any]] = []
    fail_next: int = 0

    def send(self, *, url: str, body: bytes, headers: dict[str, str]) -> None:
        if MemorySender.fail_next > 0:
            MemorySender.fail_next -= 1
            raise DeliveryFailed("simulated failure")
        MemorySender.sent.append({"url": url, "body": body, "headers": headers})


def get_sender() -> WebhookSender:
    return import_string(broker_setting("WEBHOOK_SENDER"))()


# --- the outbox -----------------------------------------------------------------------


def queue(*, partner: Partner, event_type: str, payload: dict) -> WebhookDelivery | None:
    """Write the event to the outbox; call inside the transaction of the change."""
    if not partner.webhook_url:
        return None
    now = timezone.now()
    delivery = WebhookDelivery(partner=partner, event_type=event_type, payload=payload, next_attempt_at=now)
    delivery.payload = {**payload, "event_id": str(delivery.event_id), "type": event_type}
    delivery.save()
    transaction.on_commit(partial(_dispatch, delivery.pk))
    return delivery


def _dispatch(delivery_id: int) -> None:
    """Ask a worker to deliver; if the broker is unreachable the sweeper will do it."""
    from broker.tasks import deliver_webhook

    try:
        deliver_webhook.apply_async((delivery_id,), retry=False)
    except Exception:  # Broker down (kombu/redis errors vary): the outbox row is safe.
        logger.warning("webhook queued in outbox only; sweeper will deliver", extra={"delivery": delivery_id})


def backoff(attempts: int) -> timedelta:
    base = broker_setting("WEBHOOK_BACKOFF_SECONDS")
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


def _claim(delivery_id: int, now: datetime) -> bool:
    """Take a lease on a pending row without holding a lock over the network call."""
    lease = now + timedelta(seconds=broker_setting("WEBHOOK_TIMEOUT_SECONDS") * 2 + 5)
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=lease)
    return claimed == 1


def deliver(delivery_id: int, *, now: datetime | None = None) -> str:
    """One attempt. Returns the row's status after it ("pending" means: try again later)."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("partner").get(pk=delivery_id)
    body = encode(delivery.payload)
    timestamp = int(now.timestamp())
    headers = {
        EVENT_ID_HEADER: str(delivery.event_id),
        EVENT_TYPE_HEADER: delivery.event_type,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(delivery.partner.webhook_secret, timestamp, body),
    }
    delivery.attempts += 1
    try:
        get_sender().send(url=delivery.partner.webhook_url, body=body, headers=headers)
    except DeliveryFailed as error:
        delivery.last_error = str(error)[:200]
        delivery.next_attempt_at = now + backoff(delivery.attempts)
        if delivery.attempts >= broker_setting("WEBHOOK_MAX_ATTEMPTS"):
            delivery.status = WebhookDelivery.Status.FAILED
    else:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.last_error = ""
    delivery.save(update_fields=["attempts", "last_error", "next_attempt_at", "status", "delivered_at"])
    return delivery.status


def pending_ids(*, now: datetime | None = None, limit: int = 200) -> list[int]:
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def sweep(*, now: datetime | None = None) -> int:
    """Deliver what is due; returns how many were delivered."""
    now = now or timezone.now()
    delivered = [deliver(delivery_id, now=now) for delivery_id in pending_ids(now=now)]
    return delivered.count(WebhookDelivery.Status.DELIVERED)
