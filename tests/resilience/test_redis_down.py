"""Redis down: consented reads go on, consent changes commit, webhooks wait in the outbox and
leave exactly once when Redis is back; what needs Redis answers 503 JSON, never 500.

The application runs with production's Redis wiring (django-redis cache that ignores
outages, Celery publishing for real, ledger sequencing left to beat) against a private
Redis that this test stops and starts; the data lives in the real PostgreSQL.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from broker import webhooks
from broker.models import Consent, WebhookDelivery
from broker.webhooks import MemorySender
from ledger import selectors as ledger_selectors
from ledger import services as ledger_services
from ledger.models import PendingEntry
from tests.broker.conftest import grant, make_partner
from tests.broker.vaultdata import add_moments
from tests.factories import PersonFactory
from tests.resilience.conftest import celery_against
from vault.models import ImportJob

FIXTURES = Path(__file__).resolve().parent.parent / "vault" / "fixtures"

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_wiring(settings, private_redis):
    """Production's Redis settings, pointed at the private server (started, then stopped)."""
    private_redis.start()
    settings.REDIS_URL = private_redis.url
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": private_redis.url,
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    settings.LEDGER = {**settings.LEDGER, "SEQUENCE_ON_COMMIT": False}
    settings.BROKER = {**settings.BROKER, "WEBHOOK_SENDER": "broker.webhooks.MemorySender"}
    MemorySender.sent = []
    MemorySender.fail_next = 0
    with celery_against(private_redis.url):
        yield private_redis


class Recorder:
    """Every response of the test, so that none can be a 500 unnoticed."""

    def __init__(self) -> None:
        self.responses: list[tuple[str, int]] = []

    def client(self, **defaults) -> Client:
        # raise_request_exception=False: a crash must show as the 500 a user would get.
        client = Client(raise_request_exception=False, **defaults)
        for method in ("get", "post"):
            setattr(client, method, self._recording(getattr(client, method)))
        return client

    def _recording(self, call):
        def recorded(path, *args, **kwargs):
            response = call(path, *args, **kwargs)
            self.responses.append((path, response.status_code))
            return response

        return recorded


def test_with_redis_down_reads_and_consent_changes_work_and_webhooks_wait(redis_wiring):
    recorder = Recorder()
    person = PersonFactory(username="rd-person")
    add_moments(person, timezone.now() - timedelta(days=2), 30)
    world = make_partner("Outage Chairs")

    redis_wiring.stop()

    # The readiness probe says why; the process itself stays up.
    ready = recorder.client().get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"]["status"] == "down"

    # Consent through the real OAuth flow, then consented reads.
    consented = grant(person, world)
    partner = recorder.client(HTTP_AUTHORIZATION=f"Bearer {consented.access_token}")
    for _ in range(3):
        read = partner.get("/api/v1/data/moments", {"limit": 10})
        assert read.status_code == 200, read.content
        assert len(read.json()["items"]) == 10

    # She pauses through the API: committed, and the partner's next call is refused cleanly.
    her = recorder.client()
    her.force_login(person)
    paused = her.post(f"/api/v1/me/consents/{consented.consent.uid}/pause")
    assert paused.status_code == 200, paused.content
    assert Consent.objects.get(pk=consented.consent.pk).state == Consent.State.PAUSED
    refused = partner.get("/api/v1/data/moments")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "ConsentPaused"

    # She resumes from the portal, reads work again, then she revokes through the API.
    assert her.post(f"/consents/{consented.consent.uid}/resume/").status_code == 302
    assert partner.get("/api/v1/data/moments", {"limit": 5}).status_code == 200
    assert her.post(f"/api/v1/me/consents/{consented.consent.uid}/revoke").status_code == 200
    assert Consent.objects.get(pk=consented.consent.pk).state == Consent.State.REVOKED

    # An upload needs the task queue: a clear 503, and nothing of it is kept.
    upload = io.BytesIO((FIXTURES / "eidetic.json").read_bytes())
    upload.name = "eidetic.json"
    refused_upload = her.post("/upload/", {"file": upload}, HTTP_ACCEPT="application/json")
    assert refused_upload.status_code == 503, refused_upload.content
    assert refused_upload.json()["error"]["code"] == "ServiceUnavailable"
    assert refused_upload.headers["Retry-After"]
    assert not ImportJob.objects.filter(owner=person).exists()

    # Nothing left Eidetic yet: every event waits in the outbox.
    assert MemorySender.sent == []
    waiting = list(WebhookDelivery.objects.order_by("created_at"))
    assert [row.event_type for row in waiting][-3:] == ["consent.paused", "consent.resumed", "consent.revoked"]
    assert {row.status for row in waiting} == {WebhookDelivery.Status.PENDING}
    assert PendingEntry.objects.exists(), "ledger entries wait for the sequencer (beat)"

    # Down means 503 (the probe, the upload), never another 5xx.
    assert [answer for answer in recorder.responses if answer[1] >= 500 and answer[1] != 503] == []

    # Redis is back: the sweeper (beat's task) delivers, and a late task or a second
    # sweep delivers nothing again.
    redis_wiring.start()
    assert recorder.client().get("/health/ready").json()["checks"]["redis"]["status"] == "ok"
    assert webhooks.sweep() == len(waiting)
    assert webhooks.sweep() == 0
    for row in waiting:
        assert webhooks.deliver(row.pk) == "skipped"
    sent_ids = [message["headers"][webhooks.EVENT_ID_HEADER] for message in MemorySender.sent]
    assert sorted(sent_ids) == sorted(str(row.event_id) for row in waiting)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {WebhookDelivery.Status.DELIVERED}

    # The ledger entries of the outage are sequenced and the log verifies.
    ledger_services.sequence_pending()
    assert not PendingEntry.objects.exists()
    report = ledger_selectors.verify_database(check_anchors=False)
    assert report.ok, report


def test_after_redis_returns_new_webhooks_are_queued_for_a_worker_again(redis_wiring):
    """The outage leaves no stale connection behind: the next change reaches the queue."""
    from config.celery import app

    person = PersonFactory(username="rd-person2")
    world = make_partner("Outage Tables")
    consented = grant(person, world)
    redis_wiring.stop()
    her = Client(raise_request_exception=False)
    her.force_login(person)
    assert her.post(f"/api/v1/me/consents/{consented.consent.uid}/pause").status_code == 200
    redis_wiring.start()
    assert her.post(f"/api/v1/me/consents/{consented.consent.uid}/resume").status_code == 200
    resumed = WebhookDelivery.objects.get(event_type="consent.resumed")
    with app.connection_for_read() as connection:
        message = connection.SimpleQueue("celery", no_ack=True).get(timeout=5)
    assert message.headers["task"] == "broker.tasks.deliver_webhook"
    assert json.loads(message.body)[0] == [resumed.pk]
