"""Appends per second with 8 concurrent writers, on SQLite or PostgreSQL.

    BENCH_DB=postgres .venv/bin/python bench/ledger_append.py [--entries 20000] [--writers 8]
    BENCH_DB=sqlite   .venv/bin/python bench/ledger_append.py

Each writer process appends its share, one entry per transaction (as a consent change
does; ``--per-transaction 0``: each append is its own durable commit, with no caller
transaction around it), through ``ledger.services.append``. Two sequencing modes are timed:

- ``worker``: writers only insert pending entries; one sequencer process (standing in for
  the Celery worker) batches them into the log every ``--sequencer-period`` seconds, by
  default beat's period for ``ledger.tasks.sequence_pending`` (1 s). Production's
  arrangement. ``--sequencer-period 0`` runs it back to back instead (small batches, each
  with its own transaction and fsync: more CPU per entry, taken from the writers).
- ``on-commit``: each writer runs the sequencer right after its own commit (eager Celery,
  the local default), so writers contend for the head lock.

Baseline in the same run: the same 8 writers inserting the same pending rows with no
sequencing at all, through the ORM (what a single-row transaction of any Django code
costs on this machine). Throughput counts an entry when it is sequenced (has its seq,
bytes and tree nodes). The database is emptied between runs.

Each line also splits the CPU time per entry between the writers, the sequencer and the
database server's processes (when it runs on this machine): on 2 cores the rate is
bound by CPU, so that split says where a faster rate would have to come from.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.ledger_settings"

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402

from bench._harness import cpu_seconds, machine_ticks, pids_named, reaped_cpu_seconds, steal_share  # noqa: E402
from ledger import selectors, services, triggers  # noqa: E402
from ledger.models import Checkpoint, Entry, LedgerHead, PendingEntry, TreeNode  # noqa: E402

# CPU seconds each kind of process used in the current run, added up as each one ends.
CPU_USED = {role: multiprocessing.get_context("fork").Value("d", 0.0) for role in ("writers", "sequencer")}

BODY = {"consent": "c0" * 16, "purpose": "research", "scopes_hash": "ab" * 32, "count": 1}


def _reset() -> None:
    with transaction.atomic():
        triggers.remove(connection)
        for model in (Entry, TreeNode, PendingEntry, Checkpoint):
            model.objects.all().delete()
        LedgerHead.objects.update_or_create(id=1, defaults={"size": 0, "last_leaf_hash": "0" * 64, "frontier": b""})
        triggers.install(connection)


def _writer(count: int, mode: str, per_transaction: int, start_gate) -> None:
    connections.close_all()
    settings.LEDGER["SEQUENCE_ON_COMMIT"] = mode == "on-commit"
    start_gate.wait(timeout=120)
    for first in range(0, count, per_transaction or 1):
        # per_transaction 0: no caller transaction, each append is its own durable commit.
        with transaction.atomic() if per_transaction else contextlib.nullcontext():
            for position in range(first, min(first + (per_transaction or 1), count)):
                if mode == "insert-only":
                    PendingEntry.objects.create(
                        kind="data.accessed",
                        actor="partner:bench",
                        subject="consent:bench",
                        body=BODY,
                        ts="2026-11-22T12:00:00.000000Z",
                    )
                else:
                    services.append(
                        kind="data.accessed",
                        actor="partner:bench",
                        subject="consent:bench",
                        body={**BODY, "count": position},
                    )
    connections.close_all()
    _add_cpu("writers")
    os._exit(0)


def _sequencer(total: int, period: float, start_gate) -> None:
    connections.close_all()
    start_gate.wait(timeout=120)
    done = 0
    while done < total:
        started = time.monotonic()
        sequenced = services.sequence_pending()
        done += sequenced
        if done >= total:
            break
        if period:  # as beat does: the next run one period after this one started
            time.sleep(max(period - (time.monotonic() - started), 0))
        elif not sequenced:
            time.sleep(0.005)
    connections.close_all()
    _add_cpu("sequencer")
    os._exit(0)


def _add_cpu(role: str) -> None:
    with CPU_USED[role].get_lock():
        CPU_USED[role].value += time.process_time()  # this process's own, since its fork


def database_cpu_seconds() -> float | None:
    """CPU time of the PostgreSQL server's processes on this machine, ended backends
    included (the postmaster's reaped-children time), or None when there are none."""
    pids = pids_named("postgres")
    if not pids:
        return None
    return cpu_seconds(pids) + sum(reaped_cpu_seconds(pid) for pid in pids)


def beat_period() -> float:
    """How often production's beat runs the sequencer (``CELERY_BEAT_SCHEDULE``)."""
    return settings.CELERY_BEAT_SCHEDULE["ledger-sequence"]["schedule"].total_seconds()


def run(mode: str, total: int, writers: int, per_transaction: int, period: float = 0.0) -> tuple[float, str]:
    """Time one mode; return its seconds and where the CPU went, per entry."""
    _reset()
    connections.close_all()
    context = multiprocessing.get_context("fork")
    gate = context.Barrier(writers + (2 if mode == "worker" else 1))
    processes = [
        context.Process(target=_writer, args=(total // writers, mode, per_transaction, gate)) for _ in range(writers)
    ]
    if mode == "worker":
        processes.append(context.Process(target=_sequencer, args=(total, period, gate)))
    for used in CPU_USED.values():
        used.value = 0.0
    for process in processes:
        process.start()
    gate.wait(timeout=120)
    database_before, ticks_before = database_cpu_seconds(), machine_ticks()
    started = time.perf_counter()
    for process in processes:
        process.join()
    if mode == "on-commit":
        services.sequence_pending()  # a last commit's run may have started before the others committed
    elapsed = time.perf_counter() - started
    database_after, ticks_after = database_cpu_seconds(), machine_ticks()
    split = [f"{role} {CPU_USED[role].value / total * 1e6:.0f}" for role in CPU_USED if CPU_USED[role].value]
    if database_before is not None and connection.vendor == "postgresql":
        split.append(f"PostgreSQL {(database_after - database_before) / total * 1e6:.0f}")
    cpu = f"CPU µs per entry: {', '.join(split)}; steal {steal_share(ticks_before, ticks_after):.0%}"
    assert all(process.exitcode == 0 for process in processes), "a writer failed"
    if mode == "insert-only":
        assert PendingEntry.objects.count() == total
    else:
        assert list(Entry.objects.order_by("-seq").values_list("seq", flat=True)[:1]) == [total - 1]
        assert not PendingEntry.objects.exists()
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument(
        "--per-transaction",
        type=int,
        default=1,
        help="appends per writer transaction; 0: no caller transaction, each append commits on its own",
    )
    parser.add_argument("--modes", default="worker,on-commit", help="sequencing modes to time, comma-separated")
    parser.add_argument(
        "--sequencer-period",
        type=float,
        default=None,
        help="worker mode: seconds between sequencer runs (default: beat's period); 0: back to back",
    )
    args = parser.parse_args()
    period = beat_period() if args.sequencer_period is None else args.sequencer_period
    total = args.entries - args.entries % args.writers
    call_command("migrate", verbosity=0)
    vendor = connection.vendor
    print(
        f"database: {vendor}, {total} entries, {args.writers} writer processes, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(f"appends per transaction: {args.per_transaction}; worker mode sequences every {period:g} s")
    baseline, cpu = run("insert-only", total, args.writers, args.per_transaction)
    print(f"baseline, raw ORM inserts without sequencing: {total / baseline:,.0f} rows/s ({baseline:.2f} s)")
    print(f"  {cpu}")
    for mode in args.modes.split(","):
        elapsed, cpu = run(mode, total, args.writers, args.per_transaction, period)
        print(
            f"append + sequence ({mode}): {total / elapsed:,.0f} entries/s ({elapsed:.2f} s), "
            f"ratio to raw inserts {baseline / elapsed:.2f}"
        )
        print(f"  {cpu}")
    report = selectors.verify_database(check_anchors=False)
    print(f"the last run's chain verifies: {report.ok} ({report.size} entries)")


if __name__ == "__main__":
    main()
