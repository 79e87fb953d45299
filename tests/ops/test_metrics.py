"""/metrics: Prometheus text, requests by view and status, latency histograms, ledger and
queue gauges read at scrape time, multi-process aggregation, and who may read it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from config.health import HEARTBEAT_CACHE_KEY
from ledger import services as ledger

ROOT = Path(__file__).resolve().parents[2]


def scrape(**headers) -> dict[tuple[str, tuple], float]:
    response = Client().get("/metrics", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return parse(response.content.decode())


def parse(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def requests_of(samples, view: str, status: str, method: str = "GET") -> float:
    key = ("eidetic_http_requests_total", (("method", method), ("status", status), ("view", view)))
    return samples.get(key, 0.0)


# --- access --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_loopback_callers_may_read_it():
    response = Client().get("/metrics")
    assert response.status_code == 200
    assert "eidetic_http_requests_total" in response.content.decode()
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_is_hidden_from_other_addresses_and_from_behind_a_proxy():
    assert Client().get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
    assert Client().get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 404


@pytest.mark.django_db
def test_a_bearer_token_opens_it_from_anywhere(settings):
    settings.METRICS = {**settings.METRICS, "TOKEN": "scrape-token-123"}
    far = {"REMOTE_ADDR": "203.0.113.9"}
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-123", **far).status_code == 200
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-12", **far).status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Basic scrape-token-123", **far).status_code == 404


@pytest.mark.django_db
def test_loopback_access_can_be_turned_off(settings):
    settings.METRICS = {**settings.METRICS, "ALLOW_LOOPBACK": False, "TOKEN": None}
    assert Client().get("/metrics").status_code == 404


def test_it_only_answers_get():
    assert Client().post("/metrics").status_code == 405


# --- per request -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_requests_are_counted_by_view_name_and_status():
    before = scrape()
    client = Client()
    client.get("/health/live")
    client.get("/health/live")
    consent_id = uuid.uuid4()
    client.get(f"/api/v1/consent-requests/{consent_id}")
    client.get("/no/such/page/alice")
    text = Client().get("/metrics").content.decode()
    after = parse(text)

    def counted(view: str, status: str) -> float:
        return requests_of(after, view, status) - requests_of(before, view, status)

    assert counted("health-live", "200") == 2
    assert counted("broker-consent-request", "401") == 1
    assert counted("unmatched", "404") == 1
    # Labels are view names: no ids, no paths, nothing a person typed.
    assert str(consent_id) not in text
    assert "alice" not in text


@pytest.mark.django_db
def test_latency_is_a_histogram_per_view():
    before = scrape()
    for _ in range(3):
        Client().get("/health/live")
    after = scrape()
    count = ("eidetic_http_request_duration_seconds_count", (("view", "health-live"),))
    assert after[count] - before.get(count, 0.0) == 3
    infinity = ("eidetic_http_request_duration_seconds_bucket", (("le", "+Inf"), ("view", "health-live")))
    assert after[infinity] == after[count]
    total = ("eidetic_http_request_duration_seconds_sum", (("view", "health-live"),))
    assert after[total] > before.get(total, 0.0)


# --- at scrape time ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ledger_size_and_pending_entries(settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for number in range(3):
            ledger.append(kind="test.ops", actor="eidetic", subject=f"person:ps{number}", body={"n": number})
    settings.LEDGER = {**settings.LEDGER, "SEQUENCE_ON_COMMIT": False}
    for number in range(2):
        ledger.append(kind="test.ops", actor="eidetic", subject="person:waiting", body={"n": number})
    samples = scrape()
    assert samples[("eidetic_ledger_size", ())] == 3
    assert samples[("eidetic_ledger_pending_entries", ())] == 2
    assert samples[("eidetic_webhook_outbox_pending", ())] == 0


@pytest.mark.django_db
def test_heartbeat_age_is_exported():
    assert ("eidetic_worker_heartbeat_age_seconds", ()) not in scrape()
    cache.set(HEARTBEAT_CACHE_KEY, time.time() - 30, timeout=None)
    assert 29 <= scrape()[("eidetic_worker_heartbeat_age_seconds", ())] < 60


@pytest.mark.django_db
def test_a_gauge_that_cannot_be_read_is_left_out_not_failing_the_scrape(monkeypatch):
    from ledger.models import LedgerHead

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(LedgerHead.objects, "filter", broken)
    samples = scrape()
    assert ("eidetic_ledger_size", ()) not in samples
    assert ("eidetic_webhook_outbox_pending", ()) in samples


@pytest.mark.redis
@pytest.mark.django_db
def test_celery_queue_length_is_read_from_redis(settings):
    import redis

    queue = f"ops-test-queue-{uuid.uuid4().hex[:8]}"
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    settings.METRICS = {**settings.METRICS, "QUEUES": [queue]}
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        client.rpush(queue, "a", "b", "c")
        assert scrape()[("eidetic_celery_queue_length", (("queue", queue),))] == 3
    finally:
        client.delete(queue)
        client.close()


# --- several web processes ------------------------------------------------------------------------------

SERVE = """
import django, sys
django.setup()
from django.test import Client
for _ in range(int(sys.argv[1])):
    assert Client().get("/health/live").status_code == 200
"""
SCRAPE = """
import django
django.setup()
from django.test import Client
print(Client().get("/metrics").content.decode())
"""


def run_python(code: str, environ: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_counts_of_several_processes_add_up_in_multiprocess_mode(tmp_path):
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    run_python(SERVE, environ, "3")
    run_python(SERVE, environ, "4")
    assert len(list(tmp_path.glob("*.db"))) >= 2  # one file per process and metric kind
    samples = parse(run_python(SCRAPE, environ))
    assert requests_of(samples, "health-live", "200") == 7


def test_gunicorn_sums_every_worker_including_recycled_ones(tmp_path):
    """The production gunicorn configuration: two workers that are recycled every few
    requests (as ``max_requests`` does in production). Without the shared metrics
    directory each scrape would show one live worker's counts only."""
    import requests

    from bench._harness import Gunicorn, free_port

    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left over from an earlier run")
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    server = Gunicorn(environ, tmp_path / "gunicorn.log", port=free_port(), workers=2)
    server.command += ["--max-requests", "4"]
    server.start()
    try:
        # Paths nothing else asks for (start() polls /health/live, possibly more than once).
        for number in range(20):
            assert requests.get(f"{server.base_url}/no-such-page-{number}", timeout=10).status_code == 404
        samples = parse(requests.get(server.base_url + "/metrics", timeout=10).text)
    finally:
        server.stop()

    assert requests_of(samples, "unmatched", "404") == 20, server.tail()
    assert not (metrics_dir / "counter_999999.db").exists()
