"""The club's writes: clubs, admissions, rules, sanctions, contributions, deletions.

Every rules version, admission and sanction is appended to the ledger in the same
transaction (public ids, counts, category names and hashes only).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import Counter
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from broker.models import Consent, Partner
from club import segments
from club.errors import (
    AlreadyMember,
    CategoryNotAllowed,
    ClubError,
    InvalidObservation,
    InvalidRules,
    InvalidSanction,
    MemberExpelled,
    MemberSuspended,
    NotClubAdmin,
    ObservationNotFound,
    PrivacyBudgetExhausted,
    QuotaExceeded,
    ReadQuotaExceeded,
    ReciprocityRequired,
)
from club.models import (
    Club,
    ContributionTally,
    Membership,
    Observation,
    RuleVersion,
    Sanction,
    Standing,
    Violation,
)
from club.selectors import contributions_on, membership_for, rules_of
from ledger import services as ledger_services
from vault.selectors import ledger_pseudonym, person_keys
from vault.services import announce_new_records

CENT = Decimal("0.01")
CATEGORY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
MAX_LABEL_LENGTH = 200
Place = tuple[float, float]


def _payload(category: str, kind: str, label: str, place: Place | None) -> dict:
    payload: dict = {"category": category, "kind": kind, "label": label}
    if place is not None:
        # Sealed like the rest; only its ~10 km cell ever reaches the segment facts.
        payload["place"] = {"lat": place[0], "lon": place[1]}
    return payload


def _require_admin(club: Club, admin) -> None:
    if not club.is_admin(admin):
        raise NotClubAdmin()


@transaction.atomic
def club_create(*, name: str, admins: list) -> Club:
    club = Club(name=name)
    club.full_clean()
    club.save()
    club.admins.set(admins)
    return club


def _checked_categories(categories: list[str], field: str) -> list[str]:
    if not isinstance(categories, list) or not categories:
        raise InvalidRules(f"`{field}` must be a non-empty list of categories.")
    for category in categories:
        if not isinstance(category, str) or not CATEGORY_PATTERN.match(category):
            raise InvalidRules(f"`{field}`: categories are lowercase words with underscores.")
    return sorted(set(categories))


@transaction.atomic
def rules_publish(
    *,
    club: Club,
    admin,
    contribute_categories: list[str],
    consume_categories: list[str],
    reciprocity_min_count: int,
    reciprocity_period_days: int,
    daily_contribution_quota: int = 0,
    price_per_item: Decimal = Decimal("0"),
    person_share_percent: int = 50,
    daily_read_quota: int = 0,
    segment_min_people: int = 10,
    segment_epsilon_per_query: Decimal = Decimal("0.5"),
    segment_budget_per_period: Decimal = Decimal("5"),
    segment_budget_period_days: int = 30,
) -> RuleVersion:
    """A new version of the club's rules, in force from now, recorded on the ledger."""
    _require_admin(club, admin)
    contribute = _checked_categories(contribute_categories, "contribute_categories")
    consume = _checked_categories(consume_categories, "consume_categories")
    if reciprocity_min_count < 0 or reciprocity_period_days < 1 or daily_contribution_quota < 0:
        raise InvalidRules("Counts must not be negative and the period must be at least one day.")
    if price_per_item < 0 or price_per_item != price_per_item.quantize(CENT) or not 0 <= person_share_percent <= 100:
        raise InvalidRules("The price is a non-negative amount in cents; the person's share is 0 to 100 percent.")
    if daily_read_quota < 0 or segment_min_people < 2 or segment_budget_period_days < 1:
        raise InvalidRules("The read quota must not be negative, k is at least 2, the budget period a day or more.")
    if not Decimal("0") < segment_epsilon_per_query <= segment_budget_per_period:
        raise InvalidRules("Epsilon per query must be positive and within the budget per period.")
    # Lock the club row so two admins publishing at once get consecutive versions.
    Club.objects.select_for_update().filter(pk=club.pk).first()
    latest = club.current_rules()
    rules = RuleVersion.objects.create(
        club=club,
        version=(latest.version + 1) if latest else 1,
        contribute_categories=contribute,
        consume_categories=consume,
        reciprocity_min_count=reciprocity_min_count,
        reciprocity_period_days=reciprocity_period_days,
        daily_contribution_quota=daily_contribution_quota,
        price_per_item=price_per_item,
        person_share_percent=person_share_percent,
        daily_read_quota=daily_read_quota,
        segment_min_people=segment_min_people,
        segment_epsilon_per_query=segment_epsilon_per_query,
        segment_budget_per_period=segment_budget_per_period,
        segment_budget_period_days=segment_budget_period_days,
        published_by=admin,
    )
    entry_id = ledger_services.append(
        kind="club.rules.published",
        actor=club.ledger_id,
        subject=club.ledger_id,
        body={"club": str(club.uid), "rules": str(rules.uid), **rules.as_document()},
    )
    rules.ledger_entry_id = str(entry_id)
    rules.save(update_fields=["ledger_entry_id"])
    return rules


