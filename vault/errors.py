"""The vault's errors. Each has a stable code; messages never contain personal data."""

from __future__ import annotations


class VaultError(Exception):
    code = "VaultError"
    status = 400

    def __init__(self, message: str | None = None):
        super().__init__(message or self.__doc__ or self.code)
        self.message = message or (self.__doc__ or self.code).strip()


class SealBroken(VaultError):
    """This value does not open: it was sealed for another owner or record, or it was altered."""

    code = "SealBroken"
    status = 500


class VaultKeyMissing(VaultError):
    """This person's data key no longer exists (the account was erased), so nothing of theirs opens."""

    code = "VaultKeyMissing"
    status = 410


class KeyringError(VaultError):
    """The master key needed to open a data key is not available."""

    code = "KeyringError"
    status = 500


class ImportRefused(VaultError):
    """The file was refused before anything was read from it."""

    code = "ImportRefused"


class ImportMalformed(VaultError):
    """The file could not be read; nothing from it was stored."""

    code = "ImportMalformed"


class ExportNotReady(VaultError):
    """This export has not finished yet."""

    code = "ExportNotReady"
    status = 409
