"""The ledger's write side. CONTRACT (other apps rely on it):

    append(*, kind: str, actor: str, subject: str, body: dict) -> uuid.UUID

Call it inside the caller's own ``transaction.atomic()`` block on the default database,
so that the business change and its ledger record commit together or not at all.
``actor`` and ``subject`` are pseudonyms or public ids (``"person:<pseudonym>"``,
``"partner:<uuid>"``, ``"eidetic"``), never names; ``body`` holds counts, hashes,
public ids and decimal strings only (no floats, no personal data).

The returned id is the entry's public id; ``ledger.selectors.entry_for(id)`` resolves it
to its ``seq`` once the sequencer has run. The sequencer runs right after the caller's
commit (``transaction.on_commit``: inline where Celery is eager, a queued task otherwise)
and from Celery beat. Tests inside a rolled-back transaction call ``sequence_pending()``
themselves, or use ``django_capture_on_commit_callbacks(execute=True)``.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from config import direct, prepared
from ledger import entries, merkle, note, signing, tree
from ledger.errors import InconsistentLog, InvalidEntry
from ledger.models import Checkpoint, Entry, LedgerHead, PendingEntry, TreeNode

logger = logging.getLogger("eidetic.ledger")


def append(*, kind: str, actor: str, subject: str, body: dict) -> uuid.UUID:
    """Record an entry as part of the caller's transaction; return its public id."""
    try:
        entries.check_fields(kind=kind, actor=actor, subject=subject, body=body)
    except entries.EntryFormatError as error:
        raise InvalidEntry(str(error)) from error
    now = timezone.now()
    entry_id = uuid.uuid4()
    _insert_pending(
        id=entry_id,
        kind=kind,
        actor=actor,
        subject=subject,
        body=body,
        ts=now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        created_at=now,
    )
    _sequence_after_commit(entry_id)
    return entry_id


_PENDING_COLUMNS = ("id", "kind", "actor", "subject", "body", "ts", "created_at")


def _insert_pending(**values) -> None:
    """One INSERT of a pending row, each value prepared by its model field exactly as the
    ORM prepares it, without building the query anew, and sent straight through libpq on
    PostgreSQL (``config.direct``): every consent change and every paid read appends;
    building an ORM insert costs more than running it, and a cursor adds a quarter to the
    client's CPU for it."""
    fields = [PendingEntry._meta.get_field(name) for name in _PENDING_COLUMNS]
    params = [field.get_db_prep_save(values[field.attname], connection) for field in fields]
    direct.execute(prepared.insert_sql(connection, PendingEntry, _PENDING_COLUMNS), params)


_PENDING_READ = ("id", "ts", "kind", "actor", "subject", "body")
_ENTRY_COLUMNS = ("seq", "id", "kind", "actor", "subject", "data", "leaf_hash")


