"""Full verification of an N-entry ledger export vs the bare SHA-256 of the same bytes, same run.

    .venv/bin/python bench/ledger_verify.py [--entries 1000000] [--checkpoints 100]

Builds (once, cached under /tmp) an export in the real format: canonical entries chained by
``prev``, leaf hashes, and checkpoints signed with a throwaway Ed25519 key. Then times
(a) the baseline: read entries.jsonl line by line and SHA-256 each entry, nothing else;
(b) ``ledger.verify.verify_export``: every chain link, the Merkle root at every checkpoint
and at the end, every checkpoint signature; (c) the same on two processes (``--jobs 2``).
Prints them and the ratios. No Django needed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench._harness import machine_ticks, steal_share
from ledger import entries, merkle, note, verify

ORIGIN = "bench.eidetic.local/ledger"
SUBJECT = "consent:123e4567-e89b-12d3-a456-426614174000"
ACTOR = "person:" + "5f" * 16
# A realistic consent entry (~380 bytes). Bytes are produced by a template for speed, and the
# template is checked against rfc8785 on the first entries, so they are the real canonical bytes.
TEMPLATE = (
    b'{"actor":"' + ACTOR.encode() + b'","body":{"consent":"' + b"c0" * 16 + b'","count":%d,"purpose":"research",'
    b'"scopes_hash":"'
    + b"ab" * 32
    + b'"},"kind":"data.accessed","prev":"%s","seq":%d,"subject":"'
    + SUBJECT.encode()
    + b'","ts":"2026-11-22T12:00:00.000000Z","v":1}'
)


def _entry(seq: int, prev: bytes) -> bytes:
    return TEMPLATE % (seq % 1000, prev, seq)


def _check_template() -> None:
    prev = entries.GENESIS_PREV
    for seq in range(3):
        expected = entries.encode(
            seq=seq,
            ts="2026-11-22T12:00:00.000000Z",
            kind="data.accessed",
            actor=ACTOR,
            subject=SUBJECT,
            body={"consent": "c0" * 16, "count": seq % 1000, "purpose": "research", "scopes_hash": "ab" * 32},
            prev=prev,
        )
        assert _entry(seq, prev.encode()) == expected, "template drifted from RFC 8785 output"
        prev = merkle.leaf_hash(expected).hex()


def build_export(directory: Path, count: int, checkpoints: int) -> str:
    """Write the export; return the verifier key string."""
    _check_template()
    directory.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    every = max(count // checkpoints, 1)
    builder = merkle.RootBuilder()
    prev = entries.GENESIS_PREV.encode()
    with (
        (directory / verify.ENTRIES_FILE).open("wb") as entries_file,
        (directory / verify.LEAF_HASHES_FILE).open("wb") as hashes_file,
        (directory / verify.CHECKPOINTS_FILE).open("w") as checkpoints_file,
    ):
        for seq in range(count):
            data = _entry(seq, prev)
            leaf = merkle.leaf_hash(data)
            entries_file.write(data + b"\n")
            hashes_file.write(leaf)
            builder.push_fast(leaf)
            prev = leaf.hex().encode()
            if (seq + 1) % every == 0 or seq + 1 == count:
                signed = note.sign(note.CheckpointBody(ORIGIN, seq + 1, builder.root()), key, ORIGIN)
                checkpoints_file.write(json.dumps({"size": seq + 1, "note": signed}) + "\n")
    verifier_key = str(note.verifier_key_for(ORIGIN, key))
    (directory / verify.KEY_FILE).write_text(verifier_key + "\n")
    (directory / "complete").write_text(str(count))
    return verifier_key


def baseline(directory: Path) -> tuple[float, float, int]:
    """Bare SHA-256 of every entry's bytes, read from the same file: (wall s, CPU s, bytes)."""
    sha256 = hashlib.sha256
    start, cpu = time.perf_counter(), time.process_time()
    total = 0
    with (directory / verify.ENTRIES_FILE).open("rb") as handle:
        for line in handle:
            sha256(line[:-1]).digest()
            total += len(line) - 1
    return time.perf_counter() - start, time.process_time() - cpu, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--checkpoints", type=int, default=100)
    parser.add_argument("--dir", default=None, help="where to build/cache the export")
    args = parser.parse_args()
    directory = Path(args.dir or f"/tmp/eidetic-ledger-bench-{args.entries}-{args.checkpoints}")
    if not (directory / "complete").exists():
        started = time.perf_counter()
        build_export(directory, args.entries, args.checkpoints)
        print(f"built export of {args.entries} entries in {time.perf_counter() - started:.1f} s under {directory}")
    key = note.parse_verifier_key((directory / verify.KEY_FILE).read_text())

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    # Wall-clock time is what the targets speak of; this process's CPU time is printed too,
    # because on a shared machine other processes' load inflates wall time, not CPU time.
    ticks = machine_ticks()
    bare, bare_cpu, total_bytes = baseline(directory)
    print(
        f"baseline (read + bare SHA-256 of each entry): {bare:.3f} s wall, {bare_cpu:.3f} s CPU, "
        f"{args.entries} entries, {total_bytes / 1e6:.0f} MB, {args.entries / bare:,.0f} hashes/s"
    )
    started, cpu = time.perf_counter(), time.process_time()
    report = verify.verify_export(directory, key)
    full, full_cpu = time.perf_counter() - started, time.process_time() - cpu
    if not report.ok:
        print(report.summary())
        sys.exit(1)
    print(
        f"full verification (chain + Merkle root + {report.checkpoints_checked} checkpoints): {full:.3f} s wall, "
        f"{full_cpu:.3f} s CPU, {args.entries / full:,.0f} entries/s"
    )
    print(
        f"ratio full / bare SHA-256: {full / bare:.2f}x wall, {full_cpu / bare_cpu:.2f}x CPU   "
        "(targets: <= 3 s at 1,000,000 entries, <= 2x)"
    )
    started = time.perf_counter()
    report = verify.verify_export(directory, key, jobs=2)
    both = time.perf_counter() - started
    if not report.ok:
        print(report.summary())
        sys.exit(1)
    print(
        f"full verification on two processes (--jobs 2): {both:.3f} s wall, {args.entries / both:,.0f} entries/s, "
        f"ratio to the single-process bare SHA-256 {both / bare:.2f}x wall"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print(f"CPU time taken by the hypervisor (steal) during the run: {steal_share(ticks, machine_ticks()):.0%}")


if __name__ == "__main__":
    main()
