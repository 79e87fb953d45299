"""Independent verification of Eidetic's ledger. Standalone: needs no Django and no database.

    python -m ledger.verify --key KEY EXPORT_DIR           # an export (entries.jsonl + checkpoints.jsonl)
    python -m ledger.verify --key KEY --url https://host    # the public API
    python -m ledger.verify --key KEY receipt.json          # one receipt, offline

KEY is the C2SP verifier key string (or a file holding it). The verifier checks every
entry's chain link (seq dense from 0, ``prev`` = hash of the previous entry), recomputes
the Merkle root at every checkpoint, checks every checkpoint's signature, that all
checkpoints lie on the one history it recomputed (so each is consistent with the previous
one), checkpoints you kept from earlier runs (``--checkpoint FILE``, ``--state DIR``), and
anchors when given a chain to read (``--eth-rpc URL``). On tampering it names the first bad
entry and what is wrong. Exit status 0 only when everything holds.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import itertools
import json
import multiprocessing
import os
import sys
from binascii import hexlify
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger import entries, merkle, note

ENTRIES_FILE = "entries.jsonl"
CHECKPOINTS_FILE = "checkpoints.jsonl"
KEY_FILE = "key.txt"
LEAF_HASHES_FILE = "leaf_hashes.bin"


@dataclass
class Problem:
    message: str
    seq: int | None = None

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.message}" if self.seq is not None else self.message


@dataclass
class Report:
    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    checkpoints_checked: int = 0
    anchors_checked: int = 0
    anchors_unchecked: int = 0
    problems: list[Problem] = field(default_factory=list)
    latest_checkpoint: str | None = None  # the newest checkpoint note that was verified

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_entry(self) -> int | None:
        return next((problem.seq for problem in self.problems if problem.seq is not None), None)

    def summary(self) -> str:
        lines = [
            f"entries: {self.size}",
            f"root: {base64.b64encode(self.root).decode()}",
            f"checkpoints checked: {self.checkpoints_checked}",
            f"anchors checked: {self.anchors_checked}"
            + (f" (not checked: {self.anchors_unchecked})" * bool(self.anchors_unchecked)),
        ]
        lines += [f"PROBLEM: {problem}" for problem in self.problems]
        lines.append("OK: the ledger verifies" if self.ok else "FAILED")
        return "\n".join(lines)


@dataclass
class _Checkpoint:
    body: note.CheckpointBody
    source: str
    anchor: dict[str, Any] | None
    text: str


class LogVerifier:
    """Feed it checkpoints, then the entries in order; it reports everything that does not hold."""

    def __init__(self, key: note.VerifierKey, *, strict: bool = False) -> None:
        self.key = key
        self.strict = strict  # also parse every entry as JSON and check its fields (slower)
        self.checkpoints: list[_Checkpoint] = []
        self.report = Report()

    def add_checkpoint(self, text: str, anchor: dict[str, Any] | None = None, *, source: str = "log") -> None:
        try:
            body = note.open_note(text, self.key)
        except note.NoteError as error:
            self.report.problems.append(Problem(f"checkpoint from {source}: {error}"))
            return
        if body.origin != self.key.name:
            self.report.problems.append(Problem(f"checkpoint from {source} is for origin {body.origin!r}"))
            return
        self.checkpoints.append(_Checkpoint(body, source, anchor, text))

    def run(
        self,
        stream: Iterable[tuple[int, bytes]],
        *,
        witness: bytes | bytearray | None = None,
        total: int | None = None,
        progress: bool = False,
        anchor_reader=None,
    ) -> Report:
        """Check ``(position, entry bytes)`` pairs in log order.

        ``witness``, if given, holds the 32-byte leaf hashes the log recorded (it may be
        filled while ``stream`` is consumed); it lets the verifier name an altered entry
        itself rather than its successor, whose link to it breaks.
        """
        self._check_duplicate_sizes()
        if progress:
            stream = _with_progress(stream, total)
        self._walk(iter(stream), witness)
        if total is not None and self.report.size < total and self.report.ok:
            self.report.problems.append(
                Problem(f"missing: the log claims {total} entries but ends after {self.report.size}", self.report.size)
            )
        self._check_anchors(anchor_reader)
        if self.report.ok and self.checkpoints:
            self.report.latest_checkpoint = max(self.checkpoints, key=lambda item: item.body.size).text
        return self.report

    def run_export_in_two(
        self,
        directory: Path,
        *,
        witness: bytes | None,
        anchor_reader=None,
        count: int | None = None,
        progress: bool = False,
    ) -> Report:
        """``run`` over an export, on two processes: the tree splits at the largest power of
        two below the size, so each half is verified on its own and only the link between
        them and a few subtree hashes cross over.

        Nothing is read twice before the halves start: the size comes from the recorded leaf
        hashes when the export has them (``count`` is only a hint for where to split), and the
        right process finds where its half starts. If the entries turn out not to fit the
        hint, the lines are counted and the split is redone. ``progress``: one bar over both.
        """
        self._check_duplicate_sizes()
        path = directory / ENTRIES_FILE
        if count is None:
            count = len(witness) // merkle.HASH_SIZE if witness else count_lines(path)
        halves = self._two_halves(path, count, progress)
        if halves is None:  # more entries than the hint: count them and split again
            halves = self._two_halves(path, count_lines(path), progress)
        size, root, roots, joined, problems = halves
        self.report.problems += problems
        self._conclude(size, root, roots, joined, witness)
        self._check_anchors(anchor_reader)
        if self.report.ok and self.checkpoints:
            self.report.latest_checkpoint = max(self.checkpoints, key=lambda item: item.body.size).text
        return self.report

    def _two_halves(self, path: Path, count: int, progress: bool):
        """(size, root, roots by checkpoint size, joined leaves, problems), or None when the
        entries run past twice the split point, where MTH no longer splits at it."""
        split = merkle.split_point(count) if count > 1 else 1
        # For split < s <= 2 * split the RFC 9162 split point of s is ``split`` itself, so
        # MTH(D[0:s]) = H(0x01 || MTH(left half) || MTH(D[split:s])): the right process
        # returns MTH(D[split:s]) for each size the parent needs.
        wanted = sorted({c.body.size for c in self.checkpoints if split < c.body.size})
        bar = _TwoHalvesProgress.start(count) if progress else None  # before the fork: the worker inherits its counter
        context = multiprocessing.get_context("fork")
        with context.Pool(1) as pool:
            right = pool.apply_async(_verify_slice, (path, split, wanted, self.strict))
            lines = _lines(path, seen=bar.seen if bar else None)
            stream = zip(itertools.count(), itertools.islice(lines, split))
            leaves, problems, _ = check_chain(stream, start=0, prev=entries.GENESIS_PREV.encode(), strict=self.strict)
            levels = merkle.tree_levels(leaves)
            while bar and not right.ready():
                right.wait(0.5)
                bar.show()
            right_leaves, right_problems, right_prev, right_roots = right.get()
        if bar:
            bar.close(len(leaves) + len(right_leaves) // merkle.HASH_SIZE)
        size, joined = len(leaves), b"".join(leaves)
        if not problems and size == split and right_leaves:
            if split + len(right_leaves) // merkle.HASH_SIZE > 2 * split:
                return None
            if right_prev != hexlify(leaves[-1]):
                first = next(itertools.islice(_lines(path), split, split + 1))
                problems = [_diagnose(first, split, hexlify(leaves[-1]).decode())]
            else:
                problems = right_problems
                size += len(right_leaves) // merkle.HASH_SIZE
                joined += right_leaves
        left_root = merkle.root_from_levels(levels, min(size, split))
        roots = {}
        for checkpoint in self.checkpoints:
            wanted_size = checkpoint.body.size
            if 0 < wanted_size <= min(size, split):
                roots[wanted_size] = merkle.root_from_levels(levels, wanted_size)
            elif split < wanted_size <= size:
                roots[wanted_size] = merkle.node_hash(left_root, right_roots[wanted_size])
        root = left_root if size <= split else merkle.node_hash(left_root, right_roots[size])
        return size, root, roots, joined, problems

    def _check_duplicate_sizes(self) -> None:
        roots: dict[int, _Checkpoint] = {}
        for checkpoint in self.checkpoints:
            seen = roots.setdefault(checkpoint.body.size, checkpoint)
            if seen.body.root != checkpoint.body.root:
                self.report.problems.append(
                    Problem(
                        f"fork: two checkpoints of size {checkpoint.body.size} with different roots, "
                        f"both signed by the key ({seen.source}, {checkpoint.source})"
                    )
                )

    def _walk(self, stream: Iterator[tuple[int, bytes]], witness: bytes | bytearray | None) -> None:
        leaves, problems, _ = check_chain(stream, start=0, prev=entries.GENESIS_PREV.encode(), strict=self.strict)
        self.report.problems += problems
        levels = merkle.tree_levels(leaves)
        size = len(leaves)
        roots = {
            checkpoint.body.size: merkle.root_from_levels(levels, checkpoint.body.size)
            for checkpoint in self.checkpoints
            if 0 < checkpoint.body.size <= size
        }
        self._conclude(size, merkle.root_from_levels(levels, size), roots, b"".join(leaves), witness)

    def _conclude(
        self, size: int, root: bytes, roots: dict[int, bytes], leaves: bytes, witness: bytes | bytearray | None
    ) -> None:
        if witness is not None:
            self._check_witness(leaves, witness)
        self.report.size = size
        self.report.root = root
        self._check_checkpoint_roots(roots, complete=self.report.ok)

    def _check_witness(self, mine: bytes, witness: bytes | bytearray) -> None:
        """Compare in bulk; only on a mismatch look for the first differing entry."""
        theirs = bytes(witness[: len(mine)])
        if mine == theirs:
            return
        size = merkle.HASH_SIZE
        first = next(
            index
            for index in range(len(mine) // size)
            if mine[index * size : (index + 1) * size] != theirs[index * size : (index + 1) * size]
        )
        # The root cause comes first: a later broken link is the consequence of this change.
        self.report.problems.insert(
            0, Problem("altered: its bytes no longer hash to the leaf hash the log recorded", first)
        )

    def _check_checkpoint_roots(self, roots: dict[int, bytes], *, complete: bool) -> None:
        for checkpoint in sorted(self.checkpoints, key=lambda item: item.body.size):
            size = checkpoint.body.size
            if size not in roots:
                if complete and size > self.report.size:
                    self.report.problems.append(
                        Problem(
                            f"missing: the checkpoint of size {size} ({checkpoint.source}) covers it, "
                            f"but the log ends after {self.report.size} entries",
                            self.report.size,
                        )
                    )
                continue
            if roots[size] != checkpoint.body.root:
                self.report.problems.append(
                    Problem(
                        f"fork: the checkpoint of size {size} ({checkpoint.source}) does not match the entries; "
                        "the history before it was rewritten or the entries were altered"
                    )
                )
            else:
                self.report.checkpoints_checked += 1

    def _check_anchors(self, anchor_reader) -> None:
        from ledger.anchoring import check_reading  # no Django needed: the function is pure

        for checkpoint in self.checkpoints:
            if not checkpoint.anchor:
                continue
            if anchor_reader is None:
                self.report.anchors_unchecked += 1
                continue
            anchor = checkpoint.anchor
            try:
                reading = anchor_reader.read(anchor["tx_hash"])
            except LookupError as error:
                self.report.problems.append(Problem(f"anchor of checkpoint {checkpoint.body.size}: {error}"))
                continue
            problems = check_reading(
                reading,
                data=checkpoint.body.text().encode(),
                chain_id=int(anchor["chain_id"]),
                block_number=anchor.get("block_number"),
            )
            for problem in problems:
                self.report.problems.append(Problem(f"anchor of checkpoint {checkpoint.body.size}: {problem}"))
            self.report.anchors_checked += not problems


def _diagnose(data: bytes, expected: int, prev: str) -> Problem:
    """Why an entry failed the fast path, in words (malformed, out of place, or a broken link)."""
    try:
        seq, claimed_prev = entries.link_of(data)
    except entries.EntryFormatError as error:
        return Problem(f"malformed: {error}", expected)
    if seq != expected:
        return Problem(f"out of place: the entry here carries seq {seq} (deleted, swapped or reordered)", expected)
    if claimed_prev != prev:
        return Problem(f"broken link: its prev does not match the hash of entry {expected - 1}", expected)
    return Problem("malformed: the entry's canonical tail is not as expected", expected)


def check_chain(
    stream: Iterable[tuple[int, bytes]], *, start: int, prev: bytes | None, strict: bool = False
) -> tuple[list[bytes], list[Problem], bytes | None]:
    """The hot loop: entries ``start``, ``start + 1``, … linked from ``prev`` (hex bytes).

    One leaf hash and a few byte comparisons per entry, no JSON parsing: ``prev`` and
    ``seq`` sit at fixed places of the canonical tail (see ``ledger.entries``); an entry
    that fails the fast path gets the strict, slower diagnosis. ``prev=None`` accepts the
    first entry's link and returns it (a slice verified in parallel: the caller checks it).
    Returns the leaf hashes of the entries that hold, the first problem, and that link.
    """
    leaves: list[bytes] = []
    append = leaves.append
    new_leaf = merkle.LEAF_HASHER.copy  # a primed hasher: no copy of the entry with its 0x00 prefix
    link = b'%s","seq":%d,"subject":"'  # what follows ,"prev":" in a canonical entry
    expected, first_prev = start, None
    for position, data in stream:
        if position != expected:
            return (
                leaves,
                [Problem(f"missing: the log jumps from entry {expected - 1} to {position}", expected)],
                first_prev,
            )
        at = data.rfind(b',"prev":"') + 9
        if prev is None:
            prev = first_prev = data[at : at + 64]
        hasher = new_leaf()
        hasher.update(data)
        leaf = hasher.digest()
        if not (
            data.startswith(link % (prev, expected), at)
            and data.endswith(b'","v":1}')
            and data.startswith(b'{"actor":"')
        ):
            return leaves, [_diagnose(data, expected, prev.decode())], first_prev
        if strict:
            try:
                entries.check_document(data)
            except entries.EntryFormatError as error:
                return leaves, [Problem(f"malformed: {error}", expected)], first_prev
        append(leaf)
        prev = hexlify(leaf)
        expected += 1
    return leaves, [], first_prev


def _with_progress(stream: Iterable, total: int | None) -> Iterator:
    try:
        from tqdm import tqdm
    except ImportError:  # the verifier still works without tqdm, just silently
        return iter(stream)
    return iter(tqdm(stream, total=total, unit=" entries", unit_scale=True, file=sys.stderr, mininterval=0.5))


# --- sources: export directory, API --------------------------------------------------------------


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _lines(path: Path, chunk_size: int = 1 << 24, *, offset: int = 0, seen: Callable[[int], None] | None = None):
    """The file's lines from byte ``offset``, without their newline, split in big chunks
    (no per-line read calls); ``seen(n)`` after each chunk's n lines (progress)."""
    with path.open("rb") as handle:
        handle.seek(offset)
        rest = b""
        while chunk := handle.read(chunk_size):
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            yield from lines
            if seen is not None:
                seen(len(lines))
        if rest:
            yield rest