@transaction.atomic
def member_admit(*, club: Club, admin, partner: Partner, reveal_name: bool = False) -> Membership:
    _require_admin(club, admin)
    if Membership.objects.filter(club=club, partner=partner).exists():
        raise AlreadyMember()
    membership = Membership.objects.create(club=club, partner=partner, admitted_by=admin, reveal_name=reveal_name)
    ledger_services.append(
        kind="club.member.admitted",
        actor=club.ledger_id,
        subject=partner.audience,
        body={"club": str(club.uid), "membership": str(membership.uid), "partner": str(partner.uid)},
    )
    return membership


@transaction.atomic
def member_sanction(*, membership: Membership, admin, standing: str, reason_code: str, reason_text: str) -> Sanction:
    """Warn, suspend, expel (or reinstate to good standing) a member, with the reason.

    The next call of a suspended or expelled member is refused (its standing is read
    on every call). The reason's words stay in the database; the ledger gets its hash.
    """
    club = membership.club
    _require_admin(club, admin)
    if standing not in Standing.values or reason_code not in Sanction.Reason.values:
        raise InvalidSanction("Unknown standing or reason code.")
    if not reason_text.strip() or len(reason_text) > 500:
        raise InvalidSanction("A sanction needs a reason of at most 500 characters.")
    if membership.standing == Standing.EXPELLED:
        raise InvalidSanction("An expelled member cannot be sanctioned again: admit a new membership.")
    sanction = Sanction.objects.create(
        membership=membership, standing=standing, reason_code=reason_code, reason_text=reason_text, decided_by=admin
    )
    membership.standing = standing
    membership.save(update_fields=["standing", "updated_at"])
    entry_id = ledger_services.append(
        kind="club.member.sanctioned",
        actor=club.ledger_id,
        subject=membership.partner.audience,
        body={
            "club": str(club.uid),
            "membership": str(membership.uid),
            "sanction": str(sanction.uid),
            "standing": standing,
            "reason_code": reason_code,
            "reason_sha256": hashlib.sha256(reason_text.encode()).hexdigest(),
        },
    )
    sanction.ledger_entry_id = str(entry_id)
    sanction.save(update_fields=["ledger_entry_id"])
    return sanction


# Refusals that mean a member tried to go past the club's rules or its sanction. Bad input
# (an unknown club, a malformed date) is a mistake, not a violation.
VIOLATIONS = frozenset(
    error.code
    for error in (
        CategoryNotAllowed,
        ReciprocityRequired,
        QuotaExceeded,
        ReadQuotaExceeded,
        PrivacyBudgetExhausted,
        MemberSuspended,
        MemberExpelled,
    )
)


def violation_record(*, club: Club, partner: Partner, error: ClubError, now: datetime) -> Violation | None:
    """Note a member's refused call as a violation of the rule it broke: the first per rule
    and UTC day on the ledger (so an auditor sees the club enforce its rules, and admins
    see what to sanction), later ones counted. Anything else returns None."""
    if error.code not in VIOLATIONS:
        return None
    membership = Membership.objects.filter(club=club, partner=partner).first()
    if membership is None:
        return None
    with transaction.atomic():
        violation, created = Violation.objects.select_for_update().get_or_create(
            membership=membership, rule=error.code, day=now.date(), defaults={"first_at": now, "last_at": now}
        )
        if not created:
            Violation.objects.filter(pk=violation.pk).update(count=F("count") + 1, last_at=now)
            return violation
        entry_id = ledger_services.append(
            kind="club.rule.violated",
            actor=club.ledger_id,
            subject=partner.audience,
            body={
                "club": str(club.uid),
                "membership": str(membership.uid),
                "rule": error.code,
                "day": violation.day.isoformat(),
            },
        )
        violation.ledger_entry_id = str(entry_id)
        violation.save(update_fields=["ledger_entry_id"])
    return violation


def check_observation(
    *, category: str, kind: str, label: str, observed_at: datetime, now: datetime, place: Place | None = None
) -> None:
    if place is not None and not (-90 <= place[0] <= 90 and -180 <= place[1] <= 180):
        raise InvalidObservation("`lat` must lie within -90..90 and `lon` within -180..180.")
    if not isinstance(category, str) or not CATEGORY_PATTERN.match(category):
        raise InvalidObservation("`category` must be a lowercase word with underscores.")
    if observed_at > now:
        raise InvalidObservation("`observed_at` must not be in the future.")
    if kind not in Observation.KINDS:
        raise InvalidObservation(f"`kind` must be one of: {', '.join(Observation.KINDS)}.")
    if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL_LENGTH:
        raise InvalidObservation(f"`label` must be 1 to {MAX_LABEL_LENGTH} characters.")


def _count_contribution(membership: Membership, category: str, day) -> None:
    tally, _ = ContributionTally.objects.get_or_create(membership=membership, category=category, day=day)
    ContributionTally.objects.filter(pk=tally.pk).update(count=F("count") + 1)


