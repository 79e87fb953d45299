"""Liveness and readiness probes for load balancers, orchestrators and ``scripts/stack``.

``/health/live`` answers as long as the process serves requests: restart it when this fails.
``/health/ready`` checks every dependency a request may need and answers 503 when one is
down: take the process out of rotation, but do not restart it (it recovers by itself).

A check is a function returning :class:`CheckResult`; ``settings.HEALTH_CHECKS`` (name ->
import string) replaces the default list. Answers carry no hostnames, URLs, credentials or
personal data: only each check's status, latency, when down the exception's class, and
for some checks a few counts and ages (``detail``).

Checks named in ``settings.HEALTH["ADVISORY"]`` (by default the worker heartbeat, the
ledger sequencer and anchoring) report "down" without failing readiness: the answer is
200 with status "degraded". A dead worker or a slow chain must page someone, but taking
every web process out of rotation for it would turn a backlog into an outage.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

# Seconds before a dependency that does not answer counts as down.
REDIS_TIMEOUT_SECONDS = 1.0


# Where the Celery workers' heartbeat (a Unix time) is kept, in the shared cache.
HEARTBEAT_CACHE_KEY = "eidetic:worker-heartbeat"


@dataclass(frozen=True)
class CheckResult:
    status: str  # "ok", "down" or "not_configured"
    latency_ms: float
    error: str = ""
    # Counts and ages only (never names, hosts or personal data); left out when empty.
    detail: dict = field(default_factory=dict)

    @property
    def is_down(self) -> bool:
        return self.status == "down"

    def as_dict(self) -> dict:
        body = asdict(self)
        if not self.detail:
            del body["detail"]
        return body


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


# --- checks with a threshold: they report counts and ages, and fail when a limit passes ----


def _measured(probe: Callable[[], tuple[str, dict]]) -> CheckResult:
    """Run a probe returning (error name or "", detail); an exception counts as down."""
    started = time.perf_counter()
    try:
        error, detail = probe()
    except Exception as exc:
        return CheckResult("down", _elapsed_ms(started), type(exc).__name__)
    return CheckResult("down" if error else "ok", _elapsed_ms(started), error, detail)


def _limit(name: str) -> int:
    return int(settings.HEALTH[name])


def worker_heartbeat() -> CheckResult:
    """Celery workers consume tasks: the heartbeat task (beat, every few seconds) ran lately.

    ``not_configured`` where tasks run in-process (CELERY_TASK_ALWAYS_EAGER: local, tests).
    """
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return CheckResult("not_configured", 0.0)

    def probe() -> tuple[str, dict]:
        beat = cache.get(HEARTBEAT_CACHE_KEY)
        if beat is None:
            return "NoHeartbeat", {"max_age_s": _limit("WORKER_HEARTBEAT_MAX_AGE")}
        age = round(max(time.time() - float(beat), 0.0), 1)
        detail = {"age_s": age, "max_age_s": _limit("WORKER_HEARTBEAT_MAX_AGE")}
        return ("StaleHeartbeat" if age > _limit("WORKER_HEARTBEAT_MAX_AGE") else ""), detail

    return _measured(probe)


# Counting a stuck backlog stops here, so the probe stays fast however large it grows.
PENDING_COUNT_CAP = 10_000


def ledger_sequencer() -> CheckResult:
    """The ledger head moves: no appended entry waits longer than LEDGER_PENDING_MAX_AGE."""
    from ledger.models import LedgerHead, PendingEntry

    def probe() -> tuple[str, dict]:
        head_size = LedgerHead.objects.filter(id=1).values_list("size", flat=True).first() or 0
        oldest = PendingEntry.objects.order_by("created_at").values_list("created_at", flat=True).first()
        age = round(max((timezone.now() - oldest).total_seconds(), 0.0), 1) if oldest else 0.0
        detail = {
            "head_size": head_size,
            "pending": PendingEntry.objects.values("pk")[:PENDING_COUNT_CAP].count(),
            "oldest_pending_age_s": age,
        }
        return ("SequencerStuck" if age > _limit("LEDGER_PENDING_MAX_AGE") else ""), detail

    return _measured(probe)


def ledger_anchor() -> CheckResult:
    """Checkpoints reach the chain: none waits unanchored longer than ANCHOR_MAX_LAG.

    Measured from the first checkpoint signed after the newest anchored one, not from the
    last anchor itself: an idle ledger signs nothing new and so has nothing to anchor.
    """
    from django.db.models import Max

    from ledger.models import Anchor, Checkpoint

    def probe() -> tuple[str, dict]:
        now = timezone.now()
        newest = Anchor.objects.aggregate(size=Max("checkpoint__size"), at=Max("created_at"))
        anchored_size = newest["size"] or 0
        waiting = Checkpoint.objects.filter(size__gt=anchored_size).order_by("size")
        first_waiting = waiting.values_list("created_at", flat=True).first()
        lag = round((now - first_waiting).total_seconds(), 1) if first_waiting else 0.0
        detail = {
            "anchored_size": anchored_size,
            "unanchored_checkpoints": waiting.count(),
            "unanchored_for_s": lag,
            "last_anchor_age_s": round((now - newest["at"]).total_seconds(), 1) if newest["at"] else None,
        }
        return ("AnchorLagging" if lag > _limit("ANCHOR_MAX_LAG") else ""), detail

    return _measured(probe)


DEFAULT_CHECKS = {
    "database": "config.health.database",
    "keys_database": "config.health.keys_database",
    "redis": "config.health.redis_server",
}


def run_checks() -> dict[str, CheckResult]:
    checks = getattr(settings, "HEALTH_CHECKS", DEFAULT_CHECKS)
    return {name: import_string(path)() for name, path in checks.items()}


def overall_status(results: dict[str, CheckResult]) -> str:
    """ "unavailable" when a check that serving needs is down, "degraded" when only advisory ones are."""
    advisory = set(getattr(settings, "HEALTH", {}).get("ADVISORY", ()))
    down = {name for name, result in results.items() if result.is_down}
    if down - advisory:
        return "unavailable"
    return "degraded" if down else "ok"


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    results = run_checks()
    status = overall_status(results)
    body = {"status": status, "checks": {name: result.as_dict() for name, result in results.items()}}
    return JsonResponse(body, status=503 if status == "unavailable" else 200)
