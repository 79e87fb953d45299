"""Prometheus metrics at ``/metrics``.

Counted per request (middleware): requests by view name, method and status, and a latency
histogram by view name. View names, not paths: paths carry UUIDs, and a label per UUID
would grow without bound. Read at scrape time (never per request): the ledger's size and
pending entries, Celery queue lengths in Redis, the webhook outbox and the workers'
heartbeat age.

Under gunicorn, each worker process counts on its own; set ``PROMETHEUS_MULTIPROC_DIR``
to an empty directory (wiped at every start) for all web processes, and each scrape sums
them (prometheus_client's multiprocess mode). Access: loopback callers without a proxy in
between (``METRICS["ALLOW_LOOPBACK"]``), or ``Authorization: Bearer <METRICS_TOKEN>``;
everyone else gets a 404.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger("eidetic.metrics")

REQUESTS = Counter(
    "eidetic_http_requests", "HTTP requests answered, by view name, method and status", ["view", "method", "status"]
)
LATENCY = Histogram(
    "eidetic_http_request_duration_seconds",
    "Time to answer an HTTP request, by view name",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def view_label(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None and match.view_name else "unmatched"


class MetricsMiddleware:
    """Outermost middleware: counts and times every answer, errors included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        view = view_label(request)
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(view, method, str(response.status_code)).inc()
        LATENCY.labels(view).observe(time.perf_counter() - started)
        return response


# --- read at scrape time --------------------------------------------------------------------


class BacklogCollector:
    """Gauges read from the databases and Redis when Prometheus scrapes; each one that cannot
    be read is left out of that scrape (and logged), never failing the others."""

    def collect(self) -> Iterator[Metric]:
        for reader in (self._ledger, self._outbox, self._queues, self._heartbeat):
            try:
                yield from reader()
            except Exception as error:
                logger.warning("metric %s not collected: %s", reader.__name__, type(error).__name__)

    def _ledger(self) -> Iterator[Metric]:
        from config.health import PENDING_COUNT_CAP
        from ledger.models import LedgerHead, PendingEntry

        size = LedgerHead.objects.filter(id=1).values_list("size", flat=True).first() or 0
        yield GaugeMetricFamily("eidetic_ledger_size", "Entries sequenced into the ledger", value=size)
        pending = PendingEntry.objects.values("pk")[:PENDING_COUNT_CAP].count()
        yield GaugeMetricFamily(
            "eidetic_ledger_pending_entries",
            f"Appended entries waiting for the sequencer (counted up to {PENDING_COUNT_CAP})",
            value=pending,
        )

    def _outbox(self) -> Iterator[Metric]:
        from broker.models import WebhookDelivery

        pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).count()
        yield GaugeMetricFamily("eidetic_webhook_outbox_pending", "Webhooks waiting for delivery", value=pending)

    def _queues(self) -> Iterator[Metric]:
        url = getattr(settings, "CELERY_BROKER_URL", "") or ""
        if not url.startswith(("redis://", "rediss://")):
            return  # in-process tasks (local, tests): there is no queue
        import redis

        gauge = GaugeMetricFamily("eidetic_celery_queue_length", "Tasks waiting in a Celery queue", labels=["queue"])
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            for queue in settings.METRICS.get("QUEUES", ["celery"]):
                gauge.add_metric([queue], client.llen(queue))
        finally:
            client.close()
        yield gauge

    def _heartbeat(self) -> Iterator[Metric]:
        from django.core.cache import cache

        from config.health import HEARTBEAT_CACHE_KEY

        beat = cache.get(HEARTBEAT_CACHE_KEY)
        if beat is not None:
            yield GaugeMetricFamily(
                "eidetic_worker_heartbeat_age_seconds",
                "Seconds since a Celery worker last ran the heartbeat task",
                value=max(time.time() - float(beat), 0.0),
            )


class _Forward:
    """Puts the process-wide registry's metrics into a per-scrape registry."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        return self.source.collect()


def scrape_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # sums the counters every web process wrote
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(BacklogCollector())
    return registry


def is_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS.get("TOKEN")
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    if not settings.METRICS.get("ALLOW_LOOPBACK", True) or "HTTP_X_FORWARDED_FOR" in request.META:
        return False  # came through a proxy: the caller is not on this host
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not is_allowed(request):
        raise Http404
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
