"""Inclusion and consistency proof latency (p50/p99) at N entries, from the stored tree.

    BENCH_DB=sqlite   .venv/bin/python bench/ledger_proofs.py [--entries 1000000] [--samples 2000]
    BENCH_DB=postgres .venv/bin/python bench/ledger_proofs.py

Loads N entries once (kept between runs: same N, same database) straight into the tables
in the sequencer's format (canonical entries, leaf hashes, every complete subtree hash),
then times ``ledger.selectors.inclusion_proof`` and ``consistency_proof`` for random
parameters at tree size N, each checked against the root. Baseline in the same run: one
primary-key read of one entry's leaf hash (the cheapest query the proof could make).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.ledger_settings"

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from ledger_verify import _check_template, _entry  # noqa: E402

from ledger import merkle, selectors, triggers  # noqa: E402
from ledger.models import Checkpoint, Entry, LedgerHead, PendingEntry, TreeNode  # noqa: E402

BATCH = 5000


def load(count: int) -> None:
    """Write N sequenced entries and their tree exactly as the sequencer would."""
    _check_template()
    with transaction.atomic():
        triggers.remove(connection)
        for model in (Entry, TreeNode, PendingEntry, Checkpoint):
            model.objects.all().delete()
        triggers.install(connection)
    builder = merkle.RootBuilder()
    prev = b"0" * 64
    started = time.perf_counter()
    for first in range(0, count, BATCH):
        rows, nodes = [], []
        for seq in range(first, min(first + BATCH, count)):
            data = _entry(seq, prev)
            leaf = merkle.leaf_hash(data)
            rows.append(
                Entry(seq=seq, id=None, kind="data.accessed", actor="a", subject="s", data=data, leaf_hash=leaf)
            )
            nodes.extend(TreeNode(key=TreeNode.key_for(lv, ix), hash=h) for lv, ix, h in builder.push(leaf))
            prev = leaf.hex().encode()
        for row in rows:
            row.id = uuid.uuid4()
        with transaction.atomic():
            Entry.objects.bulk_create(rows)
            TreeNode.objects.bulk_create(nodes)
        if first % 100_000 == 0:
            print(f"  loaded {first + len(rows):,} entries ({time.perf_counter() - started:.0f} s)", flush=True)
    LedgerHead.objects.update_or_create(
        id=1, defaults={"size": count, "last_leaf_hash": prev.decode(), "frontier": b"".join(builder.stack)}
    )


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms"


def timed(function, parameters) -> tuple[list[float], list]:
    samples, results = [], []
    for params in parameters:
        started = time.perf_counter()
        results.append(function(*params))
        samples.append(time.perf_counter() - started)
    return samples, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    n = args.entries
    if selectors.sequenced_size() != n:
        print(f"loading {n:,} entries into {connection.vendor} (once; kept for later runs)")
        load(n)
    print(
        f"database: {connection.vendor}, tree size {n:,}, {args.samples} samples each, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )
    root = selectors.root_at(n)
    rng = random.Random(9162)

    indices = [(rng.randrange(n),) for _ in range(args.samples)]
    base, _ = timed(lambda i: bytes(Entry.objects.filter(seq=i).values_list("leaf_hash", flat=True)[0]), indices)
    print(f"baseline, one entry's leaf hash by primary key: {percentiles(base)}")

    inclusion_params = [(i, n) for (i,) in indices]
    samples, proofs = timed(lambda i, size: selectors.inclusion_proof(index=i, size=size), inclusion_params)
    leaves = dict(Entry.objects.filter(seq__in=[i for (i,) in indices]).values_list("seq", "leaf_hash"))
    for (i, size), proof in zip(inclusion_params, proofs, strict=True):
        merkle.verify_inclusion(i, size, bytes(leaves[i]), proof, root)
    print(
        f"inclusion proof at {n:,}: {percentiles(samples)} (all {len(proofs)} verified), "
        f"p99 ratio to baseline {sorted(samples)[int(len(samples) * 0.99)] / sorted(base)[int(len(base) * 0.99)]:.1f}x"
    )

    olds = [(rng.randrange(1, n), n) for _ in range(args.samples)]
    samples, proofs = timed(lambda old, new: selectors.consistency_proof(old=old, new=new), olds)
    checked = 0
    for (old, new), proof in list(zip(olds, proofs, strict=True))[:200]:  # roots of old sizes cost a lookup each
        merkle.verify_consistency(old, new, selectors.root_at(old), root, proof)
        checked += 1
    print(
        f"consistency proof to {n:,}: {percentiles(samples)} ({checked} verified against both roots), "
        f"p99 ratio to baseline {sorted(samples)[int(len(samples) * 0.99)] / sorted(base)[int(len(base) * 0.99)]:.1f}x"
    )
    print("targets: p99 <= 5 ms each")


if __name__ == "__main__":
    main()
