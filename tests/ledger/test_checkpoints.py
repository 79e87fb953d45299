from __future__ import annotations

import pytest

from ledger import merkle, note, selectors, services, signing, tree
from ledger.errors import InconsistentLog
from ledger.models import Checkpoint, Entry, TreeNode


def test_stored_tree_answers_proofs_like_the_reference(append_many):
    append_many(37)
    leaves = [bytes(value) for value in Entry.objects.order_by("seq").values_list("leaf_hash", flat=True)]
    for size in (1, 2, 7, 16, 31, 37):
        assert tree.root_at(size) == merkle.subtree_root(leaves[:size])
        for index in (0, size // 2, size - 1):
            assert tree.inclusion_proof(index, size) == merkle.inclusion_proof(leaves, index, size)
    for old, new in ((1, 37), (8, 16), (13, 37), (37, 37)):
        assert tree.consistency_proof(old, new) == merkle.consistency_proof(leaves, old, new)


def test_sequencing_in_small_batches_builds_the_same_tree(db):
    for position in range(23):
        services.append(kind="data.accessed", actor="eidetic", subject="s", body={"n": position})
    services.sequence_pending(batch_size=5)
    leaves = [bytes(value) for value in Entry.objects.order_by("seq").values_list("leaf_hash", flat=True)]
    assert [entry.seq for entry in Entry.objects.all()] == list(range(23))
    assert tree.root_at(23) == merkle.root_of(leaves)


def test_sign_checkpoint_writes_a_c2sp_signed_note(append_many):
    assert services.sign_checkpoint() is None  # nothing to sign in an empty log
    append_many(5)
    checkpoint = services.sign_checkpoint()
    lines = checkpoint.note.split("\n")
    assert lines[0] == signing.origin()
    assert lines[1] == "5"
    assert lines[3] == ""
    assert lines[4].startswith("\u2014 " + signing.origin() + " ")
    key = note.parse_verifier_key(selectors.verifier_key())
    body = note.open_note(checkpoint.note, key)
    assert body.size == 5
    assert body.root == tree.root_at(5) == bytes(checkpoint.root_hash)
    assert services.sign_checkpoint() == checkpoint  # the tree has not grown: no new checkpoint


def test_a_tampered_note_does_not_open(append_many):
    append_many(3)
    checkpoint = services.sign_checkpoint()
    key = note.parse_verifier_key(selectors.verifier_key())
    with pytest.raises(note.NoteError, match="does not verify"):
        note.open_note(checkpoint.note.replace("\n3\n", "\n4\n"), key)
    other = note.verifier_key_for(
        signing.origin(),
        __import__("cryptography.hazmat.primitives.asymmetric.ed25519", fromlist=["x"]).Ed25519PrivateKey.generate(),
    )
    with pytest.raises(note.NoteError, match="no signature"):
        note.open_note(checkpoint.note, other)


def test_verifier_key_format():
    key = signing.verifier_key()
    text = str(key)
    name, key_id, encoded = text.split("+", 2)
    assert name == signing.origin()
    assert len(key_id) == 8
    assert note.parse_verifier_key(text).key_id == key.key_id
    with pytest.raises(note.NoteError, match="key id"):
        note.parse_verifier_key(f"{name}+00000000+{encoded}")


def test_every_checkpoint_is_kept_and_proven_consistent(append_many):
    append_many(4)
    first = services.sign_checkpoint()
    append_many(9)
    second = services.sign_checkpoint()
    assert [checkpoint.size for checkpoint in Checkpoint.objects.order_by("size")] == [4, 13]
    merkle.verify_consistency(4, 13, bytes(first.root_hash), bytes(second.root_hash), tree.consistency_proof(4, 13))


def test_the_signer_refuses_to_sign_a_fork(append_many):
    from django.db import connection

    from ledger import triggers

    append_many(6)
    services.sign_checkpoint()
    append_many(2)
    # An attacker (or a bug) rewrites the stored hash of leaves 0..3, inside the signed prefix.
    triggers.remove(connection)
    TreeNode.objects.filter(key=TreeNode.key_for(2, 0)).update(hash=b"\x00" * 32)
    with pytest.raises(InconsistentLog):
        services.sign_checkpoint()
    assert Checkpoint.objects.count() == 1


def test_checkpoint_due_after_n_entries_or_t_seconds(append_many, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.LEDGER = {**settings.LEDGER, "CHECKPOINT_EVERY_ENTRIES": 10, "CHECKPOINT_EVERY_SECONDS": 60}
    assert not services.checkpoint_due()
    append_many(3)
    assert services.checkpoint_due()  # the first checkpoint is due at once
    services.maybe_sign_checkpoint()
    append_many(3)
    assert not services.checkpoint_due()
    assert services.checkpoint_due(now=timezone.now() + timedelta(seconds=61))
    append_many(7)
    assert services.checkpoint_due()
    assert services.maybe_sign_checkpoint().size == 13
