"""The Merkle tree as stored: complete-subtree hashes read in O(log n) rows per proof."""

from __future__ import annotations

from ledger import merkle
from ledger.models import Entry, LedgerHead, TreeNode


def sequenced_size() -> int:
    head = LedgerHead.objects.filter(id=1).values_list("size", flat=True).first()
    return head or 0


def lookup(nodes: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """Hashes of the complete subtrees ``nodes``: leaves from entries, the rest from tree nodes."""
    leaves = [index for level, index in nodes if level == 0]
    keys = {TreeNode.key_for(level, index): (level, index) for level, index in nodes if level > 0}
    found: dict[tuple[int, int], bytes] = {}
    if leaves:
        for seq, leaf in Entry.objects.filter(seq__in=leaves).values_list("seq", "leaf_hash"):
            found[(0, seq)] = bytes(leaf)
    if keys:
        for key, value in TreeNode.objects.filter(key__in=keys).values_list("key", "hash"):
            found[keys[key]] = bytes(value)
    missing = [node for node in nodes if node not in found]
    if missing:
        raise LookupError(f"tree nodes missing from storage: {missing[:3]}")
    return found


def root_at(size: int) -> bytes:
    if size == 0:
        return merkle.EMPTY_ROOT
    return merkle.prove([(0, size)], lookup)[0]


def inclusion_proof(index: int, size: int) -> list[bytes]:
    merkle.check_proof_params_inclusion(index, size)
    return merkle.prove(merkle.inclusion_ranges(index, size), lookup)


def consistency_proof(old: int, new: int) -> list[bytes]:
    merkle.check_proof_params_consistency(old, new)
    return merkle.prove(merkle.consistency_ranges(old, new), lookup)
