"""Segment statistics: how many of the club's consenting people were seen in a category,
by ~10 km cell and by week, computed by SQL over ``SegmentFact`` and released through
``club.privacy`` (k-suppression, Laplace noise, privacy budget).

Who counts: a person with a live consent covering ``club.segments:aggregate`` to a
member of the club (``SegmentEnrolment``). Facts exist only for enrolled people and are
rebuilt from her sealed observations whenever they or her enrolment change, so a
deletion or correction reaches every later query. Facts and enrolments name her only by
her per-club pseudonym (her key is needed to compute it) and her consent only by a
server-keyed tag: the database alone cannot say what anyone bought.
"""

from __future__ import annotations

import functools
import hmac
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from hashlib import sha256
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q

from broker.models import Consent
from club import privacy
from club.errors import InvalidSegmentQuery
from club.models import (
    BudgetCharge,
    Club,
    Membership,
    Observation,
    SegmentCount,
    SegmentEnrolment,
    SegmentFact,
    SegmentSync,
    Standing,
)
from club.selectors import consumable_categories, membership_for, rules_of
from vault.errors import VaultKeyMissing
from vault.keys import PersonKeys
from vault.selectors import person_keys

SEGMENT_SCOPE = "club.segments:aggregate"
KM_PER_DEGREE_LAT = 110.574
KM_PER_DEGREE_LON_AT_EQUATOR = 111.320
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
DEFAULTS: dict[str, Any] = {
    # Facts kept per person and week: bounds one person's weight in any query.
    "MAX_CATEGORIES_PER_WEEK": 4,
    "MAX_WEEKS_PER_QUERY": 13,
    "CELL_KM": 10,
    # Consent changes are re-read this far behind the last sync (late commits).
    "SYNC_OVERLAP_SECONDS": 300,
    "MAX_INTRODUCTIONS": 500,
}


def option(name: str) -> Any:
    return {**DEFAULTS, **getattr(settings, "CLUB", {})}[name]


# --- what is stored ---------------------------------------------------------------------


def consent_tag(consent_uid) -> str:
    """A consent's id keyed with the server's secret: the enrolment can be found from the
    consent (without her key, e.g. after erasure) but not the other way round."""
    key = sha256(b"eidetic club segments\n" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, str(consent_uid).encode(), sha256).hexdigest()


def pseudonym_of(keys: PersonKeys, club: Club) -> str:
    return keys.pseudonym(f"club-segments:{club.uid}")


def week_of(when: datetime) -> date:
    day = when.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def cell_of(lat: float, lon: float) -> str:
    """The id of the ~CELL_KM x CELL_KM grid cell holding a point: rows of fixed height,
    each cut into columns as wide in km as the row is high (at the row's middle)."""
    size_km = option("CELL_KM")
    row = math.floor(lat * KM_PER_DEGREE_LAT / size_km)
    middle = (row + 0.5) * size_km / KM_PER_DEGREE_LAT
    width_deg = size_km / (KM_PER_DEGREE_LON_AT_EQUATOR * max(0.05, math.cos(math.radians(middle))))
    column = math.floor(lon / width_deg)
    return f"{row}:{column}"


def cell_centre(cell: str) -> tuple[float, float] | None:
    return _cell_centre(cell, option("CELL_KM")) if cell else None


@functools.lru_cache(maxsize=65536)
def _cell_centre(cell: str, size_km: float) -> tuple[float, float]:
    row, column = (int(part) for part in cell.split(":"))
    lat = (row + 0.5) * size_km / KM_PER_DEGREE_LAT
    width_deg = size_km / (KM_PER_DEGREE_LON_AT_EQUATOR * max(0.05, math.cos(math.radians(lat))))
    return round(lat, 3), round((column + 0.5) * width_deg, 3)


