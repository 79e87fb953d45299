"""The Merkle tree as stored: complete-subtree hashes read in O(log n) rows per proof.

A complete subtree's hash never changes once written (the log is append-only), so each
process keeps the ones it has read in a bounded LRU: the upper levels, shared by every
proof, come from memory, and a proof usually costs one query for its lower nodes. The
one event that rewrites nodes is restoring an older backup; the cache is dropped when the
head is seen to shrink, and the restore procedure restarts every process anyway.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock

from django.conf import settings
from django.db import connections, router

from ledger import merkle
from ledger.models import Entry, LedgerHead, TreeNode

Node = tuple[int, int]  # (level, index)


class _NodeCache:
    """A small thread-safe LRU of complete-subtree hashes."""

    def __init__(self) -> None:
        self._items: OrderedDict[Node, bytes] = OrderedDict()
        self._lock = Lock()
        self._largest_size_seen = 0

    @property
    def capacity(self) -> int:
        return settings.LEDGER.get("NODE_CACHE_SIZE", 0)

    def get_many(self, nodes: list[Node]) -> dict[Node, bytes]:
        found: dict[Node, bytes] = {}
        if not self.capacity:
            return found
        with self._lock:
            for node in nodes:
                value = self._items.get(node)
                if value is not None:
                    self._items.move_to_end(node)
                    found[node] = value
        return found

    def put_many(self, values: dict[Node, bytes]) -> None:
        if not self.capacity:
            return
        with self._lock:
            self._items.update(values)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def saw_size(self, size: int) -> None:
        """A head smaller than one seen before means a restore: forget everything."""
        with self._lock:
            if size < self._largest_size_seen:
                self._items.clear()
            self._largest_size_seen = size

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._largest_size_seen = 0


# ~150 bytes a node: the default 50,000 hold every node of levels >= 5 of a 1,000,000-entry tree.
_cache = _NodeCache()


def sequenced_size() -> int:
    # Read on every proof: plain SQL, as the ORM's query building costs more than the read.
    connection = connections[router.db_for_read(LedgerHead)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT size FROM {connection.ops.quote_name(LedgerHead._meta.db_table)} WHERE id = 1")  # noqa: S608
        row = cursor.fetchone()
    size = row[0] if row else 0
    _cache.saw_size(size)
    return size


def lookup(nodes: list[Node]) -> dict[Node, bytes]:
    """Hashes of the complete subtrees ``nodes``: from the cache, else leaves from entries
    and the rest from tree nodes, both in one round trip."""
    found = _cache.get_many(nodes)
    missing = [node for node in nodes if node not in found]
    if missing:
        loaded = _load(missing)
        _cache.put_many(loaded)
        found.update(loaded)
    absent = [node for node in nodes if node not in found]
    if absent:
        raise LookupError(f"tree nodes missing from storage: {absent[:3]}")
    return found


def _load(nodes: list[Node]) -> dict[Node, bytes]:
    leaves = [index for level, index in nodes if level == 0]
    keys = {TreeNode.key_for(level, index): (level, index) for level, index in nodes if level > 0}
    connection = connections[router.db_for_read(Entry)]
    quote = connection.ops.quote_name
    entry_table, node_table = quote(Entry._meta.db_table), quote(TreeNode._meta.db_table)
    parts, params = [], []
    # Table and column names come from the models; every value is a bound parameter.
    if leaves:
        marks = ", ".join(["%s"] * len(leaves))
        parts.append(f"SELECT 0, seq, leaf_hash FROM {entry_table} WHERE seq IN ({marks})")  # noqa: S608
        params += leaves
    if keys:
        marks = ", ".join(["%s"] * len(keys))
        parts.append(f"SELECT 1, {quote('key')}, hash FROM {node_table} WHERE {quote('key')} IN ({marks})")  # noqa: S608
        params += list(keys)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    return {((0, number) if is_node == 0 else keys[number]): bytes(value) for is_node, number, value in rows}


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
