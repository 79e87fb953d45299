"""The club's test world: a club with an admin, two member firms (Cosy Chairs and Safe
Insurance) and an outsider firm, and consents granted through the real OAuth flow."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from broker.models import Consent
from club import segments, services
from club.models import Club, ContributionTally, Membership
from tests.broker.conftest import Grant, PartnerWorld, grant, ledger_entries, make_partner, webhook_sender  # noqa: F401

BOTH = ["vault.contribute:write", "club.view:read"]
# The test club's rules: members consume furniture and insurance after 2 contributions in 30 days.
HOME_LIFE_RULES = {
    "contribute_categories": ["furniture", "insurance", "home"],
    "consume_categories": ["furniture", "insurance"],
    "reciprocity_min_count": 2,
    "reciprocity_period_days": 30,
}


@pytest.fixture
def admin(db) -> User:
    return User.objects.create_user(username="club-admin", password="x", is_staff=True)


@pytest.fixture
def club(admin) -> Club:
    club = services.club_create(name="Home Life Club", admins=[admin])
    services.rules_publish(club=club, admin=admin, **HOME_LIFE_RULES)
    return club


@pytest.fixture
def chairs(db) -> PartnerWorld:
    return make_partner("Cosy Chairs")


@pytest.fixture
def insurer(db) -> PartnerWorld:
    return make_partner("Safe Insurance")


@pytest.fixture
def outsider(db) -> PartnerWorld:
    return make_partner("Nosy Ads")


@pytest.fixture
def chairs_member(club, admin, chairs) -> Membership:
    return services.member_admit(club=club, admin=admin, partner=chairs.partner)


@pytest.fixture
def insurer_member(club, admin, insurer) -> Membership:
    return services.member_admit(club=club, admin=admin, partner=insurer.partner, reveal_name=True)


def club_grant(person, world: PartnerWorld, scopes: list[str] | None = None) -> Grant:
    """An unpriced consent (contributions are not paid reads) with the club scopes."""
    return grant(
        person,
        world,
        scopes=scopes or BOTH,
        price_amount=Decimal("0"),
        price_basis=Consent.PriceBasis.NONE,
        data_from=timezone.now() - timedelta(days=365),
    )


@dataclass
class Observation:
    category: str = "furniture"
    kind: str = "purchase"
    label: str = "Bought a blue sofa"
    minutes_ago: int = 60


def observed_week():
    """The week of an observation ``contribute`` sends by default (``minutes_ago`` before
    now): in the first hour of a Monday that is last week, not this one."""
    return segments.week_of(timezone.now() - timedelta(minutes=Observation.minutes_ago))


def contribute(token: Grant, club: Club, observation: Observation | None = None, /, **overrides):
    """POST one observation; keyword overrides replace body fields (even ``club``)."""
    observation = observation or Observation()
    body = {
        "club": str(club.uid),
        "category": observation.category,
        "kind": observation.kind,
        "label": observation.label,
        "observed_at": (timezone.now() - timedelta(minutes=observation.minutes_ago)).isoformat(),
        **overrides,
    }
    return Client().post(
        "/api/v1/club/observations",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token.access_token}",
    )


def view(token: Grant, club: Club, **params):
    return token.get("/api/v1/club/view", club=str(club.uid), **params)


def publish_small_rules(club: Club, admin: User, *, budget: str) -> Club:
    """Rules with k = 2, so that a few people are enough to see segment cells appear and
    disappear; members consume furniture and insurance after 2 contributions in 30 days."""
    services.rules_publish(
        club=club,
        admin=admin,
        **HOME_LIFE_RULES,
        segment_min_people=2,
        segment_budget_per_period=Decimal(budget),
    )
    return club


def qualify_to_consume(member: Membership) -> Membership:
    """Five recent contributions in each consumable category: reciprocity is met."""
    for category in ("furniture", "insurance"):
        ContributionTally.objects.create(membership=member, category=category, day=timezone.now(), count=5)
    return member
