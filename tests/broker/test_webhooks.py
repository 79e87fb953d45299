"""Webhooks: signed, in the outbox with the change, delivered at least once."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.utils import timezone

from broker import services, webhooks
from broker.models import Consent, WebhookDelivery
from broker.tasks import deliver_webhook, sweep_webhooks
from tests.broker.conftest import grant

pytestmark = pytest.mark.django_db


@contextmanager
def celery_conf(app, **values):
    """Celery's conf reads through to Django settings; restore by value, not by delattr."""
    old = {name: getattr(app.conf, name) for name in values}
    for name, value in values.items():
        setattr(app.conf, name, value)
    _drop_connection_pools(app)
    try:
        yield
    finally:
        for name, value in old.items():
            setattr(app.conf, name, value)
        _drop_connection_pools(app)


def _drop_connection_pools(app) -> None:
    """Pools are built from the broker URL on first use: drop them (as Celery does after
    a fork) so the next publish connects to the URL just set."""
    app._pool = None
    app.__dict__.get("amqp") and setattr(app.__dict__["amqp"], "_producer_pool", None)


def test_signature_verifies_with_the_partner_secret_only():
    body = b'{"type":"consent.paused"}'
    signature = webhooks.sign("secret-a", 1_700_000_000, body)
    assert webhooks.verify("secret-a", 1_700_000_000, body, signature, now=1_700_000_010)
    assert not webhooks.verify("secret-b", 1_700_000_000, body, signature, now=1_700_000_010)
    assert not webhooks.verify("secret-a", 1_700_000_000, body + b" ", signature, now=1_700_000_010)
    assert not webhooks.verify("secret-a", 1_700_000_001, body, signature, now=1_700_000_010)
    assert not webhooks.verify("secret-a", 1_700_000_000, body, signature, now=1_700_000_000 + 301)


def test_delivery_is_signed_and_carries_event_id_and_pseudonym(person, partner, webhook_sender):
    consent = grant(person, partner).consent
    services.consent_pause(consent=consent, person=person)
    webhooks.sweep()
    message = webhook_sender.sent[-1]
    headers, body = message["headers"], message["body"]
    assert message["url"] == partner.partner.webhook_url
    timestamp = int(headers[webhooks.TIMESTAMP_HEADER])
    assert webhooks.verify(
        partner.partner.webhook_secret, timestamp, body, headers[webhooks.SIGNATURE_HEADER], now=timestamp
    )
    payload = json.loads(body)
    assert payload["event_id"] == headers[webhooks.EVENT_ID_HEADER]
    assert payload == {**payload, "type": "consent.paused", "consent": str(consent.uid), "state": "paused"}
    assert len(payload["subject"]) == 32
    assert person.username not in body.decode()


def test_the_outbox_row_commits_with_the_change_and_the_task_delivers_after_commit(
    person, partner, webhook_sender, django_capture_on_commit_callbacks
):
    consent = grant(person, partner).consent
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.consent_pause(consent=consent, person=person)
    assert callbacks, "delivery is only asked for after commit"
    row = WebhookDelivery.objects.get(event_type="consent.paused")
    assert row.status == WebhookDelivery.Status.DELIVERED
    assert len([m for m in webhook_sender.sent if b"consent.paused" in m["body"]]) == 1


def test_a_failed_delivery_backs_off_and_the_sweeper_retries(person, partner, webhook_sender):
    consent = grant(person, partner).consent
    webhooks.sweep()
    webhook_sender.fail_next = 2
    services.consent_revoke(consent=consent, person=person)
    row = WebhookDelivery.objects.get(event_type="consent.revoked")
    assert webhooks.deliver(row.pk) == "pending"
    row.refresh_from_db()
    assert row.attempts == 1
    assert row.last_error == "simulated failure"
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=20)
    assert webhooks.sweep() == 0, "not due yet"
    later = timezone.now() + timedelta(hours=2)
    assert webhooks.sweep(now=later) == 0  # second failure
    WebhookDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert webhooks.sweep() == 1
    row.refresh_from_db()
    assert row.status == WebhookDelivery.Status.DELIVERED
    assert row.attempts == 3


def test_backoff_grows_and_is_capped():
    steps = [webhooks.backoff(attempt).total_seconds() for attempt in range(1, 12)]
    assert steps[0] == 30
    assert steps[1] == 60
    assert steps[2] == 120
    assert steps == sorted(steps)
    assert max(steps) == 3600


def test_delivery_gives_up_after_the_maximum_attempts(person, partner, webhook_sender, settings):
    settings.BROKER = {**settings.BROKER, "WEBHOOK_MAX_ATTEMPTS": 2}
    consent = grant(person, partner).consent
    webhook_sender.fail_next = 10
    services.consent_pause(consent=consent, person=person)
    row = WebhookDelivery.objects.get(event_type="consent.paused")
    webhooks.deliver(row.pk)
    WebhookDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert webhooks.deliver(row.pk) == WebhookDelivery.Status.FAILED


def test_an_event_is_not_delivered_twice_by_the_task_and_the_sweeper(person, partner, webhook_sender):
    consent = grant(person, partner).consent
    webhooks.sweep()
    services.consent_pause(consent=consent, person=person)
    row = WebhookDelivery.objects.get(event_type="consent.paused")
    assert deliver_webhook.delay(row.pk).get() == "delivered"
    assert sweep_webhooks.delay().get() == 0
    assert deliver_webhook.delay(row.pk).get() == "skipped"
    assert len([m for m in webhook_sender.sent if b"consent.paused" in m["body"]]) == 1


def test_with_the_celery_broker_unreachable_the_change_commits_and_is_delivered_later(
    person, partner, webhook_sender, django_capture_on_commit_callbacks
):
    """Eager mode off and a broker URL nobody listens on: apply_async fails, the consent
    change is committed anyway, and the sweeper delivers once things are back."""
    from config.celery import app

    consent = grant(person, partner).consent
    webhooks.sweep()
    with (
        celery_conf(app, task_always_eager=False, broker_url="redis://127.0.0.1:1/0"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.consent_revoke(consent=consent, person=person)
    assert Consent.objects.get(pk=consent.pk).state == Consent.State.REVOKED
    row = WebhookDelivery.objects.get(event_type="consent.revoked")
    assert row.status == WebhookDelivery.Status.PENDING
    assert row.attempts == 0
    assert webhooks.sweep() == 1
    assert any(b"consent.revoked" in m["body"] for m in webhook_sender.sent)


@pytest.mark.redis
def test_with_real_redis_the_task_is_queued_and_a_worker_delivers_it(
    person, partner, webhook_sender, django_capture_on_commit_callbacks
):
    """Against a real Redis: the after-commit dispatch reaches the queue; consuming it
    (as a worker would) delivers the outbox row."""
    from config.celery import app

    consent = grant(person, partner).consent
    webhooks.sweep()
    queue_name = f"test-webhooks-{os.getpid()}"
    with celery_conf(app, task_always_eager=False, broker_url=os.environ["REDIS_URL"], task_default_queue=queue_name):
        with django_capture_on_commit_callbacks(execute=True):
            services.consent_pause(consent=consent, person=person)
        with app.connection_for_read() as connection:
            message = connection.SimpleQueue(queue_name, no_ack=True).get(timeout=5)
    row = WebhookDelivery.objects.get(event_type="consent.paused")
    assert message.headers["task"] == "broker.tasks.deliver_webhook"
    assert json.loads(message.body)[0] == [row.pk]
    assert webhooks.deliver(row.pk) == WebhookDelivery.Status.DELIVERED
