"""Reads the portal and the partner console need beyond ``broker.selectors``.

They build on the selectors (which enforce visibility) and on the ledger's public read
side; nothing here returns another person's or another partner's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from oauth2_provider.models import Application

from broker import selectors
from broker.errors import ConsentNotFound
from broker.models import AccessLogEntry, Consent, Partner
from ledger import selectors as ledger_selectors
from vault.selectors import ledger_pseudonym

ALLOWED = AccessLogEntry.Outcome.ALLOWED
LIVE_STATES = [Consent.State.ACTIVE, Consent.State.PAUSED]


def month_start(when: datetime) -> datetime:
    local = timezone.localtime(when)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


# --- the person -----------------------------------------------------------------------


def ledger_balance_of_person(*, person) -> Decimal:
    """The person's credits as the ledger counts them (the authoritative figure)."""
    return ledger_selectors.balance_of(f"person:{ledger_pseudonym(person)}")


@dataclass(frozen=True)
class MonthTotal:
    month: date
    amount: Decimal
    reads: int


def _by_month(queryset: QuerySet[AccessLogEntry]) -> list[MonthTotal]:
    rows = (
        queryset.filter(outcome=ALLOWED)
        .annotate(month=TruncMonth("at"))
        .values("month")
        .annotate(amount=Sum("amount"), reads=Count("id"))
        .order_by("-month")
    )
    return [
        MonthTotal(month=row["month"].date(), amount=row["amount"] or Decimal("0"), reads=row["reads"]) for row in rows
    ]


def earnings_by_month(*, person) -> list[MonthTotal]:
    """Credits earned per calendar month from allowed reads, newest month first."""
    return _by_month(AccessLogEntry.objects.filter(person=person))


@dataclass(frozen=True)
class Summary:
    """The broker's figures on the person's dashboard."""

    active_consents: int
    paused_consents: int
    earned_this_month: Decimal
    last_access_at: datetime | None
    last_access_partner: str


def summary_of_person(*, person, now: datetime | None = None) -> Summary:
    now = now or timezone.now()
    consents = Consent.objects.filter(person=person, state__in=LIVE_STATES)
    counts = dict(consents.values_list("state").annotate(n=Count("id")))
    earned = AccessLogEntry.objects.filter(person=person, outcome=ALLOWED, at__gte=month_start(now)).aggregate(
        total=Sum("amount")
    )["total"] or Decimal("0")
    last = selectors.access_log_of_person(person=person).first()
    return Summary(
        active_consents=counts.get(Consent.State.ACTIVE, 0),
        paused_consents=counts.get(Consent.State.PAUSED, 0),
        earned_this_month=earned,
        last_access_at=None if last is None else last.at,
        last_access_partner="" if last is None else last.partner.name,
    )


@dataclass(frozen=True)
class PartnerSummary:
    """The figures at the top of the partner console."""

    active_consents: int
    paused_consents: int
    reads_this_month: int
    spend_this_month: Decimal


def summary_of_partner(*, partner: Partner, now: datetime | None = None) -> PartnerSummary:
    now = now or timezone.now()
    counts = dict(
        Consent.objects.filter(partner=partner, state__in=LIVE_STATES).values_list("state").annotate(n=Count("id"))
    )
    month = AccessLogEntry.objects.filter(partner=partner, outcome=ALLOWED, at__gte=month_start(now)).aggregate(
        reads=Count("id"), total=Sum("amount")
    )
    return PartnerSummary(
        active_consents=counts.get(Consent.State.ACTIVE, 0),
        paused_consents=counts.get(Consent.State.PAUSED, 0),
        reads_this_month=month["reads"],
        spend_this_month=month["total"] or Decimal("0"),
    )


def receipt_of_consent(*, person, consent_id: UUID | str) -> dict[str, Any]:
    """The ledger receipt of the consent's ``consent.granted`` entry; ``ConsentNotFound``
    if the consent is not hers or was never granted (rejected requests have no receipt).
    Ledger errors (``EntryNotSequenced``...) pass through with their own codes."""
    consent = selectors.consent_of_person(person=person, consent_id=consent_id)
    if not consent.receipt_entry_id:
        raise ConsentNotFound("This consent was never granted, so it has no receipt.")
    return ledger_selectors.receipt_for(consent.receipt_entry_id)


# --- the partner ----------------------------------------------------------------------


def clients_of_partner(*, partner: Partner) -> list[Application]:
    """The partner's OAuth clients, oldest first (secrets are hashed: never shown)."""
    return list(Application.objects.filter(partner_client__partner=partner).order_by("created"))


def spend_by_month_of_partner(*, partner: Partner) -> list[MonthTotal]:
    return _by_month(AccessLogEntry.objects.filter(partner=partner))


def ledger_spend_of_partner(*, partner: Partner) -> Decimal:
    """What the partner has paid, as the ledger counts it (a positive number)."""
    return -ledger_selectors.balance_of(f"partner:{partner.uid}")


def access_log_of_partner(*, partner: Partner, consent: Consent) -> QuerySet[AccessLogEntry]:
    """The partner's own calls under one of its consents, newest first."""
    return AccessLogEntry.objects.filter(partner=partner, consent=consent).order_by("-at", "-id")
