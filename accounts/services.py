"""Account flows that span apps: registration and erasure."""

from __future__ import annotations

import contextlib

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from broker import selectors as broker_selectors
from broker import services as broker_services
from broker.errors import InvalidConsentStatus
from insights import services as insights_services
from ledger import services as ledger
from vault import selectors as vault_selectors
from vault import services as vault_services
from vault.errors import VaultKeyMissing


def register_person(*, username: str, password: str) -> User:
    user_model = get_user_model()
    with transaction.atomic():
        person = user_model(username=username, role=User.Role.PERSON)
        person.set_password(password)
        person.full_clean(exclude=["password"])
        person.save()
    vault_services.provision_vault(person)
    return person


def erase_account(person: User) -> None:
    """Erase a person (GDPR Art. 17). Idempotent; safe to re-run after a crash part-way.

    1. Revoke every live consent (recorded and notified like any revocation, tokens
       destroyed), record ``account.erased`` under the person's pseudonym and mark the
       account erased, in one transaction (all of these need her key, so they come first).
    2. Shred the data key, then delete the data (vault, then derived interests).
    3. Scrub the account row down to a tombstone that cannot log in.
    """
    if person.erased_at is None:
        try:
            pseudonym = vault_selectors.ledger_pseudonym(person)
        except VaultKeyMissing:
            pseudonym = None
        with transaction.atomic():
            if pseudonym is not None:
                _revoke_live_consents(person)
            locked = type(person).objects.select_for_update().get(pk=person.pk)
            if locked.erased_at is None:
                if pseudonym is not None:
                    ledger.append(
                        kind="account.erased", actor=f"person:{pseudonym}", subject=f"person:{pseudonym}", body={}
                    )
                locked.erased_at = timezone.now()
                locked.save(update_fields=["erased_at"])
        person.erased_at = locked.erased_at
    vault_services.shred_vault(person)
    insights_services.forget_interests(person)
    person.username = f"erased-{person.uid.hex}"
    person.set_unusable_password()
    person.is_active = False
    person.first_name = person.last_name = person.email = ""
    person.save(update_fields=["username", "password", "is_active", "first_name", "last_name", "email"])


def _revoke_live_consents(person: User) -> None:
    live = broker_selectors.consents_of_person(person=person, states=["active", "paused"])
    for consent in live:
        # One that expired just now has ended anyway (and the expiry is recorded).
        with contextlib.suppress(InvalidConsentStatus):
            broker_services.consent_revoke(consent=consent, person=person)
