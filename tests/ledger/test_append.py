from __future__ import annotations

import itertools
import uuid

import pytest
from django.db import transaction

from ledger import entries, merkle, selectors, services
from ledger.errors import EntryNotFound, InvalidEntry
from ledger.models import Entry, PendingEntry


def test_it_returns_an_id_that_resolves_to_its_seq(db):
    entry_id = services.append(kind="consent.granted", actor="person:abc", subject="consent:1", body={"scopes": 2})
    assert isinstance(entry_id, uuid.UUID)
    assert selectors.entry_for(entry_id).seq is None  # pending until the sequencer runs
    services.sequence_pending()
    view = selectors.entry_for(entry_id)
    assert view.seq == 0
    assert view.leaf_hash == merkle.leaf_hash(view.data).hex()
    assert view.document["body"] == {"scopes": 2}
    assert view.document["prev"] == entries.GENESIS_PREV


def test_entries_are_canonical_json_chained_by_prev(append_many):
    ids = append_many(5)
    views = [selectors.entry_for(entry_id) for entry_id in ids]
    assert [view.seq for view in views] == [0, 1, 2, 3, 4]
    for before, after in itertools.pairwise(views):
        assert after.document["prev"] == before.leaf_hash
    first = views[0]
    assert first.data.startswith(b'{"actor":"partner:acme","body":{"count":3,"n":0},"kind":"data.accessed","prev":"')
    assert first.document["v"] == 1
    assert first.document["ts"].endswith("Z")


def _failing_change() -> None:
    with transaction.atomic():
        services.append(kind="consent.revoked", actor="person:abc", subject="consent:1", body={})
        raise RuntimeError("the caller's change failed")


def test_a_rolled_back_transaction_leaves_no_entry(db):
    with pytest.raises(RuntimeError):
        _failing_change()
    assert not PendingEntry.objects.exists()
    services.sequence_pending()
    assert not Entry.objects.exists()


def test_sequencing_runs_after_the_callers_commit(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        first = services.append(kind="consent.granted", actor="person:abc", subject="consent:1", body={})
        second = services.append(kind="consent.paused", actor="person:abc", subject="consent:1", body={})
    assert len(callbacks) == 1  # one sequencer run per transaction, however many entries
    assert selectors.entry_for(first).seq == 0
    assert selectors.entry_for(second).seq == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("body", {"amount": 1.5}, "no floats"),
        ("body", {"n": 2**60}, "decimal string"),
        ("kind", "Consent Granted", "kind"),
        ("actor", "", "actor"),
        ("body", ["not", "an", "object"], "body must be a JSON object"),
    ],
)
def test_it_rejects_what_canonical_json_cannot_carry(db, field, value, message):
    fields = {"kind": "value.transferred", "actor": "eidetic", "subject": "person:abc", "body": {}}
    fields[field] = value
    with pytest.raises(InvalidEntry, match=message):
        services.append(**fields)
    assert not PendingEntry.objects.exists()


def test_entry_for_unknown_ids(db):
    with pytest.raises(EntryNotFound):
        selectors.entry_for(uuid.uuid4())
    with pytest.raises(EntryNotFound):
        selectors.entry_for("not-a-uuid")


def test_entries_for_subject_lists_sequenced_then_pending(append_many):
    append_many(2, subject="consent:a")
    append_many(1, subject="consent:b")
    services.append(kind="consent.revoked", actor="person:x", subject="consent:a", body={})
    views = selectors.entries_for_subject("consent:a")
    assert [view.seq for view in views] == [0, 1, None]
    assert [view.kind for view in views][-1] == "consent.revoked"


def test_balance_is_computed_from_transfers(db):
    def transfer(source: str, target: str, amount: str, currency: str = "credits") -> None:
        services.append(
            kind="value.transferred",
            actor="eidetic",
            subject=target,
            body={"from": source, "to": target, "amount": amount, "currency": currency},
        )

    transfer("partner:acme", "person:alice", "10.50")
    transfer("person:alice", "partner:acme", "0.25")
    services.sequence_pending()
    transfer("partner:acme", "person:alice", "1.00")  # committed, not yet sequenced: still counts
    transfer("partner:acme", "person:alice", "99", currency="vouchers")
    assert str(selectors.balance_of("person:alice")) == "11.25"
    assert str(selectors.balance_of("partner:acme")) == "-11.25"
    assert str(selectors.balance_of("person:alice", currency="vouchers")) == "99"
    assert selectors.balance_of("person:nobody") == 0
