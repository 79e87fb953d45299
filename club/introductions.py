"""Introductions: a member asks the club to introduce it to the people of a segment.

The club (not the member) finds the consenting people whose facts match the segment and
sends each one the member's consent request, shown in her portal with a link to the
broker's consent screen. The member learns only how many requests were sent; it learns
who a person is only if she approves, through the normal OAuth flow (the code comes
back to its redirect URI with its PKCE challenge and state).

Guards: only people counted in segment statistics are matched (scope
``club.segments:aggregate``), and each person at most once per member: someone already
introduced to it is not asked again. The count is released like a statistics cell
(``privacy.release``, one cell, sensitivity 1): a segment of fewer than k people, or
whose noisy count falls below k, is refused (``SegmentTooSmall``) and nobody is asked;
otherwise the member learns only the noisy count (``requests_sent_approx``), as does the
ledger. Every introduction spends privacy budget like a query. At most
``MAX_INTRODUCTIONS`` requests per batch (a random sample beyond). The segment is not
stored, and the requests stay out of the member's consent lists until answered
(``broker.selectors.consents_of_partner``), so the exact count is nowhere to be read.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from oauth2_provider.models import Application

from broker import services as broker_services
from broker.models import Consent
from club import privacy, segments
from club.errors import InvalidIntroduction, SegmentTooSmall
from club.models import BudgetCharge, Club, Introduction, IntroductionBatch, SegmentFact
from club.selectors import consumable_categories, membership_for, rules_of
from ledger import services as ledger_services
from vault.errors import VaultKeyMissing
from vault.selectors import person_keys

PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43,128}$")


def _check_authorize(application: Application, authorize: dict[str, str]) -> dict[str, str]:
    redirect_uri = authorize.get("redirect_uri", "")
    if not redirect_uri or not application.redirect_uri_allowed(redirect_uri):
        raise InvalidIntroduction("`redirect_uri` must be one registered for your client.")
    if not PKCE_CHALLENGE.match(authorize.get("code_challenge", "")):
        raise InvalidIntroduction("`code_challenge` must be an S256 PKCE challenge (base64url, 43 to 128 chars).")
    if len(authorize.get("state", "")) > 200:
        raise InvalidIntroduction("`state` is at most 200 characters.")
    return {
        "redirect_uri": redirect_uri,
        "code_challenge": authorize["code_challenge"],
        "state": authorize.get("state", ""),
    }


def matching_people(*, club: Club, query: segments.SegmentQuery, now: datetime) -> list:
    """The people counted now whose facts meet the segment (any of its categories in any
    of its weeks). Walks the club's live segment consents and computes each person's
    pseudonym with her key: linear in the club's consenting people (the database alone
    cannot join a fact to a person, on purpose)."""
    member_partners = club.memberships.values_list("partner_id", flat=True)
    consents = (
        Consent.objects.filter(partner_id__in=member_partners, state=Consent.State.ACTIVE, expires_at__gt=now)
        .exclude(person=None)
        .select_related("person")
    )
    matching, seen = [], set()
    for consent in consents:
        person = consent.person
        if person.pk in seen or not consent.covers(segments.SEGMENT_SCOPE) or person.is_erased:
            continue
        seen.add(person.pk)
        try:
            pseudonym = segments.pseudonym_of(person_keys(person), club)
        except VaultKeyMissing:
            continue
        facts = SegmentFact.objects.filter(
            club=club,
            pseudonym=pseudonym,
            category__in=query.categories,
            week__gte=query.week_from,
            week__lte=query.week_to,
        )
        if facts.exists():
            matching.append(person)
    return matching


def _sample(people: list, limit: int) -> list:
    if len(people) <= limit:
        return people
    chooser = secrets.SystemRandom()
    return chooser.sample(people, limit)


def _check_terms(partner, application: Application, consent_terms: dict[str, Any]) -> None:
    """Validate the consent terms exactly as the broker will, by making one request and
    rolling it back: bad terms must fail before any budget is spent."""
    with transaction.atomic():
        broker_services.consent_request(partner=partner, application=application, **consent_terms)
        transaction.set_rollback(True)


def introductions_request(
    *,
    club: Club,
    partner,
    application: Application,
    categories: list[str] | None,
    week_from,
    week_to,
    consent_terms: dict[str, Any],
    authorize: dict[str, str],
    now: datetime,
    epsilon: Decimal | None = None,
    noise: privacy.Noise | None = None,
) -> IntroductionBatch:
    """Send the member's consent request to every matching person (up to the cap).
    A bad term, a too-small segment or a spent budget sends none. The budget is charged
    (and committed) before the segment is matched, so that even a refusal for a small
    segment costs budget: otherwise "at least k?" could be probed for free."""
    membership = membership_for(club=club, partner=partner)
    rules = rules_of(club)
    allowed = consumable_categories(membership=membership, rules=rules, requested=categories, now=now)
    query = segments.segment_query_parse(
        categories=allowed,
        week_from=week_from,
        week_to=week_to,
        epsilon=epsilon,
        default_epsilon=rules.segment_epsilon_per_query,
        now=now,
    )
    authorize = _check_authorize(application, authorize)
    _check_terms(partner, application, consent_terms)
    segments.sync(club=club, now=now)
    privacy.budget_charge(
        membership=membership, rules=rules, epsilon=query.epsilon, use=BudgetCharge.Use.INTRODUCTION, now=now
    )
    introduced = set(Introduction.objects.filter(batch__membership=membership).values_list("person_id", flat=True))
    people = [person for person in matching_people(club=club, query=query, now=now) if person.pk not in introduced]
    released = privacy.release(
        [("people", len(people))],
        k=rules.segment_min_people,
        scale=1 / float(query.epsilon),
        noise=noise or privacy.laplace,
    )
    if not released:
        raise SegmentTooSmall(
            f"Too few people match (fewer than {rules.segment_min_people}, or too close to tell); nobody was asked."
        )
    cap = segments.option("MAX_INTRODUCTIONS")
    chosen = _sample(people, cap)
    ((_, approx),) = released
    return _send(club, membership, application, chosen, consent_terms, authorize, approx=min(approx, cap))


@transaction.atomic
def _send(
    club: Club, membership, application: Application, people: list, consent_terms, authorize, *, approx: int
) -> IntroductionBatch:
    partner = membership.partner
    batch = IntroductionBatch.objects.create(club=club, membership=membership)
    chosen = people
    for person in chosen:
        consent = broker_services.consent_request(
            partner=partner, application=application, addressee=person, **consent_terms
        )
        Introduction.objects.create(batch=batch, person=person, consent=consent, authorize=authorize)
    batch.requests_sent, batch.requests_sent_approx = len(chosen), approx
    entry_id = ledger_services.append(
        kind="club.introduction.sent",
        actor=partner.audience,
        subject=club.ledger_id,
        body={
            "club": str(club.uid),
            "membership": str(membership.uid),
            "batch": str(batch.uid),
            "requests_sent_approx": approx,
        },
    )
    batch.ledger_entry_id = "" if entry_id is None else str(entry_id)
    batch.save(update_fields=["requests_sent", "requests_sent_approx", "ledger_entry_id"])
    return batch


def introductions_of(person) -> list[Introduction]:
    """The introductions sent to the person, newest first, with their consent request."""
    return list(
        Introduction.objects.filter(person=person).select_related("consent__partner", "consent__application", "batch")
    )


def authorize_query(introduction: Introduction) -> dict[str, str]:
    """The consent screen's query parameters for this introduction (the member's PKCE
    challenge and state, so that the code goes back to the member as usual)."""
    consent = introduction.consent
    return {
        "response_type": "code",
        "client_id": consent.application.client_id,
        "redirect_uri": introduction.authorize["redirect_uri"],
        "scope": " ".join(consent.scopes),
        "state": introduction.authorize["state"],
        "code_challenge": introduction.authorize["code_challenge"],
        "code_challenge_method": "S256",
        "consent_request": str(consent.uid),
    }