def read_export(directory: Path) -> tuple[Iterator[tuple[int, bytes]], bytes | None]:
    """``(position, entry bytes)`` pairs from an export, and the recorded leaf hashes if present.

    entries.jsonl holds the canonical entries themselves, one per line (JCS escapes every
    control character, so an entry never contains a newline byte); leaf_hashes.bin holds
    the 32-byte leaf hashes the log recorded, the witness that names an altered entry.
    """
    witness_path = directory / LEAF_HASHES_FILE
    witness = witness_path.read_bytes() if witness_path.exists() else None
    return zip(itertools.count(), _lines(directory / ENTRIES_FILE)), witness


def read_export_checkpoints(directory: Path) -> list[dict[str, Any]]:
    path = directory / CHECKPOINTS_FILE
    if not path.exists():
        return []
    with path.open() as handle:
        return [json.loads(line) for line in handle if line.strip()]


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def _offset_of_line(path: Path, line: int) -> int:
    """Byte offset where line number ``line`` (from 0) starts: a scan for newlines at C speed."""
    offset, seen = 0, 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            newlines = chunk.count(b"\n")
            if seen + newlines >= line:
                position = -1
                for _ in range(line - seen):
                    position = chunk.index(b"\n", position + 1)
                return offset + position + 1
            seen += newlines
            offset += len(chunk)
    return offset


