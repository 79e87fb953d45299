"""Liveness and readiness probes for load balancers, orchestrators and ``scripts/stack``.

``/health/live`` answers as long as the process serves requests: restart it when this fails.
``/health/ready`` checks every dependency a request may need and answers 503 when one is
down: take the process out of rotation, but do not restart it (it recovers by itself).

A check is a function returning :class:`CheckResult`; ``settings.HEALTH_CHECKS`` (name ->
import string) replaces the default list, so later apps can add worker heartbeat, ledger
head or last anchor without touching this module. Answers carry no hostnames, URLs or
credentials: only each check's status, latency and, when down, the exception's class.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import redis
from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

# Seconds before a dependency that does not answer counts as down.
REDIS_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class CheckResult:
    status: str  # "ok", "down" or "not_configured"
    latency_ms: float
    error: str = ""

    @property
    def is_down(self) -> bool:
        return self.status == "down"


def _timed(probe: Callable[[], None]) -> CheckResult:
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:  # any failure means "down"; only its class is reported
        return CheckResult("down", _elapsed_ms(started), type(exc).__name__)
    return CheckResult("ok", _elapsed_ms(started))


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _ping_database(alias: str) -> None:
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        # Drop the broken connection so the next probe (or request) reconnects.
        connection.close()
        raise


def database() -> CheckResult:
    """The data database (``default``)."""
    return _timed(lambda: _ping_database("default"))


def keys_database() -> CheckResult:
    """The database holding wrapped data keys (``keys``): without it nothing sealed opens."""
    return _timed(lambda: _ping_database("keys"))


def redis_server() -> CheckResult:
    """Redis (Celery broker and cache), when ``settings.REDIS_URL`` is set."""
    url = getattr(settings, "REDIS_URL", None)
    if not url:
        return CheckResult("not_configured", 0.0)

    def ping() -> None:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
        )
        try:
            client.ping()
        finally:
            client.close()

    return _timed(ping)


DEFAULT_CHECKS = {
    "database": "config.health.database",
    "keys_database": "config.health.keys_database",
    "redis": "config.health.redis_server",
}


def run_checks() -> dict[str, CheckResult]:
    checks = getattr(settings, "HEALTH_CHECKS", DEFAULT_CHECKS)
    return {name: import_string(path)() for name, path in checks.items()}


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    results = run_checks()
    down = any(result.is_down for result in results.values())
    body = {
        "status": "unavailable" if down else "ok",
        "checks": {name: asdict(result) for name, result in results.items()},
    }
    return JsonResponse(body, status=503 if down else 200)