def observation_contribute(
    *,
    consent: Consent,
    club: Club,
    category: str,
    kind: str,
    label: str,
    observed_at: datetime,
    now: datetime,
    place: Place | None = None,
) -> tuple[Observation, bool]:
    """Seal a member's observation into the person's vault and count it toward the
    member's reciprocity. Returns ``(observation, created)``: the same observation sent
    twice is stored once (and counted once).

    Call inside the caller's transaction, with the consent already checked
    (``broker.access.check``) for ``vault.contribute:write``.
    """
    check_observation(category=category, kind=kind, label=label, observed_at=observed_at, now=now, place=place)
    membership = membership_for(club=club, partner=consent.partner)
    rules = rules_of(club)
    if not rules.allows_contribution(category):
        raise CategoryNotAllowed(f"The club rules do not allow contributions in `{category}`.")
    keys = person_keys(consent.person)
    identity = [Observation.RECORD_TYPE, club.uid, membership.uid, category, kind, label, observed_at.isoformat()]
    fingerprint = keys.fingerprint(*identity, *(place or ()))
    existing = Observation.objects.filter(owner=consent.person, fingerprint=fingerprint).first()
    if existing is not None:
        return existing, False
    quota = rules.daily_contribution_quota
    if quota:
        # Serialise one member's contributions so concurrent calls cannot overshoot the quota.
        Membership.objects.select_for_update().filter(pk=membership.pk).first()
    if quota and contributions_on(membership, now.date()) >= quota:
        raise QuotaExceeded()
    observation_id = uuid.uuid4()
    observation = Observation.objects.create(
        id=observation_id,
        owner=consent.person,
        sealed=keys.seal(Observation.RECORD_TYPE, observation_id, _payload(category, kind, label, place)),
        fingerprint=fingerprint,
        source=consent.partner.audience,
        club=club,
        contributor=membership,
        observed_at=observed_at,
    )
    _count_contribution(membership, category, now.date())
    segments.facts_refresh(club=club, person=consent.person, keys=keys)
    announce_new_records(consent.person, since=observed_at)
    return observation, True


def _own_observation(person, observation_id: uuid.UUID) -> Observation:
    observation = Observation.objects.select_related("club").filter(owner=person, id=observation_id).first()
    if observation is None:
        raise ObservationNotFound()
    return observation


@transaction.atomic
def observation_delete(*, person, observation_id: uuid.UUID) -> None:
    """The person deletes an observation about her: gone from every later read, the
    club view and the segment statistics alike."""
    observation = _own_observation(person, observation_id)
    club, observed_at = observation.club, observation.observed_at
    observation.delete()
    segments.facts_refresh(club=club, person=person)
    announce_new_records(person, since=observed_at)


@transaction.atomic
def observation_correct(*, person, observation_id: uuid.UUID, category: str, kind: str, label: str) -> Observation:
    """The person corrects what a member said about her (category, kind or label). The
    time, place and source stay; every later read sees the correction."""
    observation = _own_observation(person, observation_id)
    check_observation(
        category=category, kind=kind, label=label, observed_at=observation.observed_at, now=timezone.now()
    )
    keys = person_keys(person)
    place = observation.open(keys).get("place")
    observation.sealed = keys.seal(
        Observation.RECORD_TYPE,
        observation.id,
        _payload(category, kind, label, (place["lat"], place["lon"]) if place else None),
    )
    observation.save(update_fields=["sealed"])
    segments.facts_refresh(club=observation.club, person=person, keys=keys)
    announce_new_records(person, since=observation.observed_at)
    return observation


def read_settle(*, club: Club, rules: RuleVersion, reader: Membership, person, items: list[dict]) -> list[uuid.UUID]:
    """Pay for a club read, as the rules say: the reader pays ``price_per_item`` for each
    observation another member contributed (its own are free); each contributor gets its
    share of what its observations earned, rounded down to the cent, and the person the
    rest, so rounding never creates or loses a cent.

    One ``value.transferred`` ledger entry per payee (the broker's kind, so
    ``ledger.selectors.balance_of`` counts them), all carrying the same ``read`` id:
    an auditor checks from the ledger alone that they add up to ``price * items``.
    Call inside the read's transaction. Returns the entry ids."""
    counts = Counter(item["contributor_partner"] for item in items if item["contributor_partner"] != reader.partner.uid)
    items_paid = sum(counts.values())
    total = rules.price_per_item * items_paid
    if total <= 0:
        return []
    contributor_share = Decimal(100 - rules.person_share_percent) / 100
    splits = [
        (f"partner:{partner_uid}", (rules.price_per_item * count * contributor_share).quantize(CENT, ROUND_DOWN))
        for partner_uid, count in sorted(counts.items(), key=lambda pair: str(pair[0]))
    ]
    person_id = f"person:{ledger_pseudonym(person)}"
    splits.insert(0, (person_id, total - sum(amount for _, amount in splits)))
    read_id = str(uuid.uuid4())
    return [
        ledger_services.append(
            kind="value.transferred",
            actor=reader.partner.audience,
            subject=person_id,
            body={
                "from": reader.partner.audience,
                "to": payee,
                "amount": f"{amount:.2f}",
                "currency": "credits",
                "club": str(club.uid),
                "rules_version": rules.version,
                "read": read_id,
                "read_amount": f"{total:.2f}",
                "read_items": items_paid,
            },
        )
        for payee, amount in splits
        if amount > 0
    ]
