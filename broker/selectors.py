"""Reads of the broker, for the portal, the partner console and the API.

Visibility is enforced here: a person sees only her own consents and access log; a
partner sees only its own consents, and its people only by their pairwise pseudonym.
An object the caller may not see raises ``ConsentNotFound`` (a 404, never a 403).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q, QuerySet, Sum

from broker.errors import ConsentNotFound
from broker.models import AccessLogEntry, Consent, ConsentEvent, Partner, PartnerMembership
from vault.selectors import pairwise_pseudonym

ALLOWED = AccessLogEntry.Outcome.ALLOWED


def _with_usage(queryset: QuerySet[Consent]) -> QuerySet[Consent]:
    """Annotate ``last_access_at``, ``access_count`` and ``earned`` (credits) per consent."""
    allowed = Q(access_log__outcome=ALLOWED)
    return queryset.annotate(
        last_access_at=Max("access_log__at", filter=allowed),
        access_count=Count("access_log", filter=allowed),
        earned=Sum("access_log__amount", filter=allowed),
    )


def consents_of_person(*, person, states: list[str] | None = None) -> QuerySet[Consent]:
    """The person's consents (any state but ``requested``), newest first, each with
    ``partner`` loaded and ``last_access_at``, ``access_count`` and ``earned`` (Decimal
    or None when nothing was earned) annotated."""
    queryset = Consent.objects.filter(person=person).select_related("partner")
    if states:
        queryset = queryset.filter(state__in=states)
    return _with_usage(queryset).order_by("-created_at")


def _one_consent(queryset: QuerySet[Consent], consent_id: UUID | str) -> Consent:
    try:
        return queryset.get(uid=consent_id)
    except (Consent.DoesNotExist, ValueError, ValidationError) as error:
        raise ConsentNotFound() from error


def own_consent(*, person, consent_id: UUID | str) -> Consent:
    """One of the person's consents by its public uid, with its partner, not annotated
    (for a change, which must not aggregate her whole access log first);
    ``ConsentNotFound`` when it is not hers or does not exist."""
    return _one_consent(Consent.objects.filter(person=person).select_related("partner"), consent_id)


def consent_of_person(*, person, consent_id: UUID | str) -> Consent:
    """One of the person's consents by its public uid (annotated as above);
    ``ConsentNotFound`` when it is not hers or does not exist."""
    return _one_consent(consents_of_person(person=person), consent_id)


@dataclass(frozen=True)
class ConsentDetail:
    """Everything the person's consent page shows."""

    consent: Consent
    timeline: list[ConsentEvent]
    receipt_entry_id: str
    last_access_at: datetime | None
    access_count: int
    earned: Decimal


def consent_detail(*, person, consent_id: UUID | str) -> ConsentDetail:
    """The consent with its status timeline (oldest first), the id of its
    ``consent.granted`` ledger entry (the receipt), last access and earnings."""
    consent = consent_of_person(person=person, consent_id=consent_id)
    return ConsentDetail(
        consent=consent,
        timeline=list(consent.events.all()),
        receipt_entry_id=consent.receipt_entry_id,
        last_access_at=consent.last_access_at,
        access_count=consent.access_count,
        earned=consent.earned or Decimal("0"),
    )


def access_log_of_person(*, person, consent_id: UUID | str | None = None) -> QuerySet[AccessLogEntry]:
    """Every partner call on the person's data, allowed or denied, newest first, with
    ``partner`` and ``consent`` loaded. Optionally limited to one of her consents."""
    queryset = AccessLogEntry.objects.filter(person=person).select_related("partner", "consent")
    if consent_id is not None:
        queryset = queryset.filter(consent__uid=consent_id)
    return queryset.order_by("-at", "-id")


def earnings_of_person(*, person) -> Decimal:
    """Credits earned from allowed reads (the access log's view). The authoritative
    balance is the ledger's: ``ledger.selectors.balance_of(f"person:{pseudonym}")``."""
    total = AccessLogEntry.objects.filter(person=person, outcome=ALLOWED).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0")


def partners_of_staff(*, user) -> QuerySet[Partner]:
    """The partners a staff account works for."""
    return Partner.objects.filter(memberships__user=user)


def partner_of_staff(*, user, partner_id: UUID | str) -> Partner:
    try:
        return partners_of_staff(user=user).get(uid=partner_id)
    except (Partner.DoesNotExist, ValueError) as error:
        raise ConsentNotFound("No such partner.") from error


def is_staff_of(*, user, partner: Partner) -> bool:
    return PartnerMembership.objects.filter(user=user, partner=partner).exists()


@dataclass(frozen=True)
class PartnerConsentRow:
    """A consent as its partner sees it: the person only as a pairwise pseudonym."""

    consent_id: UUID
    subject: str | None
    state: str
    scopes: list[str]
    purpose_code: str
    expires_at: datetime
    last_access_at: datetime | None
    access_count: int
    spent: Decimal


def consents_of_partner(*, partner: Partner, states: list[str] | None = None) -> list[PartnerConsentRow]:
    """The partner's consents, newest first, people shown by pairwise pseudonym only.

    A request addressed to one person (a club introduction) is left out until she answers
    it: listing the unanswered ones would tell the partner the segment's exact size,
    which the club only ever releases with noise (``club.introductions``)."""
    queryset = (
        Consent.objects.filter(partner=partner)
        .exclude(addressee__isnull=False, person__isnull=True)
        .select_related("person")
    )
    if states:
        queryset = queryset.filter(state__in=states)
    rows = []
    for consent in _with_usage(queryset).order_by("-created_at"):
        # No pseudonym without a person, nor once her key is shredded (erasure).
        known = consent.person is not None and not consent.person.is_erased
        subject = pairwise_pseudonym(consent.person, partner.audience) if known else None
        rows.append(
            PartnerConsentRow(
                consent_id=consent.uid,
                subject=subject,
                state=consent.state,
                scopes=list(consent.scopes),
                purpose_code=consent.purpose_code,
                expires_at=consent.expires_at,
                last_access_at=consent.last_access_at,
                access_count=consent.access_count,
                spent=consent.earned or Decimal("0"),
            )
        )
    return rows


def consent_of_partner(*, partner: Partner, consent_id: UUID | str) -> Consent:
    """One of the partner's consents (``ConsentNotFound`` for anyone else's)."""
    try:
        return Consent.objects.select_related("person", "partner").get(partner=partner, uid=consent_id)
    except (Consent.DoesNotExist, ValueError) as error:
        raise ConsentNotFound() from error


def spend_of_partner(*, partner: Partner, since: datetime | None = None) -> Decimal:
    """Credits the partner paid for reads (from the access log; the ledger agrees)."""
    queryset = AccessLogEntry.objects.filter(partner=partner, outcome=ALLOWED)
    if since is not None:
        queryset = queryset.filter(at__gte=since)
    return queryset.aggregate(total=Sum("amount"))["total"] or Decimal("0")
