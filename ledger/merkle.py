"""RFC 9162 §2.1 Merkle tree hashing, proofs and their verification. Pure Python, no Django.

The verifier CLI imports this module on an auditor's machine, so it must stay free of
Django and of anything Eidetic-specific. Proof *generation* is expressed over "complete
subtrees" (aligned ranges of 2^k leaves) so the database can answer it from stored
node hashes in O(log n) reads instead of rebuilding the tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
LEAF_HASHER = hashlib.sha256(b"\x00")  # copy() and update(entry): the leaf hash
_sha256 = hashlib.sha256


class ProofError(ValueError):
    """A proof or its parameters are malformed or do not verify."""


def leaf_hash(entry: bytes) -> bytes:
    # Copying a primed hasher avoids concatenating (copying) every entry with the prefix.
    hasher = LEAF_HASHER.copy()
    hasher.update(entry)
    return hasher.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


# --- complete subtrees ------------------------------------------------------------------
# A complete subtree is (level, index): the 2^level leaves starting at index * 2^level.


def complete_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """Decompose the RFC 9162 subtree [start, end) into complete subtrees, left to right.

    Only valid for ranges that occur in RFC 9162 trees: ``start`` is a multiple of the
    largest power of two <= end - start, so the decomposition follows the bits of the size.
    """
    parts = []
    size = end - start
    position = start
    for level in range(size.bit_length() - 1, -1, -1):
        if size & (1 << level):
            parts.append((level, position >> level))
            position += 1 << level
    return parts


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """Hash of a subtree from its complete parts (left to right): the right-most bind first."""
    result = hashes[-1]
    for part in reversed(hashes[:-1]):
        result = node_hash(part, result)
    return result


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 9162 PATH(index, D[size]) as leaf ranges, in proof order (bottom up)."""
    path: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start += k
    path.reverse()
    return path


def consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """RFC 9162 PROOF(old, D[new]) as leaf ranges, in proof order."""
    path: list[tuple[int, int]] = []
    start, end, include_self = 0, new, True
    m = old
    # SUBPROOF(m, D[start:end], b) unrolled: every step records the sibling range.
    while True:
        n = end - start
        if m == n:
            if not include_self:
                path.append((start, end))
            break
        k = split_point(n)
        if m <= k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start += k
            m -= k
            include_self = False
    path.reverse()
    return path


def check_proof_params_inclusion(index: int, size: int) -> None:
    if size <= 0:
        raise ProofError("tree size must be at least 1")
    if index < 0 or index >= size:
        raise ProofError(f"index must be in 0..{size - 1}")


def check_proof_params_consistency(old: int, new: int) -> None:
    if old <= 0:
        raise ProofError("old size must be at least 1 (a proof from the empty tree is meaningless)")
    if new < old:
        raise ProofError("old size must not exceed new size")


def prove(
    ranges: Iterable[tuple[int, int]], lookup: Callable[[list[tuple[int, int]]], dict[tuple[int, int], bytes]]
) -> list[bytes]:
    """Hashes of ``ranges`` using ``lookup`` for complete subtree hashes, fetched in one call."""
    ranges = list(ranges)
    parts = [complete_subtrees(start, end) for start, end in ranges]
    known = lookup(sorted({node for nodes in parts for node in nodes}))
    return [fold_right([known[node] for node in nodes]) for nodes in parts]


# --- trees in memory ----------------------------------------------------------------------


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the given leaf hashes (iterative, via the right-edge stack)."""
    builder = RootBuilder()
    for leaf in leaf_hashes:
        builder.push(leaf)
    return builder.root()


class RootBuilder:
    """Streaming MTH: push leaf hashes in order; ``root()`` at any size costs O(log n).

    ``stack`` holds the complete subtrees on the right edge (largest first), which is
    exactly the decomposition of the current size into powers of two.
    """

    __slots__ = ("size", "stack")

    def __init__(self) -> None:
        self.size = 0
        self.stack: list[bytes] = []

    def push(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf; return the complete subtrees (level >= 1, index, hash) it completed."""
        stack = self.stack
        stack.append(leaf)
        self.size += 1
        completed = []
        size, level = self.size, 0
        while not size & 1:
            right = stack.pop()
            stack[-1] = node_hash(stack[-1], right)
            size >>= 1
            level += 1
            completed.append((level, size - 1, stack[-1]))
        return completed

    def push_fast(self, leaf: bytes) -> None:
        """``push`` without reporting completed nodes (the verifier's hot loop)."""
        stack = self.stack
        stack.append(leaf)
        self.size += 1
        size = self.size
        while not size & 1:
            right = stack.pop()
            stack[-1] = _sha256(b"\x01" + stack[-1] + right).digest()
            size >>= 1

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY_ROOT
        return fold_right(self.stack)


def tree_levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every complete subtree hash, level by level (levels[0] = the leaves): a batch build
    that costs one list comprehension per level instead of a Python loop per leaf."""
    levels = [leaves]
    current = leaves
    sha256 = _sha256
    while len(current) > 1:
        current = [
            sha256(b"\x01" + left + right).digest() for left, right in zip(current[0::2], current[1::2], strict=False)
        ]
        levels.append(current)
    return levels


def root_from_levels(levels: list[list[bytes]], size: int) -> bytes:
    """MTH of the first ``size`` leaves, from ``tree_levels`` output (O(log n))."""
    if size == 0:
        return EMPTY_ROOT
    return fold_right([levels[level][index] for level, index in complete_subtrees(0, size)])


def subtree_root(leaves: Sequence[bytes]) -> bytes:
    """Recursive MTH straight from RFC 9162 (reference implementation for tests)."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = split_point(n)
    return node_hash(subtree_root(leaves[:k]), subtree_root(leaves[k:]))


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int) -> list[bytes]:
    check_proof_params_inclusion(index, size)
    return [subtree_root(leaves[a:b]) for a, b in inclusion_ranges(index, size)]


def consistency_proof(leaves: Sequence[bytes], old: int, new: int) -> list[bytes]:
    check_proof_params_consistency(old, new)
    return [subtree_root(leaves[a:b]) for a, b in consistency_ranges(old, new)]


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) -------------------------------------------


def _check_hashes(*hashes: bytes) -> None:
    for value in hashes:
        if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
            raise ProofError("every hash must be exactly 32 bytes")


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise ProofError unless ``proof`` shows leaf ``index`` is in the tree of ``size`` with ``root``."""
    check_proof_params_inclusion(index, size)
    _check_hashes(leaf, root, *proof)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    if r != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Raise ProofError unless ``proof`` shows the tree of size ``old`` is a prefix of ``new``."""
    check_proof_params_consistency(old, new)
    _check_hashes(old_root, new_root, *proof)
    if old == new:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError("equal sizes with different roots: the log forked")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    if old & (old - 1) == 0:  # old is a power of two: its root is the implicit first node
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != old_root:
        raise ProofError("consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("consistency proof does not lead to the new root")