# Lines the right half has checked so far, for the parent's progress bar: shared memory the
# forked worker inherits (a synchronized value cannot be passed as a task argument).
_right_progress = None


def _verify_slice(path: Path, start: int, wanted: list[int], strict: bool):
    """The right half, in a worker process: chain from line ``start`` to the end, its leaves,
    and MTH(D[start:s]) for each wanted s it reaches and for its own end."""
    counter = _right_progress

    def seen(count: int) -> None:
        counter.value += count

    lines = _lines(path, offset=_offset_of_line(path, start), seen=seen if counter is not None else None)
    stream = zip(itertools.count(start), lines)
    leaves, problems, first_prev = check_chain(stream, start=start, prev=None, strict=strict)
    levels = merkle.tree_levels(leaves)
    sizes = [size for size in wanted if size - start <= len(leaves)] + [start + len(leaves)]
    roots = {size: merkle.root_from_levels(levels, size - start) for size in sizes}
    return b"".join(leaves), problems, first_prev, roots


class _TwoHalvesProgress:
    """One progress bar over both halves: the parent's own lines plus the worker's counter."""

    def __init__(self, bar) -> None:
        global _right_progress
        _right_progress = multiprocessing.get_context("fork").RawValue("q", 0)
        self.left = 0
        self.bar = bar

    @classmethod
    def start(cls, total: int) -> _TwoHalvesProgress | None:
        try:
            from tqdm import tqdm
        except ImportError:  # the verifier still works without tqdm, just silently
            return None
        return cls(tqdm(total=total, unit=" entries", unit_scale=True, file=sys.stderr, mininterval=0.5))

    def seen(self, count: int) -> None:
        self.left += count
        self.show()

    def show(self) -> None:
        self.bar.n = self.left + _right_progress.value
        self.bar.refresh()

    def close(self, checked: int) -> None:
        global _right_progress
        self.bar.n = checked
        self.bar.close()
        _right_progress = None


