"""The club's reads: membership standing, rules in force, reciprocity, and the club view
(observations about one person, opened with her key and filtered by the rules)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.db.models import Sum

from broker.models import AccessLogEntry, Partner
from club.errors import (
    STANDING_ERRORS,
    CategoryNotAllowed,
    ClubNotFound,
    NoRules,
    NotClubMember,
    ReadQuotaExceeded,
    ReciprocityRequired,
)
from club.models import Club, ContributionTally, Membership, Observation, RuleVersion
from vault.selectors import person_keys


def club_by_uid(uid: UUID | str | None) -> Club:
    try:
        club = Club.objects.filter(uid=UUID(str(uid))).first()
    except ValueError:  # a malformed id is just "no such club"
        club = None
    if club is None:
        raise ClubNotFound()
    return club


def membership_for(*, club: Club, partner: Partner) -> Membership:
    """The partner's membership, refused unless in good standing or warned."""
    membership = Membership.objects.select_related("partner").filter(club=club, partner=partner).first()
    if membership is None:
        raise NotClubMember()
    if membership.standing in STANDING_ERRORS:
        raise STANDING_ERRORS[membership.standing]()
    return membership


def rules_of(club: Club) -> RuleVersion:
    rules = club.current_rules()
    if rules is None:
        raise NoRules()
    return rules


def check_read_quota(*, membership: Membership, rules: RuleVersion, now: datetime) -> None:
    """``daily_read_quota`` club-view reads per member and UTC day (0: no quota), counted
    from the broker's access log; refused with 429 and Retry-After until midnight UTC.
    The log does not say which club a read was for: a firm in two clubs shares one count
    (the stricter reading, accepted on purpose). Concurrent reads may overshoot by the
    number in flight: the quota is an economic rule, not a privacy bound."""
    quota = rules.daily_read_quota
    if not quota:
        return
    day_start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    reads = AccessLogEntry.objects.filter(
        partner=membership.partner, scope="club.view:read", outcome=AccessLogEntry.Outcome.ALLOWED, at__gte=day_start
    ).count()
    if reads >= quota:
        retry_after = math.ceil((day_start + timedelta(days=1) - now).total_seconds())
        raise ReadQuotaExceeded(
            f"{quota} club reads a day; the count starts again at midnight UTC.",
            headers={"Retry-After": str(max(1, retry_after))},
        )


def contributions_on(membership: Membership, day: date) -> int:
    total = ContributionTally.objects.filter(membership=membership, day=day).aggregate(total=Sum("count"))["total"]
    return total or 0


def contributions_since(membership: Membership, category: str, since: date) -> int:
    rows = ContributionTally.objects.filter(membership=membership, category=category, day__gte=since)
    return rows.aggregate(total=Sum("count"))["total"] or 0


def consumable_categories(
    *, membership: Membership, rules: RuleVersion, requested: list[str] | None, now: datetime
) -> list[str]:
    """The categories this member may read now. Asking for one the rules do not share
    is ``CategoryNotAllowed``; asking for one it has not contributed enough to is
    ``ReciprocityRequired``. Asking for none means "all I qualify for" (at least one)."""
    since = (now - timedelta(days=rules.reciprocity_period_days - 1)).date()
    # One grouped query for every category (a statistics query may ask for twenty).
    recent = dict(
        ContributionTally.objects.filter(membership=membership, day__gte=since)
        .values_list("category")
        .annotate(total=Sum("count"))
        .order_by()
    )

    def qualifies(category: str) -> bool:
        return recent.get(category, 0) >= rules.reciprocity_min_count

    if requested:
        for category in requested:
            if not rules.allows_consumption(category):
                raise CategoryNotAllowed(f"The club rules do not share `{category}`.")
            if not qualifies(category):
                raise ReciprocityRequired(
                    f"Reading `{category}` needs {rules.reciprocity_min_count} contributions in it "
                    f"within {rules.reciprocity_period_days} days."
                )
        return sorted(set(requested))
    allowed = [category for category in rules.consume_categories if qualifies(category)]
    if not allowed:
        raise ReciprocityRequired(
            f"Contribute at least {rules.reciprocity_min_count} observations in a shared category "
            f"within {rules.reciprocity_period_days} days first."
        )
    return allowed


def club_view(
    *, person, club: Club, categories: list[str], start: datetime, end: datetime, audience: str
) -> list[dict[str, Any]]:
    """The combined observations of all members about the person, in the allowed
    categories and time range, newest first. Ids are pairwise to the reader; the
    contributing firm is named only when its membership allows it."""
    keys = person_keys(person)
    rows = (
        Observation.objects.select_related("contributor__partner")
        .filter(owner=person, club=club, observed_at__gte=start, observed_at__lt=end)
        .order_by("-observed_at", "id")
    )
    wanted = set(categories)
    items = []
    for row in rows:
        opened = row.open(keys)
        if opened["category"] not in wanted:
            continue
        contributor = row.contributor
        items.append(
            {
                "id": keys.fingerprint(audience, row.id),
                "category": opened["category"],
                "kind": opened["kind"],
                "label": opened["label"],
                "observed_at": row.observed_at,
                "contributor": contributor.partner.name if contributor.reveal_name else None,
                # For settling the read's value; not part of the API output.
                "contributor_partner": contributor.partner.uid,
            }
        )
    return items


def observations_about(person) -> list[dict[str, Any]]:
    """Everything members contributed about the person, for her own eyes (portal, export)."""
    keys = person_keys(person)
    rows = Observation.objects.select_related("club", "contributor__partner").filter(owner=person)
    return [
        {
            "id": row.id,
            "club": row.club.name,
            "contributor": row.contributor.partner.name,
            "observed_at": row.observed_at,
            **row.open(keys),
        }
        for row in rows
    ]


def standing_of(*, club: Club, partner: Partner) -> Membership:
    """The partner's membership in any standing (a suspended member may still read its
    standing and the rules); ``NotClubMember`` otherwise."""
    membership = Membership.objects.filter(club=club, partner=partner).first()
    if membership is None:
        raise NotClubMember()
    return membership


def member_summary(*, club: Club, partner: Partner, now: datetime) -> dict[str, Any]:
    """What a member needs to play by the rules: the rules in force, its standing, and
    per shared category its contributions within the reciprocity period."""
    membership = standing_of(club=club, partner=partner)
    rules = rules_of(club)
    since = (now - timedelta(days=rules.reciprocity_period_days - 1)).date()
    return {
        "club": str(club.uid),
        "name": club.name,
        "rules": rules.as_document(),
        "standing": membership.standing,
        "contributions": {
            category: contributions_since(membership, category, since) for category in rules.consume_categories
        },
    }


def observations_for_insights(person, *, start: datetime | None = None, keys=None) -> list[dict[str, Any]]:
    """Every observation about her from ``start`` on (all clubs), opened, oldest first: her
    data as her interest timeline reads it (one she deleted is gone; a correction counts)."""
    keys = keys or person_keys(person)
    rows = Observation.objects.filter(owner=person)
    if start is not None:
        rows = rows.filter(observed_at__gte=start)
    return [
        {"id": str(row.id), "occurred_at": row.observed_at, **row.open(keys)}
        for row in rows.order_by("observed_at", "id")
    ]
