"""Reads for the club's portal pages: a member's standing, contributions, budget, spend
and earnings; a person's club consents and introductions. Visibility: a staff user sees
only the memberships of the partners she works for; a person only her own records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from broker.models import Consent, Partner
from club import privacy
from club.models import Introduction, Membership, RuleVersion
from ledger import entries as ledger_entries
from ledger.models import Entry, PendingEntry

CLUB_SCOPES = ("vault.contribute:write", "club.view:read", "club.segments:aggregate")


@dataclass(frozen=True)
class ClubValue:
    spent: Decimal
    earned: Decimal


def club_value_of(*, partner: Partner, club_uid: str) -> ClubValue:
    """What the partner paid for and earned from club reads, from the ledger's
    ``value.transferred`` entries of that club (sequenced and pending)."""
    needle = f'"{club_uid}"'.encode()
    bodies = [ledger_entries.decode(data).get("body", {}) for data in _transfer_data() if needle in data]
    bodies += list(PendingEntry.objects.filter(kind="value.transferred").values_list("body", flat=True))
    spent, earned = Decimal("0"), Decimal("0")
    for body in bodies:
        if body.get("club") != club_uid:
            continue
        amount = Decimal(str(body.get("amount", "0")))
        if body.get("from") == partner.audience:
            spent += amount
        if body.get("to") == partner.audience:
            earned += amount
    return ClubValue(spent=spent, earned=earned)


def _transfer_data():
    for data in Entry.objects.filter(kind="value.transferred").values_list("data", flat=True).iterator():
        yield bytes(data)


def memberships_of_staff(user) -> list[Membership]:
    return list(
        Membership.objects.filter(partner__memberships__user=user)
        .select_related("club", "partner")
        .order_by("club__name", "partner__name")
    )


def membership_of_staff(*, user, membership_uid) -> Membership | None:
    return (
        Membership.objects.filter(partner__memberships__user=user, uid=membership_uid)
        .select_related("club", "partner")
        .first()
    )


def contributions_by_category(membership: Membership, rules: RuleVersion, now: datetime) -> list[dict[str, Any]]:
    since = (now - timedelta(days=rules.reciprocity_period_days - 1)).date()
    recent = dict(
        membership.tallies.filter(day__gte=since).values_list("category").annotate(total=Sum("count")).order_by()
    )
    overall = dict(membership.tallies.values_list("category").annotate(total=Sum("count")).order_by())
    return [
        {
            "category": category,
            "recent": recent.get(category, 0),
            "total": overall.get(category, 0),
            "qualifies": recent.get(category, 0) >= rules.reciprocity_min_count,
            "shared": rules.allows_consumption(category),
        }
        for category in sorted(set(rules.contribute_categories) | set(overall))
    ]


def member_page(membership: Membership, now: datetime) -> dict[str, Any]:
    rules = membership.club.current_rules()
    context: dict[str, Any] = {"membership": membership, "rules": rules, "sanctions": list(membership.sanctions.all())}
    if rules is not None:
        start, end = privacy.budget_period(rules, now)
        context |= {
            "contributions": contributions_by_category(membership, rules, now),
            "budget_left": privacy.budget_left(membership=membership, rules=rules, now=now),
            "budget_period": (start, end),
        }
    context |= {
        "value": club_value_of(partner=membership.partner, club_uid=str(membership.club.uid)),
        "charges": list(membership.budget_charges.all()[:20]),
        "batches": list(membership.introduction_batches.order_by("-created_at")[:20]),
        "violations": list(membership.violations.all()[:20]),
    }
    return context


def club_consents_of(person) -> list[Consent]:
    consents = Consent.objects.filter(person=person).select_related("partner").order_by("-created_at")
    return [consent for consent in consents if any(scope in consent.scopes for scope in CLUB_SCOPES)]


def open_introductions_of(person) -> list[Introduction]:
    return list(
        Introduction.objects.filter(person=person, consent__state=Consent.State.REQUESTED)
        .select_related("consent__partner", "consent__application", "batch__club")
        .order_by("-created_at")
    )