def verify_export(
    directory: Path,
    key: note.VerifierKey,
    *,
    kept: Iterable[str] = (),
    progress: bool = False,
    anchor_reader=None,
    strict: bool = False,
    jobs: int = 1,
) -> Report:
    verifier = LogVerifier(key, strict=strict)
    for record in read_export_checkpoints(directory):
        verifier.add_checkpoint(record["note"], record.get("anchor"), source=f"export size {record.get('size')}")
    for text in kept:
        verifier.add_checkpoint(text, source="kept by you")
    stream, witness = read_export(directory)
    if jobs > 1:
        return verifier.run_export_in_two(directory, witness=witness, anchor_reader=anchor_reader, progress=progress)
    total = count_lines(directory / ENTRIES_FILE) if progress else None
    return verifier.run(stream, witness=witness, total=total, progress=progress, anchor_reader=anchor_reader)


class ApiClient:
    """The public auditor API, read with ``requests`` (the only non-stdlib need of API mode)."""

    def __init__(self, base_url: str, get: Callable | None = None) -> None:
        import requests

        self.base = base_url.rstrip("/") + "/api/v1/ledger/"
        self.get = get or requests.Session().get

    def _get(self, path: str, **params):
        response = self.get(self.base + path, params=params, timeout=30)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}: {response.text[:200]}")
        return response

    def latest_checkpoint(self) -> str:
        return self._get("checkpoint").text

    def checkpoint(self, size: int) -> str:
        return self._get(f"checkpoints/{size}").text

    def consistency(self, old: int, new: int) -> list[bytes]:
        return [_b64(value) for value in self._get("proof/consistency", old=old, new=new).json()["proof"]]

    def entries(self, size: int, witness: bytearray) -> Iterator[tuple[int, bytes]]:
        """Entries 0..size-1, page by page; the leaf hashes the API states go into ``witness``."""
        start = 0
        while start < size:
            page = self._get("entries", start=start, end=size).json()["entries"]
            if not page:
                raise RuntimeError(f"the API returned no entries from {start}")
            for item in page:
                witness.extend(bytes.fromhex(item["leaf_hash"]))
                yield item["seq"], _b64(item["entry"])
            start = page[-1]["seq"] + 1


