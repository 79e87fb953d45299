"""Partner API read throughput: consented endpoint vs a plain DRF endpoint, same rows.

    .venv/bin/python bench/api_read.py [--moments 20000] [--clients 8] [--seconds 20] [--workers 4]

Setup (fresh PostgreSQL database ``eidetic_broker_bench``, see bench/api_settings.py): one
person with N sealed moments, a partner, an active priced (per access) consent obtained
through the real OAuth flow (consent screen approval, PKCE code exchange), and the same
moments in clear in a side table.

Then gunicorn (sync workers) serves bench.api_urls, and in turn for each endpoint
``--clients`` concurrent client threads walk pages of 100 moments for ``--seconds``:

- consented: ``GET /api/v1/data/moments?limit=100`` with the bearer token: token lookup,
  consent state/scope/range/frequency checks, privacy filter, opening 100 sealed records,
  pairwise ids, access log row and a ``value.transferred`` ledger entry per call;
- plain (the baseline): ``GET /bench/plain/moments``: the same rows unencrypted, no checks,
  served the way DRF is normally written (ListAPIView, ModelSerializer, CursorPagination);
- floor (reference): ``GET /bench/floor/moments``: the same rows by one raw SQL query.

Prints requests/s, p50/p99 latency and the ratio consented/plain (target: >= 60% of the
plain throughput, p99 <= 50 ms). Tests never assert times; this script only reports.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.api_settings"
PORT = 8799
BASE = datetime(2026, 1, 1, tzinfo=UTC)


def admin_url() -> str:
    """The bench database server, as bench._harness takes it."""
    from urllib.parse import quote

    from django.conf import settings

    db = settings.DATABASES["default"]
    user, password = quote(db["USER"], safe=""), quote(db["PASSWORD"], safe="")
    return f"postgres://{user}:{password}@{db['HOST']}:{db['PORT'] or 5432}/postgres"


def bench_databases() -> list[str]:
    from django.conf import settings

    return [settings.DATABASES[alias]["NAME"] for alias in ("default", "keys")]


def populate(moment_count: int) -> tuple[str, str]:
    """Returns (bearer token, consent uid). Runs in this process, before gunicorn starts."""
    import json
    import shutil

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    shutil.rmtree(settings.DATA_DIR, ignore_errors=True)
    settings.DATA_DIR.mkdir(parents=True)
    call_command("migrate", verbosity=0)
    call_command("migrate", database="keys", verbosity=0)

    from bench.api_urls import PLAIN_TABLE
    from broker import services
    from broker.models import Consent
    from tests.broker.conftest import REDIRECT_URI, PartnerWorld, approve, exchange
    from tests.broker.vaultdata import add_moments
    from tests.factories import PersonFactory
    from vault.keys import keys_for

    person = PersonFactory(username="bench-person")
    place = {"name": "Café", "lat": 48.85, "lon": 2.35}
    for start in range(0, moment_count, 2000):
        add_moments(person, BASE + timedelta(hours=start), min(2000, moment_count - start), place=place)
    keys = keys_for(person)
    from vault.models import Moment

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {PLAIN_TABLE} (id uuid PRIMARY KEY, occurred_at timestamptz, kind text, label text,"
            " tags jsonb, sentiment text, place jsonb, hr integer)"
        )
        cursor.execute(f"CREATE INDEX ON {PLAIN_TABLE} (occurred_at, id)")
        rows = []
        for moment in Moment.objects.filter(owner=person).iterator():
            opened = moment.open(keys)
            rows.append(
                (
                    str(moment.id),
                    moment.occurred_at,
                    opened["kind"],
                    opened["label"],
                    json.dumps(opened["tags"]),
                    opened["sentiment"],
                    json.dumps(opened["place"]) if opened.get("place") else None,
                    opened.get("hr"),
                )
            )
        cursor.executemany(f"INSERT INTO {PLAIN_TABLE} VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)  # noqa: S608

    partner, application, secret = services.partner_create(name="Bench Chairs", redirect_uri=REDIRECT_URI)
    world = PartnerWorld(partner, application, secret)
    now = datetime.now(UTC)
    consent = services.consent_request(
        partner=partner,
        application=application,
        scopes=["lifelog.moments:read", "lifelog.location:coarse"],
        purpose_code="ServicePersonalisation",
        purpose_text="Benchmark",
        data_from=BASE,
        data_to=BASE + timedelta(days=3650),
        frequency_value=10_000_000,
        frequency_unit=Consent.FrequencyUnit.DAY,
        data_life_value=1,
        data_life_unit=Consent.DataLifeUnit.DAY,
        valid_from=now - timedelta(minutes=1),
        expires_at=now + timedelta(days=1),
        price_amount=Decimal("0.01"),
        price_basis=Consent.PriceBasis.PER_ACCESS,
    )
    # The real flow, in process: consent screen approval and PKCE code exchange (the
    # test environment lets the helper read the rendered form's context).
    from django.test.utils import setup_test_environment

    setup_test_environment()
    code, verifier = approve(person, world, consent)
    token = exchange(world, code, verifier).json()["access_token"]
    return token, str(consent.uid)


def start_gunicorn(workers: int, threads: int = 1) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.api_settings", "PYTHONPATH": str(ROOT)}
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{PORT}",
        "--workers",
        str(workers),
        "--threads",  # more than 1: gunicorn's gthread worker, with keep-alive
        str(threads),
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # own group: CPU metering
    import requests

    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{PORT}/api/v1/scopes", timeout=1)
            return server
        except requests.RequestException:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def _next_page(style: str, body: dict) -> dict | str | None:
    """Where a client goes after a page: query params (consented, floor) or a full URL
    (the plain endpoint's DRF cursor pagination gives ``next`` as a link); None restarts."""
    if style == "consented":
        return {"limit": 100, "cursor": body["next_cursor"]} if body["next_cursor"] else None
    if style == "floor":
        return {"after": body["next_cursor"]} if body["next_cursor"] else None
    return body["next"]


def load(path: str, headers: dict[str, str], clients: int, seconds: float, style: str) -> dict:
    """Each client walks pages (following the cursor, restarting at the end)."""
    import requests

    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds
    first_page = {"limit": 100} if style == "consented" else {}

    def client() -> None:
        session = requests.Session()
        following: dict | str | None = None
        mine, bad = [], []
        while time.perf_counter() < stop_at:
            if isinstance(following, str):
                url, params = following, None
            else:
                url, params = f"http://127.0.0.1:{PORT}{path}", following or first_page
            started = time.perf_counter()
            response = session.get(url, params=params, headers=headers, timeout=30)
            mine.append(time.perf_counter() - started)
            if response.status_code != 200:
                if not bad:
                    print(f"first non-200 on {path}: {response.status_code} {response.text[:300]}")
                bad.append(response.status_code)
                following = None
                continue
            following = _next_page(style, response.json())
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def measure(server, path: str, headers: dict[str, str], clients: int, seconds: float, style: str) -> dict:
    """One endpoint's load, with the CPU time each side spent on it (ms per request)."""
    from bench._harness import CpuMeter, backend_pids, machine_ticks, parents_of, process_group, steal_share

    url, names = admin_url(), bench_databases()
    meter = CpuMeter(
        {
            "gunicorn": lambda: process_group(server.pid),
            "postgres": lambda: backend_pids(url, names),
            "clients": lambda: [os.getpid()],
        },
        reapers={"gunicorn": lambda: [server.pid], "postgres": lambda: parents_of(backend_pids(url, names))},
    )
    before, ticks = meter.sample(), machine_ticks()
    figures = load(path, headers, clients, seconds, style)
    used = CpuMeter.used(before, meter.sample())
    figures["steal"] = steal_share(ticks, machine_ticks())
    figures["cpu"] = {name: value * 1000 / max(figures["requests"], 1) for name, value in used.items()}
    return figures


def endpoints(bearer: dict[str, str]) -> list[tuple[str, dict[str, str], str]]:
    return [
        ("/api/v1/data/moments", bearer, "consented"),
        ("/bench/plain/moments", {}, "plain"),
        ("/bench/floor/moments", {}, "floor"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moments", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="per worker; more than 1 runs gthread workers")
    args = parser.parse_args()

    import django

    django.setup()
    from bench._harness import recreate_databases

    recreate_databases(admin_url(), bench_databases())
    token, consent_id = populate(args.moments)
    server = start_gunicorn(args.workers, args.threads)
    try:
        bearer = {"Authorization": f"Bearer {token}"}
        for path, headers, style in endpoints(bearer):  # warm up every worker on each
            load(path, headers, 2, 2, style)
        figures = {
            style: measure(server, path, headers, args.clients, args.seconds, style)
            for path, headers, style in endpoints(bearer)
        }
    finally:
        server.terminate()
        server.wait()
    report(args, figures, consent_id)


def report(args, figures: dict[str, dict], consent_id: str) -> None:
    from broker.models import AccessLogEntry

    logged = AccessLogEntry.objects.filter(consent__uid=consent_id).count()
    load_average = os.getloadavg()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL")
    print(
        f"setup: {args.moments:,} sealed moments, gunicorn {args.workers} "
        + (f"gthread workers x {args.threads} threads, " if args.threads > 1 else "sync workers, ")
        + f"{args.clients} client threads, {args.seconds:.0f} s per endpoint, pages of 100"
    )
    labels = {
        "consented": "consented (all checks)",
        "plain": "plain DRF (baseline)  ",
        "floor": "raw SQL floor         ",
    }
    for style, label in labels.items():
        row = figures[style]
        print(
            f"{label} {row['rps']:7.1f} req/s ({row['rps'] * 100:8,.0f} records/s)  "
            f"p50 {row['p50']:6.1f} ms  p99 {row['p99']:6.1f} ms  requests {row['requests']:,}  non-200 {row['errors']}"
        )
    print("CPU per request (ms, from /proc: gunicorn workers, PostgreSQL backends, the client threads):")
    for style, label in labels.items():
        cpu = figures[style]["cpu"]
        parts = "  ".join(f"{name} {value:5.2f}" for name, value in cpu.items())
        print(f"  {label} {parts}  total {sum(cpu.values()):5.2f}  (hypervisor steal {figures[style]['steal']:.0%})")
    consented, plain, floor = figures["consented"], figures["plain"], figures["floor"]
    ratio = consented["rps"] / plain["rps"]
    ratio_verdict = "met" if ratio >= 0.6 else "NOT met"
    p99_verdict = "met" if consented["p99"] <= 50 else "NOT met"
    print(f"ratio consented / plain DRF throughput: {ratio:.2f}   (target >= 0.60: {ratio_verdict})")
    print(f"ratio consented / raw SQL floor throughput: {consented['rps'] / floor['rps']:.2f}   (reference only)")
    print(f"consented p99 {consented['p99']:.1f} ms   (target <= 50 ms: {p99_verdict})")
    print(f"access log rows written by the consented run (warm-up included): {logged:,}")
    print(f"load average at the end: {load_average:.2f}")


if __name__ == "__main__":
    main()
