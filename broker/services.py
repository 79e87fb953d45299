"""Writes of the broker: partners, consent requests and the consent lifecycle.

Every status change is one transaction holding the state change, its ``ConsentEvent``,
its ledger entry (pseudonyms and public ids only) and its webhook in the outbox.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import rfc8785
from django.db import transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, Application, RefreshToken

from broker import webhooks
from broker.catalogue import PURPOSES, SCOPES
from broker.errors import ConsentNotFound, InvalidConsentPurpose, InvalidConsentRequest, InvalidConsentStatus
from broker.models import Consent, ConsentEvent, Partner, PartnerClient, PartnerMembership
from ledger import services as ledger_services
from vault.selectors import ledger_pseudonym, pairwise_pseudonym

State = Consent.State


# --- partners -------------------------------------------------------------------------


@transaction.atomic
def partner_create(*, name: str, redirect_uri: str, webhook_url: str = "") -> tuple[Partner, Application, str]:
    """A partner with one confidential authorization-code client.

    Returns the partner, the client and the client secret in clear: it is shown once,
    only its hash is stored.
    """
    partner = Partner(name=name, webhook_url=webhook_url)
    partner.full_clean()
    partner.save()
    application = client_create(partner=partner, redirect_uri=redirect_uri)
    return partner, application, application.raw_client_secret


LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}


def _check_redirect_uri(redirect_uri: str) -> None:
    """Exact https URIs; plain http only towards the partner's own machine (RFC 8252)."""
    parsed = urlsplit(redirect_uri)
    if parsed.fragment or not parsed.hostname:
        raise InvalidConsentRequest("A redirect URI is an absolute URI without a fragment.")
    if parsed.scheme == "http" and parsed.hostname not in LOOPBACK_HOSTS:
        raise InvalidConsentRequest("Plain http redirect URIs are allowed for loopback addresses only.")


def client_create(*, partner: Partner, redirect_uri: str, name: str = "") -> Application:
    _check_redirect_uri(redirect_uri)
    secret = generate_client_secret()
    application = Application(
        name=name or partner.name,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uri,
        client_secret=secret,
        hash_client_secret=True,
        skip_authorization=False,
        algorithm="",
    )
    application.full_clean()
    application.save()
    PartnerClient.objects.create(partner=partner, application=application)
    application.raw_client_secret = secret
    return application


def partner_staff_add(*, partner: Partner, user) -> PartnerMembership:
    if user.role != user.Role.PARTNER_STAFF:
        raise InvalidConsentRequest("Only partner staff accounts can join a partner.")
    membership, _ = PartnerMembership.objects.get_or_create(partner=partner, user=user)
    return membership


# --- consent requests -----------------------------------------------------------------


@transaction.atomic
def consent_request(
    *,
    partner: Partner,
    application: Application,
    scopes: list[str],
    purpose_code: str,
    purpose_text: str,
    data_from: datetime,
    data_to: datetime,
    frequency_value: int,
    frequency_unit: str,
    data_life_value: int,
    data_life_unit: str,
    valid_from: datetime,
    expires_at: datetime,
    price_amount: Decimal = Decimal("0"),
    price_basis: str = Consent.PriceBasis.NONE,
    addressee=None,
) -> Consent:
    """The partner states its terms; the person sees them on the consent screen.
    ``addressee``: the one person who may answer (a club introduction), else anyone."""
    if purpose_code not in PURPOSES:
        raise InvalidConsentPurpose()
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if not scopes or unknown:
        raise InvalidConsentRequest("Unknown or missing scopes: see /api/v1/scopes.")
    if not PartnerClient.objects.filter(partner=partner, application=application).exists():
        raise InvalidConsentRequest("This client does not belong to the partner.")
    if not (data_from < data_to and valid_from < expires_at and expires_at > timezone.now()):
        raise InvalidConsentRequest("Date ranges must run forwards and the consent must end in the future.")
    if price_basis == Consent.PriceBasis.NONE and price_amount:
        raise InvalidConsentRequest("A price needs a basis (per_access or per_month).")
    consent = Consent(
        partner=partner,
        application=application,
        scopes=sorted(set(scopes)),
        purpose_code=purpose_code,
        purpose_text=purpose_text,
        data_from=data_from,
        data_to=data_to,
        frequency_value=frequency_value,
        frequency_unit=frequency_unit,
        data_life_value=data_life_value,
        data_life_unit=data_life_unit,
        valid_from=valid_from,
        expires_at=expires_at,
        price_amount=price_amount,
        price_basis=price_basis,
        addressee=addressee,
    )
    consent.full_clean()
    consent.save()
    ConsentEvent.objects.create(consent=consent, state=State.REQUESTED, actor="partner", at=consent.created_at)
    return consent


