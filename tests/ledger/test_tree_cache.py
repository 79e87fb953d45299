"""The proof-node cache (ledger.tree): same proofs as storage, fewer reads, and nothing
stale after the log shrinks (a restored backup)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger import merkle, selectors, services, tree
from ledger.models import Entry


@pytest.fixture
def node_cache(settings):
    settings.LEDGER = {**settings.LEDGER, "NODE_CACHE_SIZE": 10_000}
    tree._cache.clear()
    yield
    tree._cache.clear()


def _leaf(seq: int) -> bytes:
    return bytes(Entry.objects.get(seq=seq).leaf_hash)


def test_cached_proofs_equal_proofs_from_storage(append_many, node_cache, settings):
    append_many(300)
    size = selectors.sequenced_size()
    root = tree.root_at(size)
    first = {index: selectors.inclusion_proof(index=index, size=size) for index in (0, 7, 150, 299)}
    again = {index: selectors.inclusion_proof(index=index, size=size) for index in (0, 7, 150, 299)}
    settings.LEDGER = {**settings.LEDGER, "NODE_CACHE_SIZE": 0}
    uncached = {index: selectors.inclusion_proof(index=index, size=size) for index in (0, 7, 150, 299)}
    assert first == again == uncached
    for index, proof in first.items():
        merkle.verify_inclusion(index, size, _leaf(index), proof, root)  # raises when wrong


def test_a_repeated_proof_reads_only_the_head(append_many, node_cache):
    append_many(64)
    size = selectors.sequenced_size()
    selectors.inclusion_proof(index=5, size=size)
    with CaptureQueriesContext(connection) as queries:
        selectors.inclusion_proof(index=5, size=size)
    assert len(queries) == 1  # the head's size; every node came from memory
    assert "ledger_ledgerhead" in queries.captured_queries[0]["sql"]


def test_a_shrunk_log_drops_the_cache(append_many, node_cache):
    append_many(20)
    size = selectors.sequenced_size()
    selectors.inclusion_proof(index=3, size=size)
    assert tree._cache.get_many([(0, 2)])  # the sibling leaf of entry 3
    tree._cache.saw_size(size - 1)  # what the head reads after an older backup is restored
    assert tree._cache.get_many([(0, 2)]) == {}


def test_the_cache_stays_within_its_capacity(append_many, node_cache, settings):
    settings.LEDGER = {**settings.LEDGER, "NODE_CACHE_SIZE": 5}
    append_many(40)
    size = selectors.sequenced_size()
    for index in range(0, 40, 3):
        selectors.inclusion_proof(index=index, size=size)
    assert len(tree._cache._items) == 5


def test_the_ledger_still_verifies_with_the_cache(append_many, node_cache):
    append_many(10)
    selectors.inclusion_proof(index=2, size=selectors.sequenced_size())
    services.append(kind="data.accessed", actor="partner:acme", subject="person:p2", body={"count": 1})
    services.sequence_pending()
    assert selectors.verify_database(check_anchors=False).ok