def facts_from(observations: list[tuple[datetime, str, str]], cap: int) -> list[tuple[date, str, str]]:
    """``(week, category, cell)`` facts from ``(observed_at, category, cell)``: one per
    category and week, at most ``cap`` categories a week (the earliest seen), the cell of
    the category's first observation that week that had a place."""
    by_week: dict[date, dict[str, str]] = {}
    for observed_at, category, cell in sorted(observations):
        seen = by_week.setdefault(week_of(observed_at), {})
        if category in seen:
            seen[category] = seen[category] or cell
        elif len(seen) < cap:
            seen[category] = cell
    return [(week, category, cell) for week, seen in sorted(by_week.items()) for category, cell in seen.items()]


def _is_enrolled(club: Club, pseudonym: str) -> bool:
    return SegmentEnrolment.objects.filter(club=club, pseudonym=pseudonym, active=True).exists()


def _adjust_counts(club: Club, facts: list[tuple[date, str, str]], delta: int) -> None:
    """Add ``delta`` people to the roll-up row of each fact (created at 0 if missing)."""
    for week, category, cell in facts:
        row, _ = SegmentCount.objects.get_or_create(club=club, week=week, category=category, cell=cell)
        # F(): concurrent refreshes of different people add up instead of overwriting.
        SegmentCount.objects.filter(pk=row.pk).update(people=F("people") + delta)


def _drop_facts(club: Club, pseudonym: str) -> None:
    facts = SegmentFact.objects.filter(club=club, pseudonym=pseudonym)
    _adjust_counts(club, list(facts.values_list("week", "category", "cell")), -1)
    facts.delete()


@transaction.atomic
def facts_refresh(*, club: Club, person, keys: PersonKeys | None = None) -> int:
    """Rebuild the person's facts in the club from her observations (none unless she is
    enrolled), and the roll-up with them. Call after any change to her observations or
    her enrolment."""
    keys = keys or person_keys(person)
    pseudonym = pseudonym_of(keys, club)
    _drop_facts(club, pseudonym)
    if not _is_enrolled(club, pseudonym):
        return 0
    opened = []
    for row in Observation.objects.filter(owner=person, club=club).only("id", "sealed", "observed_at"):
        payload = row.open(keys)
        place = payload.get("place")
        opened.append((row.observed_at, payload["category"], cell_of(place["lat"], place["lon"]) if place else ""))
    return facts_store(club=club, pseudonym=pseudonym, facts=facts_from(opened, option("MAX_CATEGORIES_PER_WEEK")))


def facts_store(*, club: Club, pseudonym: str, facts: list[tuple[date, str, str]]) -> int:
    """Store an enrolled person's ``(week, category, cell)`` facts and count them."""
    SegmentFact.objects.bulk_create(
        SegmentFact(club=club, pseudonym=pseudonym, week=week, category=category, cell=cell)
        for week, category, cell in facts
    )
    _adjust_counts(club, facts, +1)
    return len(facts)


# --- following the consents -------------------------------------------------------------


def _live(consent: Consent, membership: Membership | None, now: datetime) -> bool:
    return (
        membership is not None
        and membership.standing != Standing.EXPELLED
        and consent.covers(SEGMENT_SCOPE)
        and consent.person is not None
        and not consent.person.is_erased
        and consent.state == Consent.State.ACTIVE
        and consent.valid_from <= now
        and not consent.is_expired_at(now)
    )


def _drop_facts_if_unenrolled(club: Club, pseudonym: str) -> None:
    if not _is_enrolled(club, pseudonym):
        _drop_facts(club, pseudonym)


def _deactivate(enrolments) -> None:
    for enrolment in list(enrolments):
        enrolment.active = False
        enrolment.save(update_fields=["active", "updated_at"])
        _drop_facts_if_unenrolled(enrolment.club, enrolment.pseudonym)