def terms_of(consent: Consent) -> dict[str, Any]:
    """The agreed terms as plain JSON values (decimal strings, ISO times)."""
    return {
        "consent": str(consent.uid),
        "partner": str(consent.partner.uid),
        "scopes": list(consent.scopes),
        "purpose": {"code": consent.purpose_code, "text": consent.purpose_text},
        "data_range": {"from": consent.data_from.isoformat(), "to": consent.data_to.isoformat()},
        "frequency": {"unit": consent.frequency_unit, "value": consent.frequency_value},
        "data_life": {"unit": consent.data_life_unit, "value": consent.data_life_value},
        "validity": {"from": consent.valid_from.isoformat(), "to": consent.expires_at.isoformat()},
        "return": {"amount": str(consent.price_amount), "basis": consent.price_basis, "currency": "credits"},
    }


def terms_hash(consent: Consent) -> str:
    """SHA-256 of the RFC 8785 canonical terms: what the ledger entry commits to."""
    return hashlib.sha256(rfc8785.dumps(terms_of(consent))).hexdigest()


# --- the lifecycle --------------------------------------------------------------------


def _locked(consent: Consent) -> Consent:
    try:
        return Consent.objects.select_for_update(of=("self",)).select_related("partner", "person").get(pk=consent.pk)
    except Consent.DoesNotExist as error:
        raise ConsentNotFound() from error


def _transition(
    consent: Consent, *, to: str, allowed_from: set[str], kind: str, actor: str, actor_id: str, now: datetime
) -> Consent:
    """Move the (locked) consent to ``to`` and record it: event, ledger, webhook."""
    if consent.state not in allowed_from:
        raise InvalidConsentStatus(f"A {consent.state} consent cannot become {to}.")
    consent.state = to
    consent.state_changed_at = now
    consent.save(update_fields=["state", "state_changed_at", "person", "granted_at", "updated_at"])
    body = {
        "consent": str(consent.uid),
        "partner": str(consent.partner.uid),
        "scopes": list(consent.scopes),
        "state": str(to),
    }
    if to == State.ACTIVE and kind == "consent.granted":
        body["terms_sha256"] = terms_hash(consent)
    entry_id = ledger_services.append(
        kind=kind, actor=actor_id, subject=f"person:{ledger_pseudonym(consent.person)}", body=body
    )
    entry = "" if entry_id is None else str(entry_id)
    ConsentEvent.objects.create(consent=consent, state=to, actor=actor, ledger_entry_id=entry, at=now)
    if kind == "consent.granted":
        consent.receipt_entry_id = entry
        consent.save(update_fields=["receipt_entry_id"])
    webhooks.queue(
        partner=consent.partner,
        event_type=kind,
        payload={
            "consent": str(consent.uid),
            "state": str(to),
            "subject": pairwise_pseudonym(consent.person, consent.partner.audience),
            "at": now.isoformat(),
        },
    )
    return consent


def _person_actor(person) -> str:
    return f"person:{ledger_pseudonym(person)}"


def _owned_by(consent: Consent, person) -> None:
    """A person acts only on her own consents; anyone else's is a 404, never a 403."""
    if consent.person_id != person.pk:
        raise ConsentNotFound()


@transaction.atomic
def consent_grant(*, consent: Consent, person, now: datetime | None = None) -> Consent:
    """The person approves a request on the consent screen: requested -> active."""
    now = now or timezone.now()
    consent = _locked(consent)
    if consent.state == State.REQUESTED and consent.request_lapses_at <= now:
        raise InvalidConsentStatus("This request has lapsed: the partner can send a new one.")
    if not person.is_person or person.is_erased:
        raise InvalidConsentStatus("Only a person with a vault can answer a consent request.")
    if not consent.may_be_answered_by(person):
        raise ConsentNotFound()  # addressed to someone else: do not even confirm it exists
    consent.person_id = person.pk  # by id: request.user may be a lazy proxy
    consent.granted_at = now
    return _transition(
        consent,
        to=State.ACTIVE,
        allowed_from={State.REQUESTED},
        kind="consent.granted",
        actor="person",
        actor_id=_person_actor(person),
        now=now,
    )


