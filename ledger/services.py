"""The ledger's write side. CONTRACT (other apps rely on it; the ledger issue implements it):

    append(*, kind: str, actor: str, subject: str, body: dict) -> None

Call it inside the caller's own ``transaction.atomic()`` block on the default database,
so that the business change and its ledger record commit together or not at all.
``actor`` and ``subject`` are pseudonyms or public ids (``"person:<pseudonym>"``,
``"partner:<uuid>"``, ``"eidetic"``), never names; ``body`` holds counts, hashes,
public ids and decimal strings only (no floats, no personal data).
"""

from __future__ import annotations


def append(*, kind: str, actor: str, subject: str, body: dict) -> None:
    raise NotImplementedError("ledger.append is implemented by the ledger issue")
