"""Erasing an account ends every live consent the way a revocation would."""

from __future__ import annotations

import pytest

from accounts.services import erase_account
from broker import services
from broker.models import Consent
from tests.broker.conftest import grant


@pytest.mark.django_db
def test_erasure_revokes_live_consents_records_it_and_cuts_the_partner_off(
    person, partner, other_partner, ledger_entries, webhook_sender
):
    active = grant(person, partner)
    paused = grant(person, other_partner)
    services.consent_pause(consent=paused.consent, person=person)
    assert active.get("/api/v1/data/moments").status_code == 200

    erase_account(person)

    states = dict(Consent.objects.filter(pk__in=[active.consent.pk, paused.consent.pk]).values_list("pk", "state"))
    assert states == {active.consent.pk: "revoked", paused.consent.pk: "revoked"}
    revoked = [e for e in ledger_entries if e["kind"] == "consent.revoked"]
    assert {e["body"]["consent"] for e in revoked} == {str(active.consent.uid), str(paused.consent.uid)}
    assert ledger_entries[-1]["kind"] == "account.erased"
    assert active.get("/api/v1/data/moments").status_code == 401  # revocation destroyed the tokens
