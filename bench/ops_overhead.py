"""What rate limiting and metrics cost per request, against the same request without them.

    .venv/bin/python bench/ops_overhead.py [--requests 3000]

In one process (config.settings.test, no database needed), ``--requests`` calls of
``GET /api/v1/scopes`` (a small DRF view, no authentication, so the anonymous per-address
throttle applies) through Django's test client, for each variant in turn:

- baseline: no metrics middleware, no throttle;
- metrics: the Prometheus middleware (a counter and a histogram per request);
- metrics + throttle, locmem: plus the DRF throttle counting in the local-memory cache;
- metrics + throttle, Redis: the same counting in Redis (django-redis, as in production;
  only when REDIS_URL is set), i.e. one ``ADD`` and one ``INCR`` round trip per request.

Rounds interleave the variants (so a change in the machine's load hits all alike); prints
the median wall and CPU microseconds per request and the extra cost against the baseline.
Target: the production variant adds at most 1 ms per request.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

METRICS_MIDDLEWARE = "config.metrics.MetricsMiddleware"
GENEROUS = "100000000/minute"


def variant(*, metrics: bool, throttle: bool, cache: dict | None = None) -> dict:
    middleware = [m for m in settings.MIDDLEWARE if metrics or m != METRICS_MIDDLEWARE]
    rest = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_CLASSES": ["config.ratelimit.ClientRateThrottle"] if throttle else [],
        "DEFAULT_THROTTLE_RATES": {"anon": GENEROUS, "partner": GENEROUS, "person": GENEROUS, "auditor": GENEROUS},
    }
    overrides = {"MIDDLEWARE": middleware, "REST_FRAMEWORK": rest}
    if cache is not None:
        overrides["CACHES"] = cache
    return overrides


def time_batch(client: Client, count: int) -> tuple[float, float]:
    """(wall, CPU) microseconds per request over ``count`` requests."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        client.get("/api/v1/scopes")
    return (time.perf_counter() - wall) / count * 1e6, (time.process_time() - cpu) / count * 1e6


def measure(variants: dict[str, dict], count: int, rounds: int = 7) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) µs per request of each variant; rounds interleave the variants so
    that a change in the machine's load hits all of them alike."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    clients = {}
    for name, overrides in variants.items():
        with override_settings(**overrides):
            clients[name] = Client()
            for _ in range(50):  # warm up: middleware chain, connections
                assert clients[name].get("/api/v1/scopes").status_code == 200
    for _ in range(rounds):
        for name, overrides in variants.items():
            with override_settings(**overrides):
                samples[name].append(time_batch(clients[name], count // rounds))
    return {
        name: (statistics.median(s[0] for s in values), statistics.median(s[1] for s in values))
        for name, values in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    variants = {
        "baseline (no metrics, no throttle)": variant(metrics=False, throttle=False),
        "metrics": variant(metrics=True, throttle=False),
        "metrics + throttle, locmem": variant(metrics=True, throttle=True),
    }
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        cache = {
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": redis_url,
                "KEY_PREFIX": f"bench-ops-{uuid.uuid4().hex[:8]}",
                "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
            }
        }
        variants["metrics + throttle, Redis (production)"] = variant(metrics=True, throttle=True, cache=cache)
    print(f"{platform.node()} {platform.machine()} Python {platform.python_version()}, load {os.getloadavg()}")
    print(f"{args.requests} requests of GET /api/v1/scopes per variant, 7 interleaved rounds, medians")
    results = measure(variants, args.requests)
    base_wall, base_cpu = next(iter(results.values()))
    print(f"{'variant':42s} {'wall µs':>8s} {'extra':>7s} {'CPU µs':>8s} {'extra':>7s}  ratio (CPU)")
    for name, (wall, cpu) in results.items():
        extra_wall, extra_cpu = wall - base_wall, cpu - base_cpu
        print(f"{name:42s} {wall:8.0f} {extra_wall:+7.0f} {cpu:8.0f} {extra_cpu:+7.0f}  {cpu / base_cpu:.2f}x")
    if redis_url:
        from django.core.cache import caches

        with override_settings(CACHES=variants["metrics + throttle, Redis (production)"]["CACHES"]):
            caches["default"].delete_pattern("*")  # only this run's keys


if __name__ == "__main__":
    main()
