"""Readiness checks added for production: worker heartbeat, ledger sequencer, anchoring;
and how advisory checks degrade readiness without failing it."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.utils import timezone

from config import health
from config.tasks import record_heartbeat, worker_heartbeat
from ledger import services as ledger
from ledger.models import Anchor, PendingEntry


@pytest.fixture
def workers(settings):
    """As in production: tasks go to workers, not run in-process."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.HEALTH = {**settings.HEALTH, "WORKER_HEARTBEAT_MAX_AGE": 60}


def ready(**headers) -> tuple[int, dict]:
    response = Client().get("/health/ready", **headers)
    return response.status_code, response.json()


# --- worker heartbeat ------------------------------------------------------------------------


@pytest.mark.django_db
def test_heartbeat_is_not_configured_where_tasks_run_in_process():
    status, body = ready()
    assert status == 200
    assert body["checks"]["worker_heartbeat"] == {"status": "not_configured", "latency_ms": 0.0, "error": ""}


@pytest.mark.django_db
def test_heartbeat_is_ok_after_the_task_ran(workers):
    worker_heartbeat.apply()
    status, body = ready()
    check = body["checks"]["worker_heartbeat"]
    assert (status, body["status"], check["status"]) == (200, "ok", "ok")
    assert 0 <= check["detail"]["age_s"] < 5


@pytest.mark.django_db
def test_a_stale_heartbeat_degrades_readiness_but_keeps_serving(workers):
    cache.set(health.HEARTBEAT_CACHE_KEY, time.time() - 61, timeout=None)
    status, body = ready()
    check = body["checks"]["worker_heartbeat"]
    assert status == 200
    assert body["status"] == "degraded"
    assert check["status"] == "down"
    assert check["error"] == "StaleHeartbeat"
    assert check["detail"]["age_s"] >= 61


@pytest.mark.django_db
def test_no_heartbeat_at_all_is_down(workers):
    _, body = ready()
    assert body["checks"]["worker_heartbeat"]["error"] == "NoHeartbeat"
    assert body["status"] == "degraded"


@pytest.mark.django_db
def test_an_operator_can_make_the_heartbeat_critical(workers, settings):
    settings.HEALTH = {**settings.HEALTH, "ADVISORY": []}
    status, body = ready()
    assert status == 503
    assert body["status"] == "unavailable"


@pytest.mark.django_db
def test_a_worker_that_starts_beats_at_once(workers):
    from celery.signals import worker_ready

    assert cache.get(health.HEARTBEAT_CACHE_KEY) is None
    worker_ready.send(sender=None)
    assert time.time() - cache.get(health.HEARTBEAT_CACHE_KEY) < 5
    assert ready()[1]["checks"]["worker_heartbeat"]["status"] == "ok"


