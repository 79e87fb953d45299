"""Ledger storage: pending entries, the sequenced (append-only) log, tree nodes, checkpoints, anchors.

Callers insert ``PendingEntry`` rows inside their own transaction (no shared row, so no
contention); the sequencer moves them in batches into ``Entry`` with dense ``seq`` and the
hash chain, and records the hashes of every complete subtree it finishes in ``TreeNode``.
``Entry``, ``Checkpoint`` and ``Anchor`` are append-only: database triggers (installed by
migration 0002, see ``ledger/triggers.py``) reject UPDATE and DELETE.
"""

from __future__ import annotations

import uuid

from django.db import models

from config.jobs import BackgroundJob
from ledger import merkle


class PendingEntry(models.Model):
    """An appended entry waiting for the sequencer. Its id becomes the entry's public id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=64)
    actor = models.CharField(max_length=200)
    subject = models.CharField(max_length=200)
    body = models.JSONField()
    ts = models.CharField(max_length=32)  # RFC 3339 UTC, fixed at append time
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]


class Entry(models.Model):
    """One sequenced entry: the exact canonical bytes that were hashed, never re-serialized."""

    seq = models.BigIntegerField(primary_key=True)
    id = models.UUIDField(unique=True, editable=False)
    kind = models.CharField(max_length=64, db_index=True)
    actor = models.CharField(max_length=200, db_index=True)
    subject = models.CharField(max_length=200, db_index=True)
    data = models.BinaryField()
    leaf_hash = models.BinaryField(max_length=32)

    class Meta:
        ordering = ["seq"]
        constraints = [models.CheckConstraint(condition=models.Q(seq__gte=0), name="ledger_entry_seq_non_negative")]


class TreeNode(models.Model):
    """Hash of one complete subtree of level >= 1 (2^level leaves), so proofs never rebuild the tree.

    One integer key instead of (level, index) keeps the table a single B-tree and lets a proof
    fetch all of its O(log n) nodes with one ``IN`` query.
    """

    key = models.BigIntegerField(primary_key=True)
    hash = models.BinaryField(max_length=32)

    INDEX_BITS = 48

    @classmethod
    def key_for(cls, level: int, index: int) -> int:
        return (level << cls.INDEX_BITS) | index


class LedgerHead(models.Model):
    """The single row the sequencer locks: current size, last leaf hash and the tree's right edge."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    last_leaf_hash = models.CharField(max_length=64, default="0" * 64)
    # Concatenated hashes of the complete subtrees making up the tree (largest first):
    # enough to extend the tree and compute its root without reading any node.
    frontier = models.BinaryField(default=b"")
    updated_at = models.DateTimeField(auto_now=True)

    def frontier_hashes(self) -> list[bytes]:
        raw = bytes(self.frontier)
        return [raw[i : i + merkle.HASH_SIZE] for i in range(0, len(raw), merkle.HASH_SIZE)]

    def root(self) -> bytes:
        hashes = self.frontier_hashes()
        return merkle.fold_right(hashes) if hashes else merkle.EMPTY_ROOT


class Checkpoint(models.Model):
    """A signed C2SP checkpoint note. Every one is kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    size = models.BigIntegerField(unique=True)
    root_hash = models.BinaryField(max_length=32)
    note = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-size"]
        get_latest_by = "size"

    def body(self) -> str:
        """The checkpoint body (origin, size, root): what is signed and what gets anchored."""
        return self.note.split("\n\n", 1)[0] + "\n"


class Anchor(models.Model):
    """A checkpoint's (origin, size, root) written into a blockchain transaction."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="anchors")
    backend = models.CharField(max_length=200)
    chain_id = models.BigIntegerField()
    tx_hash = models.CharField(max_length=66)
    block_number = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class VerificationRun(BackgroundJob):
    """One run of the auditor's verifier over the database, started from the auditor page
    and done by a worker; the page follows its progress in entries and shows the outcome.
    Holds counts and the verifier's summary only (entries are public anyway)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Verifying"
        DONE = "done", "Done"
        FAILED = "failed", "Could not run"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Entries, so beyond the base's 32-bit counts.
    total_items = models.BigIntegerField(default=0)
    processed_items = models.BigIntegerField(default=0)
    verified = models.BooleanField(null=True)
    summary = models.TextField(blank=True)
    first_bad_entry = models.BigIntegerField(null=True, blank=True)
