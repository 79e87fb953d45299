"""After a person's erasure the ledger still verifies and their pseudonym links to nothing."""

from __future__ import annotations

import pytest

from accounts.services import erase_account
from ledger import selectors, services
from vault import selectors as vault_selectors
from vault.errors import VaultKeyMissing


@pytest.mark.django_db
def test_erasure_keeps_the_ledger_verifiable_and_unlinkable(person, other_person):
    pseudonym = vault_selectors.ledger_pseudonym(person)
    services.append(kind="consent.granted", actor=f"person:{pseudonym}", subject="consent:1", body={"scopes": 2})
    services.append(
        kind="consent.granted",
        actor=f"person:{vault_selectors.ledger_pseudonym(other_person)}",
        subject="consent:2",
        body={"scopes": 1},
    )
    services.sequence_pending()
    services.sign_checkpoint()
    username = person.username

    erase_account(person)
    services.sequence_pending()

    report = selectors.verify_database(check_anchors=False)
    assert report.ok, report.summary()
    assert report.size >= 3  # the two consents, and the erasure recorded under the pseudonym
    assert selectors.entries_for_subject("consent:1")[0].actor == f"person:{pseudonym}"
    with pytest.raises(VaultKeyMissing):  # the per-person secret is gone: nobody can recompute it
        vault_selectors.ledger_pseudonym(person)
    for view in selectors.entries_for_subject("consent:1") + selectors.entries_for_subject("consent:2"):
        assert username.encode() not in view.data