def test_the_heartbeat_is_scheduled_more_often_than_it_may_age(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["worker-heartbeat"]
    assert entry["task"] == worker_heartbeat.name
    assert entry["schedule"].total_seconds() * 3 <= settings.HEALTH["WORKER_HEARTBEAT_MAX_AGE"]
    assert record_heartbeat() <= time.time()


# --- ledger sequencer ----------------------------------------------------------------------------


def append_sequenced(django_capture_on_commit_callbacks, count: int) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for number in range(count):
            ledger.append(kind="test.ops", actor="eidetic", subject=f"person:ps{number}", body={"n": number})


@pytest.mark.django_db
def test_ledger_head_is_reported(django_capture_on_commit_callbacks):
    append_sequenced(django_capture_on_commit_callbacks, 3)
    _, body = ready()
    check = body["checks"]["ledger_sequencer"]
    assert check["status"] == "ok"
    assert check["detail"] == {"head_size": 3, "pending": 0, "oldest_pending_age_s": 0.0}


@pytest.mark.django_db
def test_a_stuck_sequencer_is_reported_with_its_backlog(settings):
    settings.HEALTH = {**settings.HEALTH, "LEDGER_PENDING_MAX_AGE": 30}
    settings.LEDGER = {**settings.LEDGER, "SEQUENCE_ON_COMMIT": False}
    secret_subject = "person:ZZsecretpseudonym"
    for number in range(2):
        ledger.append(kind="test.ops", actor="eidetic", subject=secret_subject, body={"n": number})
    _, body = ready()
    assert body["checks"]["ledger_sequencer"]["status"] == "ok"  # pending, but young
    PendingEntry.objects.update(created_at=timezone.now() - timedelta(seconds=45))
    response = Client().get("/health/ready")
    check = response.json()["checks"]["ledger_sequencer"]
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert check["status"] == "down"
    assert check["error"] == "SequencerStuck"
    assert check["detail"]["pending"] == 2
    assert check["detail"]["oldest_pending_age_s"] >= 45
    assert "ZZsecret" not in response.content.decode()


# --- anchoring --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_empty_ledger_has_nothing_to_anchor():
    check = ready()[1]["checks"]["ledger_anchor"]
    assert check["status"] == "ok"
    assert check["detail"]["unanchored_checkpoints"] == 0
    assert check["detail"]["last_anchor_age_s"] is None


@pytest.mark.django_db
def test_anchored_checkpoints_are_ok_however_old(django_capture_on_commit_callbacks):
    append_sequenced(django_capture_on_commit_callbacks, 2)
    with django_capture_on_commit_callbacks(execute=True):
        checkpoint = ledger.sign_checkpoint()
    assert Anchor.objects.filter(checkpoint=checkpoint).exists()
    check = ready()[1]["checks"]["ledger_anchor"]
    assert check["status"] == "ok"
    assert check["detail"]["anchored_size"] == 2
    assert check["detail"]["last_anchor_age_s"] < 60


@pytest.mark.django_db
def test_a_checkpoint_left_unanchored_too_long_is_down(django_capture_on_commit_callbacks, settings, monkeypatch):
    settings.HEALTH = {**settings.HEALTH, "ANCHOR_MAX_LAG": 600}
    append_sequenced(django_capture_on_commit_callbacks, 2)
    ledger.sign_checkpoint()  # its anchoring task never runs (no commit here)
    check = ready()[1]["checks"]["ledger_anchor"]
    assert (check["status"], check["detail"]["unanchored_checkpoints"]) == ("ok", 1)
    # Checkpoints are append-only (a trigger refuses UPDATE): move the check's clock instead.
    later = timezone.now() + timedelta(seconds=601)
    monkeypatch.setattr(health.timezone, "now", lambda: later)
    status, body = ready()
    check = body["checks"]["ledger_anchor"]
    assert status == 200
    assert (body["status"], check["status"], check["error"]) == ("degraded", "down", "AnchorLagging")
    assert check["detail"]["unanchored_for_s"] >= 601


# --- the endpoint as a whole -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_critical_check_down_still_fails_readiness(settings):
    settings.HEALTH_CHECKS = {**settings.HEALTH_CHECKS, "always_down": "tests.test_health.always_down"}
    status, body = ready()
    assert status == 503
    assert body["status"] == "unavailable"


@pytest.mark.django_db
def test_a_check_that_raises_is_down_with_its_class_only(settings, monkeypatch):
    from ledger.models import LedgerHead

    def broken(*args, **kwargs):
        raise RuntimeError("host db.internal password hunter2")

    monkeypatch.setattr(LedgerHead.objects, "filter", broken)
    response = Client().get("/health/ready")
    check = response.json()["checks"]["ledger_sequencer"]
    assert (check["status"], check["error"]) == ("down", "RuntimeError")
    assert "hunter2" not in response.content.decode()


@pytest.mark.django_db
def test_readiness_stays_within_a_bounded_number_of_queries(django_assert_max_num_queries, workers):
    worker_heartbeat.apply()
    with django_assert_max_num_queries(12):
        assert Client().get("/health/ready").status_code == 200
