"""The log's Ed25519 signing key: from LEDGER["SIGNING_KEY"] (env / *_FILE) or generated locally."""

from __future__ import annotations

import base64
import binascii
import functools
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from django.conf import settings

from ledger import note

KEY_FILE_NAME = "ledger-ed25519.pem"


def _from_text(text: str) -> Ed25519PrivateKey:
    """A PEM private key, or the base64 of the raw 32-byte seed."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = load_pem_private_key(text.encode(), password=None)
    else:
        try:
            seed = base64.b64decode(text, validate=True)
        except binascii.Error as error:
            raise ValueError("LEDGER_SIGNING_KEY must be a PEM key or base64 of a 32-byte seed") from error
        key = Ed25519PrivateKey.from_private_bytes(seed)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("LEDGER_SIGNING_KEY must be an Ed25519 key")
    return key


def _generated(directory: Path) -> Ed25519PrivateKey:
    path = directory / KEY_FILE_NAME
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        # Create with 0600 from the start: the key never sits world-readable, even briefly.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
    return _from_text(path.read_text())


@functools.cache
def _private_key(configured: str | None, directory: str) -> Ed25519PrivateKey:
    return _from_text(configured) if configured else _generated(Path(directory))


def private_key() -> Ed25519PrivateKey:
    config = settings.LEDGER
    return _private_key(config.get("SIGNING_KEY"), str(config["KEY_DIR"]))


def origin() -> str:
    return settings.LEDGER["ORIGIN"]


def verifier_key() -> note.VerifierKey:
    return note.verifier_key_for(origin(), private_key())
