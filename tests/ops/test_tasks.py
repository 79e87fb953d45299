"""Celery robustness: late acks, rejection on worker loss, retries with backoff for
transient errors, single-run periodic tasks, and idempotent tasks (run again after a
failure or a lost acknowledgement, the effect happens once)."""

from __future__ import annotations

import io
import threading
import types
import uuid

import pytest
from django.db import OperationalError, transaction

from broker import tasks as broker_tasks
from broker import webhooks
from broker.models import WebhookDelivery
from config.celery import app
from config.locks import held
from config.retries import TRANSIENT_ERRORS
from insights import tasks as insights_tasks
from ledger import anchoring
from ledger import services as ledger
from ledger import tasks as ledger_tasks
from ledger.models import Anchor
from tests.vault.fixtures import data_counts, fixture_bytes
from vault import tasks as vault_tasks
from vault.importing import start_import
from vault.models import ImportJob

OUR_TASK_PREFIXES = ("config.", "ledger.", "broker.", "vault.", "insights.", "club.")


def our_tasks() -> dict:
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if name.startswith(OUR_TASK_PREFIXES)}


# --- configuration --------------------------------------------------------------------------------


def test_workers_ack_late_and_give_back_tasks_of_a_lost_worker():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.worker_cancel_long_running_tasks_on_connection_loss is True
    assert app.conf.task_time_limit < 3600  # shorter than Redis' visibility timeout in production
    tasks = our_tasks()
    assert {"config.tasks.worker_heartbeat", "ledger.tasks.sequence_pending", "vault.tasks.run_import"} <= set(tasks)
    for name, task in tasks.items():
        assert task.acks_late is True, name
        assert task.reject_on_worker_lost is True, name


def test_every_task_says_how_it_is_idempotent():
    for name, task in our_tasks().items():
        assert "dempotent" in (task.__doc__ or ""), name


@pytest.mark.parametrize(
    "task",
    [
        broker_tasks.deliver_webhook,
        vault_tasks.run_import,
        insights_tasks.update_interests,
        ledger_tasks.anchor_checkpoint,
    ],
)
def test_tasks_with_ids_retry_transient_errors_with_backoff(task):
    assert OperationalError in task.autoretry_for
    assert set(TRANSIENT_ERRORS) <= set(task.autoretry_for)
    assert task.retry_backoff is True
    assert task.retry_jitter is True
    assert 0 < task.max_retries <= 10


def test_periodic_tasks_expire_rather_than_pile_up(settings):
    tasks = our_tasks()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in tasks, name
        assert entry["options"]["expires"] >= entry["schedule"].total_seconds(), name


# --- single-run periodic tasks --------------------------------------------------------------------


def _latest_checkpoint_stub():
    return types.SimpleNamespace(id=uuid.uuid4())


PERIODIC = [
    (ledger_tasks.sequence_pending, ledger_tasks.services, "sequence_pending", {}),
    (ledger_tasks.maybe_sign_checkpoint, ledger_tasks.services, "maybe_sign_checkpoint", {}),
    (
        ledger_tasks.anchor_latest_checkpoint,
        ledger_tasks.anchoring,
        "anchor_checkpoint",
        {"latest_checkpoint": _latest_checkpoint_stub},
    ),
    (broker_tasks.sweep_webhooks, broker_tasks.webhooks, "sweep", {}),
    (broker_tasks.expire_consents, broker_tasks.services, "expire_due_consents", {}),
]


@pytest.mark.parametrize(
    ("task", "module", "function", "extra"), PERIODIC, ids=lambda value: getattr(value, "name", "")
)
def test_a_periodic_task_started_twice_at_once_does_its_work_once(monkeypatch, task, module, function, extra):
    for name, replacement in extra.items():
        monkeypatch.setattr(ledger_tasks.selectors, name, replacement)
    inside, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow_work(*args, **kwargs):
        calls.append(1)
        inside.set()
        assert release.wait(10)
        return types.SimpleNamespace(id=uuid.uuid4())

    monkeypatch.setattr(module, function, slow_work)
    first = threading.Thread(target=task.apply)
    first.start()
    assert inside.wait(10)
    second = task.apply().result  # beat fires again while the first run still works
    release.set()
    first.join(10)
    assert calls == [1]
    assert not second
    # Once the first run is over, the next one runs.
    release.set()
    task.apply()
    assert calls == [1, 1]


@pytest.mark.redis
def test_the_lock_is_a_redis_lock_in_production(settings):
    from django.test import override_settings

    cache = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": f"ops-test-{uuid.uuid4().hex[:8]}",
        }
    }
    with override_settings(CACHES=cache):
        from django.core.cache import cache as redis_cache

        assert hasattr(redis_cache, "lock")
        with held("ops-test", timeout=5) as first:
            outcome: list[bool] = []

            def contender() -> None:
                with held("ops-test", timeout=5) as acquired:
                    outcome.append(acquired)

            thread = threading.Thread(target=contender)
            thread.start()
            thread.join(10)
            assert (first, outcome) == (True, [False])
        with held("ops-test", timeout=5) as again:
            assert again is True
        redis_cache.delete_pattern("*")


