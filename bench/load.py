"""Mixed load on the whole stack, loopback only: gunicorn (scripts/gunicorn.conf.py) +
PostgreSQL + a private Redis + a Celery worker + Celery beat.

    .venv/bin/python bench/load.py [--people 8] [--moments 200] [--clients 8] [--seconds 30] [--web 4]

Setup: fresh databases ``eidetic_load_bench`` and ``eidetic_load_bench_keys`` on the
PostgreSQL of BENCH_ADMIN_URL (default postgres://eidetic:eidetic@127.0.0.1:5432/postgres),
migrated; a Redis of its own on a free port; ``--people`` people with sealed moments, each
with a priced consent granted through the real OAuth flow (tests/resilience/world.py).

Then ``--clients`` client threads (each one person and her partner's token) run for
``--seconds`` a mix of:

- partner read (60%): ``GET /api/v1/data/moments?limit=50`` with the bearer token (consent
  checks, 50 records opened, access log row and a ledger entry per call);
- ledger proof (20%): ``GET /api/v1/ledger/proof/inclusion`` of a random entry;
- consent change (10%): she pauses, then resumes, her consent through the person API;
- import (10%): she uploads a small Eidetic JSON file (3 moments) from the portal; the
  worker imports it.

Baseline measured in the same run: the same clients calling ``/health/live`` (the stack
with no application work). Reports throughput, p50/p99 per kind, errors (5xx, refused
connections, timeouts, unexpected 4xx), import jobs finished and the ledger verification.
Target: zero errors and p99 <= 100 ms at 8 concurrent clients. Tests never assert times.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._harness import (  # noqa: E402
    CeleryWorker,
    CpuMeter,
    Gunicorn,
    Process,
    app_environment,
    backend_pids,
    build_world,
    free_port,
    machine_ticks,
    parents_of,
    portal_login,
    process_group,
    recreate_databases,
    steal_share,
    summary,
)

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgres://eidetic:eidetic@127.0.0.1:5432/postgres")
DATABASE = "eidetic_load_bench"
MIX = (("partner read", 60), ("ledger proof", 20), ("consent change", 10), ("import", 10))
EXPECTED = {"partner read": {200}, "ledger proof": {200}, "consent change": {200}, "import": {201}}

LEDGER_REPORT = """
import json, django
django.setup()
from ledger import selectors, services
from ledger.models import PendingEntry
from vault.models import ImportJob
services.sequence_pending()
report = selectors.verify_database(check_anchors=False)
jobs = dict.fromkeys(ImportJob.Status.values, 0)
for status in ImportJob.objects.values_list("status", flat=True):
    jobs[status] += 1
