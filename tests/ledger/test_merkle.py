"""RFC 9162 §2.1: known roots and proofs, and property tests over tree sizes 1..300."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.merkle import ProofError

# transparency-dev/merkle testonly/constants.go: leaf inputs and the roots of each prefix.
LEAF_INPUTS = [
    bytes.fromhex(value)
    for value in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]
KNOWN_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
LEAVES = [merkle.leaf_hash(value) for value in LEAF_INPUTS]
ROOT_8 = bytes.fromhex(KNOWN_ROOTS[8])


def h(value: str) -> bytes:
    return bytes.fromhex(value)


def leaves_of(size: int) -> list[bytes]:
    return [merkle.leaf_hash(b"entry %d" % position) for position in range(size)]


@pytest.mark.parametrize("size", range(9))
def test_known_roots(size):
    assert merkle.root_of(LEAVES[:size]).hex() == KNOWN_ROOTS[size]
    assert merkle.subtree_root(LEAVES[:size]).hex() == KNOWN_ROOTS[size]


def test_empty_tree_and_single_empty_leaf():
    assert hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT
    assert merkle.leaf_hash(b"").hex().startswith("6e340b9c")


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (
            0,
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            [
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ],
)
def test_known_inclusion_proofs(index, expected):
    proof = merkle.inclusion_proof(LEAVES, index, 8)
    assert [value.hex() for value in proof] == expected
    merkle.verify_inclusion(index, 8, LEAVES[index], proof, ROOT_8)


@pytest.mark.parametrize(
    ("old", "expected"),
    [
        (
            1,
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (4, ["6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
        (
            6,
            [
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ],
)
def test_known_consistency_proofs(old, expected):
    proof = merkle.consistency_proof(LEAVES, old, 8)
    assert [value.hex() for value in proof] == expected
    merkle.verify_consistency(old, 8, h(KNOWN_ROOTS[old]), ROOT_8, proof)


def test_edge_cases_are_rejected():
    root = merkle.root_of(LEAVES[:1])
    merkle.verify_inclusion(0, 1, LEAVES[0], [], root)  # a one-leaf tree: empty proof, root = leaf
    with pytest.raises(ProofError, match="too long"):
        merkle.verify_inclusion(0, 1, LEAVES[0], [LEAVES[1]], root)
    with pytest.raises(ProofError, match="at least 1"):
        merkle.verify_consistency(0, 8, merkle.EMPTY_ROOT, ROOT_8, [])
    with pytest.raises(ProofError, match="must not exceed"):
        merkle.verify_consistency(8, 4, ROOT_8, h(KNOWN_ROOTS[4]), [])
    with pytest.raises(ProofError, match="32 bytes"):
        merkle.verify_inclusion(0, 8, LEAVES[0], [b"short"], ROOT_8)
    with pytest.raises(ProofError, match="index"):
        merkle.verify_inclusion(8, 8, LEAVES[0], [], ROOT_8)
    merkle.verify_consistency(8, 8, ROOT_8, ROOT_8, [])
    with pytest.raises(ProofError, match="forked"):
        merkle.verify_consistency(8, 8, ROOT_8, h(KNOWN_ROOTS[7]), [])
    with pytest.raises(ProofError, match="empty"):
        merkle.verify_consistency(4, 8, h(KNOWN_ROOTS[4]), ROOT_8, [])


def test_builder_reports_every_complete_subtree():
    builder = merkle.RootBuilder()
    completed = {}
    for leaf in LEAVES:
        for level, index, value in builder.push(leaf):
            completed[(level, index)] = value
    assert completed[(1, 0)].hex().startswith("fac54203")
    assert completed[(2, 1)].hex().startswith("6b47aaf2")
    assert completed[(3, 0)] == ROOT_8
    assert len(completed) == 7  # 4 + 2 + 1 complete subtrees above the leaves


TREE = leaves_of(300)
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def index_and_size(draw):
    size = draw(st.integers(1, 300))
    return draw(st.integers(0, size - 1)), size


@st.composite
def old_and_new(draw):
    new = draw(st.integers(1, 300))
    return draw(st.integers(1, new)), new


@PROPERTY_SETTINGS
@given(index_and_size())
def test_every_inclusion_proof_verifies(params):
    index, size = params
    root = merkle.subtree_root(TREE[:size])
    proof = merkle.inclusion_proof(TREE, index, size)
    merkle.verify_inclusion(index, size, TREE[index], proof, root)
    # the stored-subtree generator agrees with the recursive reference
    lookup = lambda nodes: {(lv, i): merkle.subtree_root(TREE[i << lv : (i + 1) << lv]) for lv, i in nodes}  # noqa: E731
    assert merkle.prove(merkle.inclusion_ranges(index, size), lookup) == proof


@PROPERTY_SETTINGS
@given(old_and_new())
def test_every_consistency_proof_verifies(params):
    old, new = params
    proof = merkle.consistency_proof(TREE, old, new)
    merkle.verify_consistency(old, new, merkle.subtree_root(TREE[:old]), merkle.subtree_root(TREE[:new]), proof)


def _flip(value: bytes, position: int) -> bytes:
    return value[:position] + bytes([value[position] ^ 1]) + value[position + 1 :]


@PROPERTY_SETTINGS
@given(index_and_size(), st.data())
def test_any_mutated_inclusion_proof_fails(params, data):
    index, size = params
    root = merkle.subtree_root(TREE[:size])
    proof = merkle.inclusion_proof(TREE, index, size)
    mutation = data.draw(st.sampled_from(["flip", "drop", "extra", "index", "size", "leaf", "root"]))
    leaf, new_index, new_size = TREE[index], index, size
    if mutation == "flip" and proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        proof[position] = _flip(proof[position], data.draw(st.integers(0, 31)))
    elif mutation == "drop" and proof:
        del proof[data.draw(st.integers(0, len(proof) - 1))]
    elif mutation == "extra":
        proof.insert(data.draw(st.integers(0, len(proof))), TREE[data.draw(st.integers(0, 299))])
    elif mutation == "index" and size > 1:
        new_index = data.draw(st.integers(0, size - 1).filter(lambda other: other != index))
    elif mutation == "size":
        # Replaying the proof against another size, with that size's true root. (With the
        # old root, RFC 9162 verification only sees the path's shape, which sizes can share.)
        new_size = data.draw(st.integers(index + 1, 300).filter(lambda other: other != size))
        root = merkle.subtree_root(TREE[:new_size])
        if merkle.inclusion_proof(TREE, index, new_size) == proof:
            return
    elif mutation == "leaf":
        leaf = _flip(leaf, 0)
    else:
        root = _flip(root, 31)
    if (leaf, new_index, new_size, root) == (TREE[index], index, size, merkle.subtree_root(TREE[:size])) and (
        proof == merkle.inclusion_proof(TREE, index, size)
    ):
        return  # the drawn mutation did not apply (e.g. flipping an empty proof)
    with pytest.raises(ProofError):
        merkle.verify_inclusion(new_index, new_size, leaf, proof, root)


@PROPERTY_SETTINGS
@given(old_and_new(), st.data())
def test_any_mutated_consistency_proof_fails(params, data):
    old, new = params
    old_root, new_root = merkle.subtree_root(TREE[:old]), merkle.subtree_root(TREE[:new])
    proof = merkle.consistency_proof(TREE, old, new)
    original = (old, new, old_root, new_root, list(proof))
    mutation = data.draw(st.sampled_from(["flip", "drop", "extra", "old", "new", "old_root", "new_root"]))
    if mutation == "flip" and proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        proof[position] = _flip(proof[position], data.draw(st.integers(0, 31)))
    elif mutation == "drop" and proof:
        del proof[data.draw(st.integers(0, len(proof) - 1))]
    elif mutation == "extra":
        proof.insert(data.draw(st.integers(0, len(proof))), TREE[data.draw(st.integers(0, 299))])
    elif mutation == "old":
        old = data.draw(st.integers(0, 301).filter(lambda other: other != original[0]))
        old_root = merkle.subtree_root(TREE[:old])  # the true root of the size now claimed
    elif mutation == "new":
        new = data.draw(st.integers(0, 300).filter(lambda other: other != original[1]))
        new_root = merkle.subtree_root(TREE[:new])
    elif mutation == "old_root":
        old_root = _flip(old_root, 5)
    else:
        new_root = _flip(new_root, 5)
    if (old, new, old_root, new_root, proof) == original:
        return
    if 0 < old <= new <= 300 and merkle.consistency_proof(TREE, old, new) == proof:
        return  # the mutated sizes happen to have this very proof: nothing to detect
    with pytest.raises(ProofError):
        merkle.verify_consistency(old, new, old_root, new_root, proof)