def verify_api(
    client: ApiClient,
    key: note.VerifierKey,
    *,
    kept: Iterable[str] = (),
    progress: bool = False,
    anchor_reader=None,
    strict: bool = False,
) -> Report:
    verifier = LogVerifier(key, strict=strict)
    latest_text = client.latest_checkpoint()
    verifier.add_checkpoint(latest_text, source="API latest")
    if not verifier.checkpoints:
        return verifier.report
    latest = verifier.checkpoints[0].body
    for text in kept:
        verifier.add_checkpoint(text, source="kept by you")
    # A kept checkpoint must be provably a prefix of the latest one (RFC 9162 consistency).
    for checkpoint in verifier.checkpoints[1:]:
        old = checkpoint.body
        if 0 < old.size <= latest.size:
            try:
                merkle.verify_consistency(
                    old.size, latest.size, old.root, latest.root, client.consistency(old.size, latest.size)
                )
            except (merkle.ProofError, RuntimeError) as error:
                verifier.report.problems.append(
                    Problem(
                        f"fork: the log cannot prove checkpoint {old.size} (kept by you) is a prefix "
                        f"of checkpoint {latest.size}: {error}"
                    )
                )
    witness = bytearray()
    return verifier.run(
        client.entries(latest.size, witness),
        witness=witness,
        total=latest.size,
        progress=progress,
        anchor_reader=anchor_reader,
    )


# --- receipts --------------------------------------------------------------------------------------