print(json.dumps({"ok": report.ok, "size": report.size, "pending": PendingEntry.objects.count(), "jobs": jobs}))
"""


def database_url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def moments_file() -> bytes:
    """A small Eidetic import, new each time (fresh labels, so nothing is a duplicate)."""
    tag = uuid.uuid4().hex[:8]
    moments = [
        {
            "occurred_at": f"2026-03-{day:02d}T12:00:00Z",
            "kind": "place",
            "label": f"load {tag} {day}",
            "sentiment": "likes",
            "tags": ["load"],
        }
        for day in (1, 2, 3)
    ]
    return json.dumps({"format": "eidetic-import/1", "moments": moments}).encode()


class Client:
    """One person and her partner: the session of each, and what they measured."""

    def __init__(self, base_url: str, person: dict, ledger_size: int) -> None:
        import requests

        self.base = base_url
        self.person = person
        self.ledger_size = ledger_size
        self.partner = requests.Session()
        self.partner.headers["Authorization"] = f"Bearer {person['token']}"
        self.her = requests.Session()
        portal_login(self.her, base_url, person["username"], person["password"])
        self.auditor = requests.Session()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def timed(self, kind: str, call) -> None:
        import requests

        started = time.perf_counter()
        try:
            response = call()
        except requests.RequestException as error:
            self.latencies[kind].append(time.perf_counter() - started)
            self.errors[kind].append(type(error).__name__)
            return
        self.latencies[kind].append(time.perf_counter() - started)
        if response.status_code not in EXPECTED.get(kind, {200}):
            self.errors[kind].append(f"HTTP {response.status_code} {response.text[:120]}")

    def run(self, kind: str) -> None:
        if kind == "partner read":
            self.timed(kind, lambda: self.partner.get(f"{self.base}/api/v1/data/moments?limit=50", timeout=30))
        elif kind == "ledger proof":
            index = random.randrange(self.ledger_size)
            url = f"{self.base}/api/v1/ledger/proof/inclusion?index={index}&size={self.ledger_size}"
            self.timed(kind, lambda: self.auditor.get(url, timeout=30))
        elif kind == "consent change":
            for action in ("pause", "resume"):
                url = f"{self.base}/api/v1/me/consents/{self.person['consent']}/{action}"
                self.timed(kind, lambda url=url: self.her.post(url, timeout=30))
        elif kind == "import":
            upload = {"file": ("moments.json", io.BytesIO(moments_file()), "application/json")}
            self.timed(
                kind,
                lambda: self.her.post(
                    f"{self.base}/upload/",
                    files=upload,
                    headers={"Accept": "application/json", "Referer": f"{self.base}/upload/"},
                    timeout=30,
                ),
            )
        elif kind == "baseline":
            self.timed(kind, lambda: self.partner.get(f"{self.base}/health/live", timeout=30))


def drive(clients: list[Client], seconds: float, kinds: list[str], weights: list[int]) -> float:
    stop_at = time.perf_counter() + seconds

    def loop(client: Client) -> None:
        chooser = random.Random()
        while time.perf_counter() < stop_at:
            client.run(chooser.choices(kinds, weights)[0])

    threads = [threading.Thread(target=loop, args=(client,)) for client in clients]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def gather(clients: list[Client]) -> tuple[dict[str, list[float]], dict[str, list[str]]]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    for client in clients:
        for kind, values in client.latencies.items():
            latencies[kind].extend(values)
            client.latencies[kind] = []
        for kind, values in client.errors.items():
            errors[kind].extend(values)
            client.errors[kind] = []
    return latencies, errors


def bench_backends() -> list[int]:
    return backend_pids(ADMIN_URL, [DATABASE, DATABASE + "_keys"])


def ledger_size(base_url: str) -> int:
    import requests

    for _ in range(60):
        answer = requests.get(f"{base_url}/api/v1/ledger/checkpoint", timeout=10)
        if answer.status_code == 200:
            return int(answer.text.splitlines()[1])
        time.sleep(1)  # beat signs the first checkpoint within 10 s
    raise SystemExit("no ledger checkpoint was signed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=8)
    parser.add_argument("--moments", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--web", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--celery", type=int, default=1, help="Celery worker processes")
    args = parser.parse_args()
    if args.clients > args.people:
        raise SystemExit("one person per client: --people must be at least --clients")

    scratch = Path(tempfile.mkdtemp(prefix="eidetic-load-"))
    redis_port = free_port()
    redis = Process(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--dir", str(scratch)],
        dict(os.environ),
        scratch / "redis.log",
    )
    redis.start()
    environ = app_environment(
        database_url=database_url(DATABASE),
        keys_database_url=database_url(DATABASE + "_keys"),
        redis_url=f"redis://127.0.0.1:{redis_port}/0",
        key_dir=scratch / "keys",
        RESILIENCE_VISIBILITY_TIMEOUT="3600",
    )
    processes: list[Process] = [redis]
    try:
        recreate_databases(ADMIN_URL, [DATABASE, DATABASE + "_keys"])
        print(f"building the world: {args.people} people x {args.moments} moments, consents via OAuth ...")
        world = build_world(environ, people=args.people, moments=args.moments)
        worker = CeleryWorker(environ, scratch / "worker.log", concurrency=args.celery)
        beat_command = [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "WARNING"]
        beat = Process([*beat_command, "--schedule", str(scratch / "beat-schedule")], environ, scratch / "beat.log")
        access_log = scratch / "access.log"
        web = Gunicorn(environ, scratch / "gunicorn.log", port=free_port(), workers=args.web, access_log=access_log)
        for process in (worker, beat, web):
            process.start()
            processes.append(process)
        size = ledger_size(web.base_url)
        clients = [Client(web.base_url, person, size) for person in world["people"][: args.clients]]

        drive(clients, 3, ["baseline"], [1])  # warm-up of every gunicorn worker
        drive(clients, 3, [kind for kind, _ in MIX], [weight for _, weight in MIX])
        gather(clients)
        meter = CpuMeter(
            {
                "gunicorn": lambda: process_group(web.process.pid),
                "celery worker": lambda: process_group(worker.process.pid),
                "postgres": bench_backends,
                "clients": lambda: [os.getpid()],  # reported apart: they are the load, not the stack
            },
            reapers={
                "gunicorn": lambda: [web.process.pid],  # the arbiter reaps recycled workers
                "celery worker": lambda: [worker.process.pid],
                "postgres": lambda: parents_of(bench_backends()),  # the postmaster
            },
        )
        started = meter.sample()
        baseline_seconds = drive(clients, min(args.seconds, 10), ["baseline"], [1])
        after_baseline = meter.sample()
        baseline_cpu = CpuMeter.used(started, after_baseline)
        baseline, baseline_errors = gather(clients)
        mixed_from, ticks_before = access_log.stat().st_size, machine_ticks()
        mixed_seconds = drive(clients, args.seconds, [kind for kind, _ in MIX], [weight for _, weight in MIX])
        mixed_cpu = CpuMeter.used(after_baseline, meter.sample())
        in_worker, stolen = worker_times(access_log, mixed_from), steal_share(ticks_before, machine_ticks())
        mixed, mixed_errors = gather(clients)
        time.sleep(5)  # let the worker finish the last imports and beat sequence the ledger
        ledger = json.loads(
            subprocess.run(
                [sys.executable, "-c", LEDGER_REPORT], env=environ, capture_output=True, text=True, check=True
            ).stdout.splitlines()[-1]
        )
    finally:
        for process in reversed(processes):
            process.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    report(args, baseline, baseline_errors, baseline_seconds, mixed, mixed_errors, mixed_seconds, ledger)
    report_worker_times(in_worker, mixed)
    print(f"CPU time taken by the hypervisor (steal) during the mixed phase: {stolen:.0%} of the machine's")
    report_cpu(baseline_cpu, len(baseline["baseline"]), mixed_cpu, sum(len(values) for values in mixed.values()))


KIND_OF_PATH = (
    ("/api/v1/data/", "partner read"),
    ("/api/v1/ledger/proof/", "ledger proof"),
    ("/api/v1/me/consents/", "consent change"),
    ("/upload/", "import"),
)


def worker_times(access_log: Path, offset: int) -> dict[str, list[float]]:
    """Per kind, the time each request of the mixed phase spent inside a gunicorn worker
    (the access log's duration: from the worker reading the request to its last byte sent)."""
    times: dict[str, list[float]] = defaultdict(list)
    with access_log.open("rb") as log:
        log.seek(offset)
        for line in log:
            record = json.loads(line)
            kind = next((kind for prefix, kind in KIND_OF_PATH if record["path"].startswith(prefix)), None)
            if kind is not None:
                times[kind].append(record["duration_ms"] / 1000)
    return times


def report_worker_times(in_worker: dict[str, list[float]], client_side: dict[str, list[float]]) -> None:
    """Time inside a worker against what the client waited: the difference is queueing
    before a worker took the request, and the trip through the loopback."""
    print("inside a gunicorn worker vs at the client (the difference waited for a worker or a CPU):")
    for kind, _ in MIX:
        inside, outside = summary(sorted(in_worker.get(kind, []))), summary(sorted(client_side.get(kind, [])))
        print(
            f"  {kind:16s} worker p50 {inside['p50_ms']:6.1f} ms  p99 {inside['p99_ms']:6.1f} ms  |  "
            f"client p50 {outside['p50_ms']:6.1f} ms  p99 {outside['p99_ms']:6.1f} ms"
        )


def report_cpu(baseline_cpu: dict[str, float], baseline_count: int, mixed_cpu: dict[str, float], count: int) -> None:
    """CPU per request: what the stack costs, whatever else the shared machine runs."""
    cores = os.cpu_count() or 1
    for label, used, requests in (("baseline", baseline_cpu, baseline_count), ("mixed", mixed_cpu, count)):
        per_request = {name: seconds * 1000 / max(requests, 1) for name, seconds in used.items()}
        clients = per_request.pop("clients", 0.0)
        total = sum(per_request.values())
        parts = ", ".join(f"{name} {value:.1f}" for name, value in per_request.items())
        print(
            f"CPU per {label} request: {total:.1f} ms ({parts}); "
            f"so {cores} idle cores would serve at most ~{cores * 1000 / total:.0f} req/s; "
            f"plus {clients:.1f} ms in this script's client threads (one process: they share one core)"
        )


def report(args, baseline, baseline_errors, baseline_seconds, mixed, mixed_errors, mixed_seconds, ledger) -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL")
    print(
        f"setup: {args.people} people x {args.moments} moments, gunicorn {args.web} sync workers, "
        f"{args.celery} Celery worker process(es) + beat, {args.clients} client threads, {args.seconds:.0f} s mixed"
    )
    base = summary(baseline["baseline"])
    print(
        f"baseline /health/live: {base['count'] / baseline_seconds:7.1f} req/s  p50 {base['p50_ms']:6.1f} ms  "
        f"p99 {base['p99_ms']:6.1f} ms  errors {len(baseline_errors['baseline'])}"
    )
    total = sum(len(values) for values in mixed.values())
    errors = sum(len(values) for values in mixed_errors.values())
    print(f"mixed: {total / mixed_seconds:7.1f} req/s over {total:,} requests, errors {errors}")
    worst_p99 = 0.0
    for kind, _ in MIX:
        figures = summary(mixed[kind])
        worst_p99 = max(worst_p99, figures["p99_ms"])
        print(
            f"  {kind:15} {figures['count']:6,} requests  p50 {figures['p50_ms']:6.1f} ms  "
            f"p99 {figures['p99_ms']:6.1f} ms  errors {len(mixed_errors[kind])}"
        )
        for sample in sorted(set(mixed_errors[kind]))[:3]:
            print(f"      e.g. {sample}")
    all_mixed = summary([value for values in mixed.values() for value in values])
    print(f"  {'all':15} p50 {all_mixed['p50_ms']:6.1f} ms  p99 {all_mixed['p99_ms']:6.1f} ms")
    print(f"ratio mixed p99 / baseline p99: {all_mixed['p99_ms'] / base['p99_ms']:.1f}")
    print(f"import jobs: {ledger['jobs']}")
    print(f"ledger: {ledger['size']:,} entries, {ledger['pending']} pending, verifies: {ledger['ok']}")
    print(f"errors: {errors}   (target 0: {'met' if errors == 0 else 'NOT met'})")
    print(f"worst p99 of a kind: {worst_p99:.1f} ms   (target <= 100 ms: {'met' if worst_p99 <= 100 else 'NOT met'})")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
