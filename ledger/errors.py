"""The ledger's exceptions, each with a stable ``code`` and HTTP ``status`` (see config/api_errors.py)."""

from __future__ import annotations


class LedgerError(Exception):
    code = "LedgerError"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidEntry(LedgerError):
    code = "InvalidLedgerEntry"


class InvalidParameter(LedgerError):
    code = "InvalidParameter"


class EntryNotFound(LedgerError):
    code = "EntryNotFound"
    status = 404


class CheckpointNotFound(LedgerError):
    code = "CheckpointNotFound"
    status = 404


class EntryNotSequenced(LedgerError):
    """The entry is committed but the sequencer has not given it a place in the log yet."""

    code = "EntryNotSequenced"
    status = 409


class InconsistentLog(LedgerError):
    """The stored tree does not extend the last signed checkpoint: refuse to sign (a fork)."""

    code = "InconsistentLog"
    status = 500


class AnchorMismatch(LedgerError):
    code = "AnchorMismatch"
    status = 409
