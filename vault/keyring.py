"""Where master keys (KEKs) come from. Chosen by ``settings.VAULT["KEYRING"]``.

A keyring holds one current KEK, which wraps new and rotated data keys, and any number
of previous KEKs that still open data keys wrapped before a rotation finished. A KEK is
known by an id derived from the key itself, so the same key always has the same id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

from config.env import env
from vault.crypto import KEY_BYTES, new_key
from vault.errors import KeyringError


def kek_id_of(key: bytes) -> str:
    return hashlib.sha256(b"eidetic kek id\n" + key).hexdigest()[:16]


def decode_key(text: str, *, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"{source} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyringError(f"{source} must decode to {KEY_BYTES} bytes, not {len(key)}")
    return key


class Keyring:
    """Base class. Subclasses load keys in ``__init__`` and may support ``generate``."""

    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}
        self._current_id: str | None = None

    def current(self) -> tuple[str, bytes]:
        """The KEK that wraps data keys from now on, as ``(kek_id, key)``."""
        if self._current_id is None:
            raise KeyringError("no current master key is configured")
        return self._current_id, self._keys[self._current_id]

    def get(self, kek_id: str) -> bytes:
        """A KEK by id, current or previous; KeyringError when this keyring lacks it."""
        if kek_id not in self._keys:
            # Another process may have rotated to a key this one has not loaded yet.
            self.reload()
        try:
            return self._keys[kek_id]
        except KeyError:
            raise KeyringError(f"master key {kek_id} is not in the keyring") from None

    def reload(self) -> None:
        """Pick up keys added since loading (a no-op where keys cannot change at run time)."""

    def retire(self, kek_id: str) -> None:
        """Forget a previous KEK for good (after no data key is wrapped under it)."""
        raise KeyringError(f"{type(self).__name__} keys are retired by removing them from the environment")

    def ids(self) -> list[str]:
        return list(self._keys)

    def generate(self) -> str:
        """Create a new KEK, make it current and return its id (for rotation)."""
        raise KeyringError(
            f"{type(self).__name__} cannot create keys: install the new key as current, "
            "keep the old one as previous, then run rotate_kek"
        )

    def _add(self, key: bytes, *, current: bool) -> str:
        kek_id = kek_id_of(key)
        self._keys[kek_id] = key
        if current:
            self._current_id = kek_id
        return kek_id


class FileKeyring(Keyring):
    """Embedded default: KEKs as files under ``VAULT["KEYRING_DIR"]``, created on first use.

    Layout: ``kek-<id>.key`` (base64, mode 0600) per key, and ``current`` naming the id in use.
    """

    def __init__(self, directory: Path | None = None) -> None:
        super().__init__()
        self.directory = Path(directory or settings.VAULT["KEYRING_DIR"])
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.reload()

    def reload(self) -> None:
        for path in sorted(self.directory.glob("kek-*.key")):
            self._add(decode_key(path.read_text(), source=str(path)), current=False)
        current_file = self.directory / "current"
        if current_file.exists() and current_file.read_text().strip() in self._keys:
            self._current_id = current_file.read_text().strip()
        elif not self._keys:
            self.generate()
        else:
            raise KeyringError(f"{current_file} does not name a key in {self.directory}")

    def retire(self, kek_id: str) -> None:
        if kek_id == self._current_id:
            raise KeyringError("the current master key cannot be retired")
        (self.directory / f"kek-{kek_id}.key").unlink(missing_ok=True)
        self._keys.pop(kek_id, None)

    def generate(self) -> str:
        key = new_key()
        kek_id = kek_id_of(key)
        path = self.directory / f"kek-{kek_id}.key"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.b64encode(key).decode() + "\n")
        self._add(key, current=True)
        tmp = self.directory / "current.tmp"
        tmp.write_text(kek_id + "\n")
        tmp.replace(self.directory / "current")  # atomic switch
        return kek_id


class EnvironmentKeyring(Keyring):
    """Production: ``EIDETIC_KEK`` (base64 of 32 bytes) is current; ``EIDETIC_KEK_PREVIOUS``
    lists older keys (comma-separated) still needed until a rotation has finished.
    Both may come from ``*_FILE`` paths instead (Docker or Kubernetes secrets).
    """

    def __init__(self) -> None:
        super().__init__()
        current = env("EIDETIC_KEK")
        if not current:
            raise KeyringError("EIDETIC_KEK (or EIDETIC_KEK_FILE) must be set")
        for index, text in enumerate((env("EIDETIC_KEK_PREVIOUS") or "").split(",")):
            if text.strip():
                self._add(decode_key(text, source=f"EIDETIC_KEK_PREVIOUS[{index}]"), current=False)
        self._add(decode_key(current, source="EIDETIC_KEK"), current=True)


@lru_cache(maxsize=1)
def get_keyring() -> Keyring:
    return import_string(settings.VAULT["KEYRING"])()


def reset_keyring() -> None:
    """Forget the loaded keyring (after rotation, or when tests change settings)."""
    get_keyring.cache_clear()