def _follow(club: Club, consent: Consent, membership: Membership | None, now: datetime) -> None:
    tag = consent_tag(consent.uid)
    enrolment = SegmentEnrolment.objects.filter(club=club, consent_tag=tag).first()
    if _live(consent, membership, now):
        try:
            keys = person_keys(consent.person)
        except VaultKeyMissing:  # her key is shredded: she has left, nothing of hers counts
            keys = None
        if keys is not None:
            was_active = enrolment is not None and enrolment.active
            SegmentEnrolment.objects.update_or_create(
                club=club,
                consent_tag=tag,
                defaults={
                    "membership": membership,
                    "pseudonym": pseudonym_of(keys, club),
                    "counted_from": consent.valid_from,
                    "counted_until": consent.expires_at,
                    "active": True,
                },
            )
            if not was_active:
                facts_refresh(club=club, person=consent.person, keys=keys)
            return
    if enrolment is not None and enrolment.active:
        _deactivate([enrolment])


@transaction.atomic
def sync(*, club: Club, now: datetime) -> None:
    """Bring the club's enrolments in step with its members' consents: grants, pauses,
    resumes, revocations (erasure revokes too), consents whose start has come and admissions
    since the last sync, plus enrolments past their consent's expiry or of an expelled member.
    Afterwards facts
    (and so the roll-up) exist exactly for the people who count now. Cost follows the
    changes, not the people."""
    state, _ = SegmentSync.objects.select_for_update().get_or_create(club=club, defaults={"synced_at": EPOCH})
    since = state.synced_at - timedelta(seconds=option("SYNC_OVERLAP_SECONDS"))
    memberships = {membership.partner_id: membership for membership in club.memberships.all()}
    newly_admitted = [pid for pid, membership in memberships.items() if membership.admitted_at >= since]
    changed = (
        Consent.objects.filter(partner_id__in=list(memberships))
        # A consent granted to start later counts once its start has passed.
        .filter(
            Q(events__at__gte=since) | Q(partner_id__in=newly_admitted) | Q(valid_from__gte=since, valid_from__lte=now)
        )
        .exclude(person=None)
        .select_related("person")
        .distinct()
    )
    for consent in changed:
        if consent.covers(SEGMENT_SCOPE):
            _follow(club, consent, memberships.get(consent.partner_id), now)
    active = SegmentEnrolment.objects.filter(club=club, active=True).select_related("club")
    _deactivate(active.filter(counted_until__lte=now))
    expelled = [membership.pk for membership in memberships.values() if membership.standing == Standing.EXPELLED]
    if expelled:
        _deactivate(active.filter(membership_id__in=expelled))
    state.synced_at = now
    state.save(update_fields=["synced_at"])


# --- the query ------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentQuery:
    categories: list[str]
    week_from: date
    week_to: date
    epsilon: Decimal

    @property
    def weeks(self) -> int:
        return (self.week_to - self.week_from).days // 7 + 1

    def sensitivity(self) -> int:
        """The most cells one person can add 1 to in this query."""
        return min(len(self.categories), option("MAX_CATEGORIES_PER_WEEK")) * self.weeks


def live_enrolments(club: Club, now: datetime):
    return SegmentEnrolment.objects.filter(
        club=club, active=True, counted_from__lte=now, counted_until__gt=now
    ).exclude(membership__standing=Standing.EXPELLED)


def true_counts(*, club: Club, query: SegmentQuery, at_least: int = 1) -> list[tuple[tuple[str, str, date], int]]:
    """People per (category, cell, week), from the roll-up (valid right after ``sync``);
    ``at_least``: leave out smaller cells in SQL (``release`` would drop them anyway)."""
    rows = SegmentCount.objects.filter(
        club=club,
        week__gte=query.week_from,
        week__lte=query.week_to,
        category__in=query.categories,
        people__gte=max(1, at_least),
    ).values_list("category", "cell", "week", "people")
    return [((category, cell, week), people) for category, cell, week, people in rows]


