"""The ledger's read side, for other apps, the auditor API and the portal pages.

Everything here is publishable: entries hold pseudonyms, public ids, counts and hashes only.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings

from ledger import entries, merkle, note, signing, tree
from ledger.errors import CheckpointNotFound, EntryNotFound, EntryNotSequenced, InvalidParameter
from ledger.models import Anchor, Checkpoint, Entry, PendingEntry

RECEIPT_FORMAT = "eidetic-ledger-receipt/1"
PROGRESS_EVERY = 2000


@dataclass(frozen=True)
class EntryView:
    """One entry as the rest of Eidetic sees it. ``seq``/``data``/``leaf_hash`` are None while pending."""

    id: uuid.UUID
    kind: str
    actor: str
    subject: str
    seq: int | None = None
    data: bytes | None = None
    leaf_hash: str | None = None
    document: dict[str, Any] = field(default_factory=dict)

    @property
    def sequenced(self) -> bool:
        return self.seq is not None


def _view_of_entry(entry: Entry) -> EntryView:
    data = bytes(entry.data)
    return EntryView(
        id=entry.id,
        kind=entry.kind,
        actor=entry.actor,
        subject=entry.subject,
        seq=entry.seq,
        data=data,
        leaf_hash=bytes(entry.leaf_hash).hex(),
        document=entries.decode(data),
    )


def _view_of_pending(pending: PendingEntry) -> EntryView:
    document = {"kind": pending.kind, "actor": pending.actor, "subject": pending.subject, "body": pending.body}
    return EntryView(id=pending.id, kind=pending.kind, actor=pending.actor, subject=pending.subject, document=document)


def _parse_uuid(value: uuid.UUID | str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as error:
        raise EntryNotFound("no ledger entry has this id") from error


def entry_for(entry_id: uuid.UUID | str) -> EntryView:
    """The entry appended with this id, sequenced or still pending; EntryNotFound otherwise."""
    entry_id = _parse_uuid(entry_id)
    entry = Entry.objects.filter(id=entry_id).first()
    if entry is not None:
        return _view_of_entry(entry)
    pending = PendingEntry.objects.filter(id=entry_id).first()
    if pending is not None:
        return _view_of_pending(pending)
    raise EntryNotFound("no ledger entry has this id")


def entries_for_subject(subject: str) -> list[EntryView]:
    """Every entry about ``subject``: sequenced ones in log order, then pending ones."""
    sequenced = [_view_of_entry(entry) for entry in Entry.objects.filter(subject=subject).order_by("seq")]
    pending = [_view_of_pending(item) for item in PendingEntry.objects.filter(subject=subject)]
    return sequenced + pending


def sequenced_size() -> int:
    return tree.sequenced_size()


def entries_page(*, start: int, end: int | None = None) -> list[Entry]:
    """Entries start..end-1 (end exclusive), at most LEDGER["PAGE_SIZE"] of them."""
    if start < 0:
        raise InvalidParameter("start must be 0 or more")
    if end is not None and end <= start:
        raise InvalidParameter("end must be greater than start")
    size = tree.sequenced_size()
    if start >= size and not (start == 0 and size == 0):
        raise InvalidParameter(f"start must be below the log size ({size})")
    limit = start + settings.LEDGER["PAGE_SIZE"]
    end = min(end if end is not None else size, size, limit)
    return list(Entry.objects.filter(seq__gte=start, seq__lt=end).order_by("seq"))


# --- checkpoints and proofs ---------------------------------------------------------------


def latest_checkpoint() -> Checkpoint:
    checkpoint = Checkpoint.objects.order_by("-size").first()
    if checkpoint is None:
        raise CheckpointNotFound("no checkpoint has been signed yet")
    return checkpoint


def checkpoint_of_size(size: int) -> Checkpoint:
    if size <= 0:
        raise InvalidParameter("size must be 1 or more")
    checkpoint = Checkpoint.objects.filter(size=size).first()
    if checkpoint is None:
        raise CheckpointNotFound(f"no checkpoint was signed at size {size}")
    return checkpoint


def checkpoints() -> list[Checkpoint]:
    return list(Checkpoint.objects.order_by("-size").prefetch_related("anchors"))


def latest_anchor_of(checkpoint: Checkpoint) -> Anchor | None:
    return checkpoint.anchors.order_by("-created_at").first()


def latest_anchor() -> Anchor | None:
    """The newest anchor of any checkpoint (the latest checkpoint may not be anchored yet)."""
    return Anchor.objects.select_related("checkpoint").order_by("-created_at").first()


def verifier_key() -> str:
    return str(signing.verifier_key())


def _check_size(size: int, name: str = "size") -> None:
    current = tree.sequenced_size()
    if size > current:
        raise InvalidParameter(f"{name} ({size}) is beyond the log size ({current})")


def inclusion_proof(*, index: int, size: int) -> list[bytes]:
    try:
        merkle.check_proof_params_inclusion(index, size)
    except merkle.ProofError as error:
        raise InvalidParameter(str(error)) from error
    _check_size(size)
    return tree.inclusion_proof(index, size)


def consistency_proof(*, old: int, new: int) -> list[bytes]:
    try:
        merkle.check_proof_params_consistency(old, new)
    except merkle.ProofError as error:
        raise InvalidParameter(str(error)) from error
    _check_size(new, "new")
    return tree.consistency_proof(old, new)


def root_at(size: int) -> bytes:
    _check_size(size)
    return tree.root_at(size)


# --- receipts --------------------------------------------------------------------------------


def anchor_dict(anchor: Anchor | None) -> dict[str, Any] | None:
    if anchor is None:
        return None
    return {
        "chain_id": anchor.chain_id,
        "tx_hash": anchor.tx_hash,
        "block_number": anchor.block_number,
        "backend": anchor.backend,
    }


def receipt_for(entry_id: uuid.UUID | str, *, sign_if_needed: bool = True) -> dict[str, Any]:
    """A self-contained receipt: entry bytes, index, signed checkpoint, inclusion proof, anchor.

    If no checkpoint covers the entry yet and ``sign_if_needed``, one is signed now (the
    signer still proves consistency first); otherwise EntryNotSequenced is raised.
    """
    view = entry_for(entry_id)
    if not view.sequenced:
        raise EntryNotSequenced("the entry is recorded but not yet sequenced; try again in a moment")
    checkpoint = Checkpoint.objects.filter(size__gt=view.seq).order_by("size").first()
    if checkpoint is None and sign_if_needed:
        from ledger import services  # a write, on the rare path where no checkpoint covers the entry

        checkpoint = services.sign_checkpoint()
    if checkpoint is None or checkpoint.size <= view.seq:
        raise EntryNotSequenced("no signed checkpoint covers this entry yet")
    proof = tree.inclusion_proof(view.seq, checkpoint.size)
    return {
        "format": RECEIPT_FORMAT,
        "entry_id": str(view.id),
        "index": view.seq,
        "entry": base64.b64encode(view.data).decode(),
        "leaf_hash": view.leaf_hash,
        "checkpoint": checkpoint.note,
        "tree_size": checkpoint.size,
        "inclusion_proof": [base64.b64encode(value).decode() for value in proof],
        "anchor": anchor_dict(latest_anchor_of(checkpoint)),
        "key": verifier_key(),
    }


# --- balances ------------------------------------------------------------------------------------

VALUE_TRANSFERRED = "value.transferred"


def _transfer_delta(body: dict, party: str, currency: str) -> Decimal:
    if body.get("currency", "credits") != currency:
        return Decimal(0)
    try:
        amount = Decimal(str(body.get("amount", "0")))
    except InvalidOperation:
        return Decimal(0)  # append() accepts any JSON body; an unreadable amount moves nothing
    delta = Decimal(0)
    if body.get("to") == party:
        delta += amount
    if body.get("from") == party:
        delta -= amount
    return delta


def balance_of(party: str, *, currency: str = "credits") -> Decimal:
    """Net of every committed ``value.transferred`` entry to and from ``party``.

    Computed from the ledger itself (sequenced entries, plus committed ones the sequencer
    has not reached yet, so a balance never lags behind a transfer its caller just made).
    """
    total = Decimal(0)
    # JCS leaves plain printable ASCII as is, so the party's bytes can pre-filter entries.
    needle = (
        f'"{party}"'.encode()
        if party.isascii() and party.isprintable() and '"' not in party and "\\" not in party
        else b""
    )
    for data in Entry.objects.filter(kind=VALUE_TRANSFERRED).values_list("data", flat=True).iterator():
        data = bytes(data)
        if needle in data:  # cheap filter before parsing
            total += _transfer_delta(entries.decode(data).get("body", {}), party, currency)
    for body in PendingEntry.objects.filter(kind=VALUE_TRANSFERRED).values_list("body", flat=True):
        total += _transfer_delta(body, party, currency)
    return total


# --- verification ------------------------------------------------------------------------------


def verify_database(
    *, progress: bool = False, check_anchors: bool = True, on_progress: Callable[[int], None] | None = None
):
    """Run the auditor's verifier over the database (entries, checkpoints, anchors); return its Report.

    ``on_progress(entries read so far)`` is called every ``PROGRESS_EVERY`` entries (for the portal's job page).
    """
    from ledger import verify
    from ledger.anchoring import get_anchor

    key = note.parse_verifier_key(verifier_key())
    verifier = verify.LogVerifier(key)
    anchor_reader = get_anchor() if check_anchors else None
    for checkpoint in Checkpoint.objects.order_by("size").prefetch_related("anchors"):
        verifier.add_checkpoint(checkpoint.note, anchor_dict(latest_anchor_of(checkpoint)), source="database")
    rows = Entry.objects.order_by("seq").values_list("seq", "data", "leaf_hash").iterator(chunk_size=5000)
    witness = bytearray()

    def stream():
        for seq, data, leaf in rows:
            witness.extend(leaf)
            if on_progress is not None and seq % PROGRESS_EVERY == 0 and seq:
                on_progress(seq)
            yield seq, bytes(data)

    return verifier.run(
        stream(), witness=witness, total=tree.sequenced_size(), progress=progress, anchor_reader=anchor_reader
    )
