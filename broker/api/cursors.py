"""Opaque page cursors for the partner data API.

A cursor holds the keyset position (time, record id) of the last row of a page. It is
encrypted (Fernet, key derived from SECRET_KEY) and bound to the consent and the
category, so a partner can neither read a real record id out of it nor replay it
under another consent.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from uuid import UUID

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from broker.errors import InvalidCursor
from vault.selectors import Cursor


def _fernet() -> Fernet:
    key = hashlib.sha256(b"eidetic broker cursor\n" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encode_cursor(cursor: Cursor | None, *, consent_uid: UUID, category: str) -> str | None:
    if cursor is None:
        return None
    data = {"at": cursor.at.isoformat(), "id": str(cursor.id), "c": str(consent_uid), "k": category}
    return _fernet().encrypt(json.dumps(data).encode()).decode()


def decode_cursor(value: str | None, *, consent_uid: UUID, category: str) -> Cursor | None:
    if not value:
        return None
    try:
        data = json.loads(_fernet().decrypt(value.encode()))
        if data["c"] != str(consent_uid) or data["k"] != category:
            raise InvalidCursor()
        return Cursor(at=datetime.fromisoformat(data["at"]), id=UUID(data["id"]))
    except (InvalidToken, ValueError, KeyError, TypeError) as error:
        raise InvalidCursor() from error