def recount(*, club: Club, query: SegmentQuery, now: datetime) -> list[tuple[tuple[str, str, date], int]]:
    """The same counts from the facts themselves, joined to the live enrolments: one
    GROUP BY (each fact is one person in one category and week, so rows are people).
    The reference the roll-up is checked against (tests, bench baseline)."""
    live = live_enrolments(club, now).filter(pseudonym=OuterRef("pseudonym"))
    rows = (
        SegmentFact.objects.filter(
            club=club, week__gte=query.week_from, week__lte=query.week_to, category__in=query.categories
        )
        .filter(Exists(live))
        .values_list("category", "cell", "week")
        .annotate(people=Count("*"))
        .order_by()
    )
    return [((category, cell, week), people) for category, cell, week, people in rows]


def segment_query_parse(
    *, categories: list[str], week_from: date, week_to: date, epsilon: Decimal | None, default_epsilon: Decimal, now
) -> SegmentQuery:
    first, last = (
        week_of(datetime.combine(week_from, datetime.min.time(), UTC)),
        week_of(datetime.combine(week_to, datetime.min.time(), UTC)),
    )
    if first > last:
        raise InvalidSegmentQuery("`week_from` must not be after `week_to`.")
    if last > week_of(now):
        raise InvalidSegmentQuery("`week_to` must not be in the future.")
    query = SegmentQuery(categories=categories, week_from=first, week_to=last, epsilon=epsilon or default_epsilon)
    if query.weeks > option("MAX_WEEKS_PER_QUERY"):
        raise InvalidSegmentQuery(f"A query covers at most {option('MAX_WEEKS_PER_QUERY')} weeks.")
    if not Decimal("0.001") <= query.epsilon <= Decimal("10"):
        raise InvalidSegmentQuery("`epsilon` must lie between 0.001 and 10.")
    return query


@dataclass(frozen=True)
class SegmentAnswer:
    query: SegmentQuery
    k: int
    noise_scale: float
    charge: BudgetCharge
    budget_left: Decimal
    cells: list[dict[str, Any]]


def segments_query(
    *,
    club: Club,
    partner,
    categories: list[str] | None,
    week_from: date,
    week_to: date,
    epsilon: Decimal | None,
    now: datetime,
    noise: privacy.Noise = privacy.laplace,
) -> SegmentAnswer:
    """A member's segment query: rules and reciprocity, then the counts, the budget charge
    (refused once spent: nothing is released) and the release (suppression, noise)."""
    membership = membership_for(club=club, partner=partner)
    rules = rules_of(club)
    allowed = consumable_categories(membership=membership, rules=rules, requested=categories, now=now)
    query = segment_query_parse(
        categories=allowed,
        week_from=week_from,
        week_to=week_to,
        epsilon=epsilon,
        default_epsilon=rules.segment_epsilon_per_query,
        now=now,
    )
    sync(club=club, now=now)
    counts = true_counts(club=club, query=query, at_least=rules.segment_min_people)
    charge = privacy.budget_charge(
        membership=membership, rules=rules, epsilon=query.epsilon, use=BudgetCharge.Use.SEGMENTS, now=now
    )
    scale = query.sensitivity() / float(query.epsilon)
    released = privacy.release(counts, k=rules.segment_min_people, scale=scale, noise=noise)
    cells = []
    size_km = option("CELL_KM")
    for (category, cell, week), people in sorted(released, key=lambda pair: (pair[0][2], pair[0][0], pair[0][1])):
        centre = _cell_centre(cell, size_km) if cell else None
        cells.append(
            {
                "category": category,
                "week": week,
                "region": cell or None,
                "region_centre": {"lat": centre[0], "lon": centre[1]} if centre else None,
                "people": people,
            }
        )
    return SegmentAnswer(
        query=query,
        k=rules.segment_min_people,
        noise_scale=scale,
        charge=charge,
        budget_left=privacy.budget_left(membership=membership, rules=rules, now=now),
        cells=cells,
    )
