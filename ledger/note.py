"""C2SP tlog-checkpoint bodies and C2SP signed notes with Ed25519. Pure Python (+ cryptography).

Body: ``<origin>\\n<size>\\n<base64 root>\\n``. Note: body, a blank line, then one line per
signature ``— <key name> <base64(4-byte key id || signature)>``. Verifier key:
``<name>+<hex key id>+<base64(0x01 || public key)>``; key id = SHA-256(name || 0x0A || 0x01 || key)[:4].
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519_TYPE = b"\x01"
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space


class NoteError(ValueError):
    """A checkpoint, note or key is malformed, or its signature does not verify."""


@dataclass(frozen=True)
class CheckpointBody:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    def __str__(self) -> str:
        raw = self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(ED25519_TYPE + raw).decode()}"


def key_id_for(name: str, public_key: Ed25519PublicKey) -> bytes:
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(name.encode() + b"\n" + ED25519_TYPE + raw).digest()[:4]


def verifier_key_for(name: str, private_key: Ed25519PrivateKey) -> VerifierKey:
    public_key = private_key.public_key()
    return VerifierKey(name, key_id_for(name, public_key), public_key)


def parse_verifier_key(text: str) -> VerifierKey:
    try:
        name, key_id_hex, encoded = text.strip().split("+", 2)
        key_id = bytes.fromhex(key_id_hex)
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error) as error:
        raise NoteError("verifier key must look like <name>+<hex key id>+<base64 key>") from error
    if not name or len(key_id) != 4 or len(raw) != 33 or raw[:1] != ED25519_TYPE:
        raise NoteError("verifier key is not an Ed25519 C2SP key")
    public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
    if key_id_for(name, public_key) != key_id:
        raise NoteError("verifier key id does not match its name and key")
    return VerifierKey(name, key_id, public_key)


def sign(body: CheckpointBody, private_key: Ed25519PrivateKey, key_name: str) -> str:
    text = body.text()
    key_id = key_id_for(key_name, private_key.public_key())
    signature = base64.b64encode(key_id + private_key.sign(text.encode())).decode()
    return f"{text}\n{SIGNATURE_PREFIX}{key_name} {signature}\n"


def parse_body(text: str) -> CheckpointBody:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("checkpoint body must have origin, size and root lines, each ending in a newline")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not origin or not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise NoteError("checkpoint origin must be non-empty and size a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error as error:
        raise NoteError("checkpoint root is not base64") from error
    if len(root) != 32:
        raise NoteError("checkpoint root must be 32 bytes")
    return CheckpointBody(origin, int(size_text), root)


def open_note(note: str, key: VerifierKey) -> CheckpointBody:
    """The checkpoint in ``note`` if ``key`` signed it; NoteError otherwise."""
    if "\n\n" not in note:
        raise NoteError("signed note has no blank line before its signatures")
    body_text, signatures = note.split("\n\n", 1)
    body_text += "\n"
    for line in signatures.split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            continue
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
        if name != key.name:
            continue
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            continue
        if raw[:4] != key.key_id:
            continue
        try:
            key.public_key.verify(raw[4:], body_text.encode())
        except InvalidSignature as error:
            raise NoteError(f"signature by {key.name} does not verify") from error
        return parse_body(body_text)
    raise NoteError(f"note carries no signature by {key.name}")