@transaction.atomic
def consent_reject(*, consent: Consent, person, now: datetime | None = None) -> Consent:
    """The person denies a request: requested -> rejected (recorded too)."""
    now = now or timezone.now()
    consent = _locked(consent)
    if not person.is_person:
        raise InvalidConsentStatus("Only a person can answer a consent request.")
    if not consent.may_be_answered_by(person):
        raise ConsentNotFound()
    consent.person_id = person.pk  # by id: request.user may be a lazy proxy
    return _transition(
        consent,
        to=State.REJECTED,
        allowed_from={State.REQUESTED},
        kind="consent.rejected",
        actor="person",
        actor_id=_person_actor(person),
        now=now,
    )


def consent_pause(*, consent: Consent, person, now: datetime | None = None) -> Consent:
    """Tokens stay but every call and refresh under them is refused until resume."""
    return _person_change(consent, person, now, to=State.PAUSED, allowed_from={State.ACTIVE}, kind="consent.paused")


def consent_resume(*, consent: Consent, person, now: datetime | None = None) -> Consent:
    return _person_change(consent, person, now, to=State.ACTIVE, allowed_from={State.PAUSED}, kind="consent.resumed")


def consent_revoke(*, consent: Consent, person, now: datetime | None = None) -> Consent:
    """Final: the tokens are destroyed as well, so nothing issued under it works again."""
    return _person_change(
        consent, person, now, to=State.REVOKED, allowed_from={State.ACTIVE, State.PAUSED}, kind="consent.revoked"
    )


def _person_change(
    consent: Consent, person, now: datetime | None, *, to: str, allowed_from: set[str], kind: str
) -> Consent:
    """A change the person makes to her own consent. One met past its expiry is expired
    (and that is committed and recorded) before she is told it cannot change."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(consent)
        _owned_by(locked, person)
        expired = locked.state in {State.ACTIVE, State.PAUSED} and locked.is_expired_at(now)
        if expired:
            _expire_locked(locked, now)
        else:
            locked = _transition(
                locked,
                to=to,
                allowed_from=allowed_from,
                kind=kind,
                actor="person",
                actor_id=_person_actor(person),
                now=now,
            )
            if to == State.REVOKED:
                revoke_tokens_of(locked)
    if expired:
        raise InvalidConsentStatus("This consent has expired.")
    return locked


def _expire_locked(consent: Consent, now: datetime) -> Consent:
    consent = _transition(
        consent,
        to=State.EXPIRED,
        allowed_from={State.ACTIVE, State.PAUSED},
        kind="consent.expired",
        actor="eidetic",
        actor_id="eidetic",
        now=now,
    )
    revoke_tokens_of(consent)
    return consent


@transaction.atomic
def consent_expire(*, consent: Consent, now: datetime | None = None) -> Consent:
    now = now or timezone.now()
    consent = _locked(consent)
    if not consent.is_expired_at(now):
        raise InvalidConsentStatus("This consent has not reached its expiry.")
    return _expire_locked(consent, now)


def expire_due_consents(*, now: datetime | None = None) -> int:
    """The periodic task's body: every active or paused consent past expiry -> expired.

    One transaction per consent, so one failure does not hold back the others.
    """
    now = now or timezone.now()
    due = Consent.objects.filter(state__in=[State.ACTIVE, State.PAUSED], expires_at__lte=now)
    count = 0
    for consent in due.only("pk"):
        try:
            consent_expire(consent=consent, now=now)
        except InvalidConsentStatus:  # Changed meanwhile (revoked by its person): nothing to do.
            continue
        count += 1
    return count


def revoke_tokens_of(consent: Consent) -> None:
    """Delete the access tokens and revoke the refresh-token families issued under it."""
    families = list(consent.authorization_codes.exclude(token_family=None).values_list("token_family", flat=True))
    for family in families:
        RefreshToken.revoke_family(family)
    AccessToken.objects.filter(consent_binding__consent=consent).delete()