def verify_receipt(receipt: dict[str, Any], key: note.VerifierKey, *, anchor_reader=None) -> list[str]:
    """Problems with a receipt (empty list: the entry is in the log the key signed)."""
    try:
        data = _b64(receipt["entry"])
        index = int(receipt["index"])
        proof = [_b64(value) for value in receipt["inclusion_proof"]]
        body = note.open_note(receipt["checkpoint"], key)
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        return [f"receipt is malformed or its checkpoint is not signed by the key: {error}"]
    problems = []
    if body.origin != key.name:
        problems.append(f"checkpoint is for origin {body.origin!r}, not {key.name!r}")
    leaf = merkle.leaf_hash(data)
    if receipt.get("leaf_hash") not in (None, leaf.hex()):
        problems.append("leaf_hash does not match the entry bytes")
    try:
        seq, _ = entries.link_of(data)
        if seq != index:
            problems.append(f"entry carries seq {seq}, the receipt says index {index}")
    except entries.EntryFormatError as error:
        problems.append(f"entry is malformed: {error}")
    try:
        merkle.verify_inclusion(index, body.size, leaf, proof, body.root)
    except merkle.ProofError as error:
        problems.append(f"inclusion proof fails: {error}")
    anchor = receipt.get("anchor")
    if anchor and anchor_reader is not None:
        from ledger.anchoring import check_reading

        try:
            reading = anchor_reader.read(anchor["tx_hash"])
            problems += [
                f"anchor: {problem}"
                for problem in check_reading(
                    reading,
                    data=body.text().encode(),
                    chain_id=int(anchor["chain_id"]),
                    block_number=anchor.get("block_number"),
                )
            ]
        except LookupError as error:
            problems.append(f"anchor: {error}")
    return problems


# --- command line ------------------------------------------------------------------------------------


def _read_key(value: str) -> note.VerifierKey:
    path = Path(value)
    text = path.read_text() if "+" not in value and path.exists() else value
    return note.parse_verifier_key(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ledger.verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", help="an export directory or a receipt.json file")
    parser.add_argument("--key", required=True, help="the log's C2SP verifier key (string or file)")
    parser.add_argument("--url", help="base URL of an Eidetic site, to verify through its public API")
    parser.add_argument("--checkpoint", action="append", default=[], help="a checkpoint note you kept earlier")
    parser.add_argument("--state", help="a directory where the latest verified checkpoint is kept between runs")
    parser.add_argument("--eth-rpc", help="an Ethereum JSON-RPC URL to check anchors against")
    parser.add_argument("--strict", action="store_true", help="also parse every entry as JSON and check its fields")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--jobs",
        type=int,
        choices=(1, 2),
        default=2 if (os.cpu_count() or 1) > 1 else 1,
        help="verify an export on one or two processes (default: two when the machine has two cores or more)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        key = _read_key(args.key)
    except (note.NoteError, OSError) as error:
        print(f"bad --key: {error}", file=sys.stderr)
        return 2
    anchor_reader = None
    if args.eth_rpc:
        from ledger.anchoring import Web3HttpAnchor

        anchor_reader = Web3HttpAnchor(args.eth_rpc)
    kept = [Path(path).read_text() for path in args.checkpoint]
    state = Path(args.state) if args.state else None
    if state and (state / "checkpoint").exists():
        kept.append((state / "checkpoint").read_text())

    if args.source and Path(args.source).is_file():
        problems = verify_receipt(json.loads(Path(args.source).read_text()), key, anchor_reader=anchor_reader)
        for problem in problems:
            print(f"PROBLEM: {problem}")
        print("OK: the receipt verifies" if not problems else "FAILED")
        return 0 if not problems else 1
    if args.url:
        client = ApiClient(args.url)
        report = verify_api(
            client, key, kept=kept, progress=not args.quiet, anchor_reader=anchor_reader, strict=args.strict
        )
    elif args.source:
        if not (Path(args.source) / ENTRIES_FILE).is_file():
            print(f"{args.source}: neither a receipt file nor an export directory (no {ENTRIES_FILE})", file=sys.stderr)
            return 2
        report = verify_export(
            Path(args.source),
            key,
            kept=kept,
            progress=not args.quiet,
            anchor_reader=anchor_reader,
            strict=args.strict,
            jobs=args.jobs,
        )
    else:
        print("give an export directory, a receipt file, or --url", file=sys.stderr)
        return 2
    print(report.summary())
    if state and report.latest_checkpoint:
        state.mkdir(parents=True, exist_ok=True)
        (state / "checkpoint").write_text(report.latest_checkpoint)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