def test_a_lock_left_by_a_killed_worker_expires():
    from django.core.cache import cache

    cache.add("eidetic:lock:ops-expiry", "dead-worker", 1)
    with held("ops-expiry", timeout=5) as acquired:
        assert acquired is False
    cache.delete("eidetic:lock:ops-expiry")  # locmem cannot fast-forward time: expire it by hand
    with held("ops-expiry", timeout=5) as acquired:
        assert acquired is True


# --- idempotency against the real services -----------------------------------------------------------


class CountingAnchor(anchoring.EthereumTesterAnchor):
    """The embedded chain, counting publications; fails the first ``fail`` of them."""

    published = 0
    fail = 0
    gate: threading.Event | None = None
    inside = threading.Event()

    def publish(self, data: bytes):
        CountingAnchor.inside.set()
        if CountingAnchor.gate is not None:
            assert CountingAnchor.gate.wait(10)
        if CountingAnchor.fail > 0:
            CountingAnchor.fail -= 1
            raise ConnectionError("chain node unreachable")
        CountingAnchor.published += 1
        return super().publish(data)


@pytest.fixture
def counting_anchor(settings, monkeypatch):
    # Checkpoints signed by the test get no anchoring task of their own: the test runs it.
    monkeypatch.setattr(ledger, "_kick_anchor", lambda checkpoint_id: None)
    settings.LEDGER = {**settings.LEDGER, "ANCHOR": "tests.ops.test_tasks.CountingAnchor"}
    CountingAnchor.published, CountingAnchor.fail, CountingAnchor.gate = 0, 0, None
    CountingAnchor.inside = threading.Event()
    return CountingAnchor


def signed_checkpoint():
    with transaction.atomic():
        ledger.append(kind="test.ops", actor="eidetic", subject="person:ps1", body={"n": 1})
    ledger.sequence_pending()
    return ledger.sign_checkpoint()


@pytest.mark.django_db
def test_an_anchor_retried_after_a_network_error_is_published_once(counting_anchor):
    checkpoint = signed_checkpoint()
    counting_anchor.fail = 1
    # throw=False: as a worker does, let Celery schedule the retry instead of raising it
    # (eager runs otherwise propagate the Retry); the retry then runs at once.
    result = ledger_tasks.anchor_checkpoint.apply(args=[str(checkpoint.id)], throw=False)
    assert result.successful()
    assert (counting_anchor.published, Anchor.objects.filter(checkpoint=checkpoint).count()) == (1, 1)
    # Redelivered after its effect (acknowledgement lost): nothing more happens.
    assert ledger_tasks.anchor_checkpoint.apply(args=[str(checkpoint.id)]).result == result.result
    assert (counting_anchor.published, Anchor.objects.count()) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_two_workers_anchoring_one_checkpoint_at_once_publish_once(counting_anchor):
    checkpoint = signed_checkpoint()
    counting_anchor.gate = threading.Event()
    results: list = []
    first = threading.Thread(
        target=lambda: results.append(ledger_tasks.anchor_checkpoint.apply(args=[str(checkpoint.id)]))
    )
    first.start()
    assert counting_anchor.inside.wait(60)  # generous: returns as soon as it is inside
    second = ledger_tasks.anchor_checkpoint.apply(args=[str(checkpoint.id)]).result
    counting_anchor.gate.set()
    first.join(60)
    assert second is None
    assert results[0].successful()
    assert (counting_anchor.published, Anchor.objects.filter(checkpoint=checkpoint).count()) == (1, 1)


@pytest.mark.django_db
def test_the_anchor_sweep_anchors_a_bare_checkpoint_once(counting_anchor):
    checkpoint = signed_checkpoint()
    ledger_tasks.anchor_latest_checkpoint.apply()
    ledger_tasks.anchor_latest_checkpoint.apply()
    assert (counting_anchor.published, Anchor.objects.filter(checkpoint=checkpoint).count()) == (1, 1)


@pytest.mark.django_db
def test_a_webhook_redelivered_after_success_is_not_sent_again(partner, webhook_sender):
    webhook_sender.fail_next = 1
    with transaction.atomic():
        delivery = webhooks.queue(partner=partner.partner, event_type="consent.test", payload={"n": 1})
    assert broker_tasks.deliver_webhook.apply(args=[delivery.pk]).result == "pending"  # failed: left to the sweeper
    delivery.refresh_from_db()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
    assert broker_tasks.sweep_webhooks.apply().result == 1
    assert broker_tasks.deliver_webhook.apply(args=[delivery.pk]).result == "skipped"
    assert broker_tasks.sweep_webhooks.apply().result == 0
    assert len(webhook_sender.sent) == 1


@pytest.mark.django_db
def test_an_import_retried_after_a_database_error_stores_its_records_once(
    person, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        job = start_import(person=person, upload=io.BytesIO(fixture_bytes("garmin_run.gpx")), filename="run.gpx")
    before = data_counts()
    real_run = vault_tasks.importing.run_import
    failures = [OperationalError("server closed the connection unexpectedly")]

    def flaky_run(job):
        if failures:
            raise failures.pop()
        return real_run(job)

    monkeypatch.setattr(vault_tasks.importing, "run_import", flaky_run)
    assert vault_tasks.run_import.apply(args=[str(job.id)], throw=False).successful()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    after = data_counts()
    assert sum(after.values()) > sum(before.values())
    # The same task delivered again (its worker died before acknowledging it): no new rows.
    vault_tasks.run_import.apply(args=[str(job.id)])
    assert data_counts() == after