def _write_rows(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert rows that already hold database values: COPY on PostgreSQL, executemany
    elsewhere. The ORM's bulk_create would cost the sequencer more CPU than hashing and
    writing together (it builds an instance and prepares every value of every row)."""
    if not rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.executemany(prepared.insert_sql(connection, model, columns), rows)
            return
        quote = connection.ops.quote_name
        names = ", ".join(quote(name) for name in columns)
        with cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


class _SequencerKick:
    """The on-commit callback of one transaction: sequences the entries it appended."""

    def __init__(self) -> None:
        self.entry_ids: list[str] = []

    def __call__(self) -> None:
        from ledger import tasks  # tasks import services: imported late to avoid the cycle

        tasks.sequence_pending.delay(entry_ids=self.entry_ids)


def _sequence_after_commit(entry_id: uuid.UUID) -> None:
    if not settings.LEDGER.get("SEQUENCE_ON_COMMIT", True):
        return
    # One sequencer run per transaction is enough, however many entries it appended.
    for callback in connection.run_on_commit:
        if isinstance(callback[1], _SequencerKick):
            callback[1].entry_ids.append(str(entry_id))
            return
    kick = _SequencerKick()
    kick.entry_ids.append(str(entry_id))
    # robust: the caller's transaction has committed; a sequencer hiccup must not turn
    # its success into an error. Beat retries within a second.
    transaction.on_commit(kick, robust=True)


# --- the sequencer ----------------------------------------------------------------------


def _locked_head(*, nowait: bool = False) -> LedgerHead:
    """The head row, locked (PostgreSQL: row lock; SQLite: the IMMEDIATE write lock)."""
    head = LedgerHead.objects.select_for_update(nowait=nowait).filter(id=1).first()
    if head is None:  # only after a flush: migration 0002 creates the row
        try:
            with transaction.atomic():
                LedgerHead.objects.create(id=1)
        except IntegrityError:
            pass  # another sequencer created it first
        head = LedgerHead.objects.select_for_update().get(id=1)
    return head


def sequence_pending(*, batch_size: int | None = None, entry_ids: list[str] | None = None) -> int:
    """Give pending entries their place in the log; return how many were sequenced.

    With ``entry_ids`` (the on-commit path) it only has to see those entries sequenced:
    under concurrency another writer's run usually takes them, and finding that out is a
    read instead of a write and an fsync.
    """
    batch_size = batch_size or settings.LEDGER.get("SEQUENCE_BATCH", 1000)
    if entry_ids is not None and connection.features.has_select_for_update_nowait:
        return _sequence_own(entry_ids, batch_size)
    total = 0
    while True:
        count = _sequence_batch(batch_size, only_if_pending=entry_ids)
        total += count
        if count < batch_size:
            return total


OWN_ENTRIES_PATIENCE = 30.0  # seconds; past that, beat's run finishes the job


def _sequence_own(entry_ids: list[str], batch_size: int) -> int:
    """PostgreSQL: take the head lock without waiting, or let its holder do the work.

    Queueing every committer on the lock would serialise one fsync'd batch per writer (a
    convoy); polling instead lets whoever holds the lock sequence everything pending in one
    batch, while the others only read whether their entries are done. A writer returns once
    its entries are sequenced, by itself or by another, so none is ever left stranded.
    """
    total = 0
    deadline = time.monotonic() + OWN_ENTRIES_PATIENCE
    while True:
        try:
            count = _sequence_batch(batch_size, only_if_pending=entry_ids, nowait=True)
            total += count
            if count < batch_size:
                return total
            continue
        except OperationalError:
            pass  # another sequencer holds the head: it will most likely take ours
        if not PendingEntry.objects.filter(id__in=entry_ids).exists() or time.monotonic() > deadline:
            return total
        time.sleep(0.002)


@transaction.atomic
def _sequence_batch(batch_size: int, only_if_pending: list[str] | None = None, *, nowait: bool = False) -> int:
    head = _locked_head(nowait=nowait)
    if only_if_pending is not None and not PendingEntry.objects.filter(id__in=only_if_pending).exists():
        return 0
    # Read after taking the lock: under READ COMMITTED this sees every earlier batch's deletes.
    pending = list(PendingEntry.objects.order_by("created_at", "id").values_list(*_PENDING_READ)[:batch_size])
    if not pending:
        return 0
    builder = merkle.RootBuilder()
    builder.size, builder.stack = head.size, head.frontier_hashes()
    prev = head.last_leaf_hash
    prepare_id = functools.partial(Entry._meta.get_field("id").get_db_prep_value, connection=connection)
    entry_rows, node_rows = [], []
    for seq, (entry_id, ts, kind, actor, subject, body) in enumerate(pending, start=head.size):
        data = entries.encode(seq=seq, ts=ts, kind=kind, actor=actor, subject=subject, body=body, prev=prev)
        leaf = merkle.leaf_hash(data)
        entry_rows.append((seq, prepare_id(entry_id), kind, actor, subject, data, leaf))
        node_rows.extend((TreeNode.key_for(level, index), value) for level, index, value in builder.push(leaf))
        prev = leaf.hex()
    _write_rows(Entry, _ENTRY_COLUMNS, entry_rows)
    _write_rows(TreeNode, ("key", "hash"), node_rows)
    PendingEntry.objects.filter(id__in=[row[0] for row in pending]).delete()
    head.size = builder.size
    head.last_leaf_hash = prev
    head.frontier = b"".join(builder.stack)
    head.save(update_fields=["size", "last_leaf_hash", "frontier", "updated_at"])
    return len(pending)


# --- checkpoints ------------------------------------------------------------------------


@transaction.atomic
def sign_checkpoint() -> Checkpoint | None:
    """Sign the current tree, after proving it consistent with the last checkpoint.

    Returns the new checkpoint, the latest one if the tree has not grown, or None for an
    empty log. Raises InconsistentLog rather than ever signing a fork.
    """
    head = _locked_head()
    if head.size == 0:
        return None
    last = Checkpoint.objects.order_by("-size").first()
    if last is not None and last.size >= head.size:
        return last
    root = head.root()
    if root != tree.root_at(head.size):
        raise InconsistentLog("the sequencer's frontier disagrees with the stored tree")
    if last is not None:
        try:
            merkle.verify_consistency(
                last.size, head.size, bytes(last.root_hash), root, tree.consistency_proof(last.size, head.size)
            )
        except (merkle.ProofError, LookupError) as error:
            logger.error("refusing to sign: tree inconsistent with checkpoint %s", last.size)
            raise InconsistentLog(f"tree of size {head.size} does not extend checkpoint {last.size}") from error
    body = note.CheckpointBody(signing.origin(), head.size, root)
    checkpoint = Checkpoint.objects.create(
        size=head.size,
        root_hash=root,
        note=note.sign(body, signing.private_key(), signing.origin()),
    )
    transaction.on_commit(lambda: _kick_anchor(checkpoint.id), robust=True)
    return checkpoint


def _kick_anchor(checkpoint_id: uuid.UUID) -> None:
    from ledger import tasks

    tasks.anchor_checkpoint.delay(str(checkpoint_id))


def checkpoint_due(*, now: datetime | None = None) -> bool:
    """True when N entries or T seconds (LEDGER settings) have passed since the last checkpoint."""
    size = tree.sequenced_size()
    last = Checkpoint.objects.order_by("-size").only("size", "created_at").first()
    if size == 0 or (last is not None and last.size >= size):
        return False
    if last is None:
        return True
    now = now or timezone.now()
    every_entries = settings.LEDGER["CHECKPOINT_EVERY_ENTRIES"]
    every_seconds = settings.LEDGER["CHECKPOINT_EVERY_SECONDS"]
    return size - last.size >= every_entries or now - last.created_at >= timedelta(seconds=every_seconds)


def maybe_sign_checkpoint() -> Checkpoint | None:
    return sign_checkpoint() if checkpoint_due() else None
