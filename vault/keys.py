"""A person's data key (DEK): creating it, wrapping it under the master key, and what it opens.

The DEK is the root of everything personal: the sealing key, the fingerprint key (for
de-duplication) and the pseudonym key (for the ledger and pairwise partner ids) are all
derived from it with HKDF. Shredding the DEK therefore unlinks all three at once.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.prepared import PreparedQuery
from vault.crypto import associated_data, derive_key, keyed_hash, new_key, seal_bytes, unseal_bytes
from vault.errors import SealBroken, VaultKeyMissing
from vault.keyring import get_keyring
from vault.models import VaultKey


@dataclass(frozen=True)
class PersonKeys:
    owner_uid: UUID
    aead: AESGCM
    fingerprint_key: bytes
    pseudonym_key: bytes

    @classmethod
    def from_dek(cls, owner_uid: UUID, dek: bytes) -> PersonKeys:
        return cls(
            owner_uid=owner_uid,
            aead=AESGCM(derive_key(dek, b"seal")),
            fingerprint_key=derive_key(dek, b"fingerprint"),
            pseudonym_key=derive_key(dek, b"pseudonym"),
        )

    def seal(self, record_type: str, record_id: UUID | str, payload: Any) -> bytes:
        plaintext = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        return seal_bytes(self.aead, plaintext, associated_data(self.owner_uid, record_type, record_id))

    def unseal(self, record_type: str, record_id: UUID | str, blob: bytes) -> Any:
        plaintext = unseal_bytes(self.aead, blob, associated_data(self.owner_uid, record_type, record_id))
        return json.loads(plaintext)

    def seal_raw(self, record_type: str, record_id: UUID | str, data: bytes) -> bytes:
        return seal_bytes(self.aead, data, associated_data(self.owner_uid, record_type, record_id))

    def unseal_raw(self, record_type: str, record_id: UUID | str, blob: bytes) -> bytes:
        return unseal_bytes(self.aead, blob, associated_data(self.owner_uid, record_type, record_id))

    def fingerprint(self, *parts: object) -> str:
        """Keyed hash of a record's identifying content, for de-duplication."""
        return keyed_hash(self.fingerprint_key, "\x1f".join(map(str, parts)).encode())[:32]

    def pseudonym(self, audience: str) -> str:
        """A stable id for this person towards one audience ("ledger", "partner:<uid>", ...).

        Different audiences get unlinkable ids; after erasure none can be recomputed.
        """
        return keyed_hash(self.pseudonym_key, b"eidetic pseudonym\n" + audience.encode())[:32]

    def secret_for(self, purpose: str) -> bytes:
        """A stable per-person secret for one purpose (e.g. privacy-zone edge noise)."""
        return derive_key(self.pseudonym_key, b"secret " + purpose.encode())


def _wrap_aad(owner_uid: UUID, kek_id: str) -> bytes:
    return f"eidetic/dek/v1/{owner_uid}/{kek_id}".encode()


def wrap_dek(owner_uid: UUID, dek: bytes) -> tuple[str, bytes]:
    kek_id, kek = get_keyring().current()
    return kek_id, seal_bytes(AESGCM(kek), dek, _wrap_aad(owner_uid, kek_id))


def unwrap_dek(owner_uid: UUID, kek_id: str, wrapped: bytes) -> bytes:
    kek = get_keyring().get(kek_id)
    try:
        return unseal_bytes(AESGCM(kek), wrapped, _wrap_aad(owner_uid, kek_id))
    except SealBroken:
        raise SealBroken("This data key does not open under its master key.") from None


class _UnwrappedCache:
    """Unwrapping costs a KEK decryption and three HKDFs; cache a few hundred people's keys.

    Entries are keyed by the wrapped bytes, and the VaultKey row is read on every lookup,
    so an erased person's keys stop working at once in every process.
    """

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._items: OrderedDict[tuple[UUID, bytes], PersonKeys] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, owner_uid: UUID, kek_id: str, wrapped: bytes) -> PersonKeys:
        cache_key = (owner_uid, bytes(wrapped))
        with self._lock:
            found = self._items.get(cache_key)
            if found is not None:
                self._items.move_to_end(cache_key)
                return found
        keys = PersonKeys.from_dek(owner_uid, unwrap_dek(owner_uid, kek_id, wrapped))
        with self._lock:
            self._items[cache_key] = keys
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return keys

    def forget(self, owner_uid: UUID) -> None:
        with self._lock:
            for cache_key in [k for k in self._items if k[0] == owner_uid]:
                del self._items[cache_key]


_cache = _UnwrappedCache()


def create_vault_key(owner_uid: UUID) -> VaultKey:
    """Give a person a fresh random DEK, stored only wrapped. Idempotent per person."""
    existing = VaultKey.objects.filter(owner_uid=owner_uid).first()
    if existing is not None:
        return existing
    kek_id, wrapped = wrap_dek(owner_uid, new_key())
    try:
        with transaction.atomic(using="keys"):
            return VaultKey.objects.create(owner_uid=owner_uid, wrapped_dek=wrapped, kek_id=kek_id)
    except IntegrityError:  # created concurrently: keep the first
        return VaultKey.objects.get(owner_uid=owner_uid)


# Read on every use of a person's keys: compiled once (config.prepared). A slice, not
# .first(): owner_uid is unique, and ordering would only add work.
_wrapped_key = PreparedQuery(
    lambda owner_uid: VaultKey.objects.filter(owner_uid=owner_uid).values_list("kek_id", "wrapped_dek")[:1],
    using="keys",
    owner_uid=VaultKey._meta.get_field("owner_uid"),
)


def keys_for_uid(owner_uid: UUID) -> PersonKeys:
    row = next(iter(_wrapped_key.rows(owner_uid=owner_uid)), None)
    if row is None:
        _cache.forget(owner_uid)
        raise VaultKeyMissing()
    kek_id, wrapped = row
    return _cache.get(owner_uid, kek_id, bytes(wrapped))


def keys_for(person) -> PersonKeys:
    """The keys that open ``person``'s vault. VaultKeyMissing once the person is erased."""
    return keys_for_uid(person.uid)


def rewrap(vault_key: VaultKey) -> bool:
    """Re-wrap one DEK under the current KEK. Returns False when it already is."""
    current_id, _ = get_keyring().current()
    if vault_key.kek_id == current_id:
        return False
    dek = unwrap_dek(vault_key.owner_uid, vault_key.kek_id, bytes(vault_key.wrapped_dek))
    kek_id, wrapped = wrap_dek(vault_key.owner_uid, dek)
    with transaction.atomic(using="keys"):
        # Compare-and-set on the old wrapping, so a concurrent rotation cannot lose a key.
        updated = VaultKey.objects.filter(pk=vault_key.pk, kek_id=vault_key.kek_id).update(
            wrapped_dek=wrapped, kek_id=kek_id, rotated_at=timezone.now()
        )
    return bool(updated)


def shred(owner_uid: UUID) -> bool:
    """Destroy a person's DEK. Returns whether there was one."""
    with transaction.atomic(using="keys"):
        deleted, _ = VaultKey.objects.filter(owner_uid=owner_uid).delete()
    _cache.forget(owner_uid)
    return bool(deleted)
