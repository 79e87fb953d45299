"""Sealing values with AES-256-GCM, and the key derivations built on a person's data key.

A sealed blob is ``version (1 byte) || nonce (12 bytes) || ciphertext+tag``. The associated
data binds it to its owner, record type and record id, so a blob copied to another row
or another owner's vault fails authentication instead of opening.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vault.errors import SealBroken

SEAL_VERSION = b"\x01"
NONCE_BYTES = 12
KEY_BYTES = 32


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def associated_data(owner_uid: UUID | str, record_type: str, record_id: UUID | str) -> bytes:
    return f"eidetic/v1/{owner_uid}/{record_type}/{record_id}".encode()


def seal_bytes(aead: AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return SEAL_VERSION + nonce + aead.encrypt(nonce, plaintext, aad)


def unseal_bytes(aead: AESGCM, blob: bytes, aad: bytes) -> bytes:
    blob = bytes(blob)
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] != SEAL_VERSION:
        raise SealBroken()
    try:
        return aead.decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], aad)
    except InvalidTag:
        raise SealBroken() from None


def derive_key(root: bytes, purpose: bytes) -> bytes:
    """Independent subkeys from one root key (HKDF-SHA256), one per purpose."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"eidetic " + purpose).derive(root)


def keyed_hash(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()
