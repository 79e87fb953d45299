from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from club import services
from club.errors import InvalidRules
from club.models import RuleVersion
from ledger import selectors as ledger
from tests.club.conftest import Observation as Obs
from tests.club.conftest import club_grant, contribute, view

pytestmark = pytest.mark.django_db


def club_transfers(ledger_entries: list[dict]) -> dict[str, list[dict]]:
    """The club's value entries, grouped by read: what an auditor sees on the ledger."""
    reads: dict[str, list[dict]] = defaultdict(list)
    for entry in ledger_entries:
        if entry["kind"] == "value.transferred" and "club" in entry["body"]:
            reads[entry["body"]["read"]].append(entry["body"])
    return dict(reads)


def assert_balanced(bodies: list[dict]) -> None:
    """Every transfer of one read comes from the reader and they add up to the read's amount."""
    assert len({body["from"] for body in bodies}) == 1
    assert len({body["read_amount"] for body in bodies}) == 1
    assert sum(Decimal(body["amount"]) for body in bodies) == Decimal(bodies[0]["read_amount"])
    assert all(Decimal(body["amount"]) > 0 for body in bodies)


def priced_rules(club, admin, price: str, share: int) -> None:
    services.rules_publish(
        club=club,
        admin=admin,
        contribute_categories=["furniture", "insurance"],
        consume_categories=["furniture", "insurance"],
        reciprocity_min_count=2,
        reciprocity_period_days=30,
        price_per_item=Decimal(price),
        person_share_percent=share,
    )


def test_a_club_read_pays_the_person_and_the_other_contributors(
    person, club, admin, chairs, chairs_member, insurer, insurer_member, ledger_entries
):
    priced_rules(club, admin, "1.00", 50)
    theirs = club_grant(person, insurer)
    contribute(theirs, club, Obs(label="Insured a sofa"))
    contribute(theirs, club, Obs(label="Insured a lamp"))
    token = club_grant(person, chairs)
    contribute(token, club, Obs(label="one"))
    contribute(token, club, Obs(label="two"))

    response = view(token, club, category="furniture")
    assert response.status_code == 200
    assert len(response.json()["items"]) == 4
    [bodies] = club_transfers(ledger_entries).values()
    assert_balanced(bodies)
    # Only the two observations of the other member are paid for.
    assert bodies[0]["read_items"] == 2
    assert bodies[0]["read_amount"] == "2.00"
    person_id = next(body["to"] for body in bodies if body["to"].startswith("person:"))
    assert {body["to"]: body["amount"] for body in bodies} == {
        person_id: "1.00",
        f"partner:{insurer.partner.uid}": "1.00",
    }
    assert "alice" not in str(bodies)
    # Balances come from the ledger: what the reader paid is what the others received.
    reader, contributor = chairs.partner.audience, insurer.partner.audience
    assert ledger.balance_of(reader) == Decimal("-2.00")
    assert ledger.balance_of(person_id) + ledger.balance_of(contributor) == Decimal("2.00")


def test_an_unpriced_club_or_a_refused_read_moves_no_value(
    person, club, admin, chairs, chairs_member, insurer, insurer_member, ledger_entries
):
    theirs = club_grant(person, insurer)
    contribute(theirs, club, Obs(label="Insured a sofa"))
    token = club_grant(person, chairs)
    assert view(token, club, category="furniture").status_code == 403  # ReciprocityRequired
    contribute(token, club, Obs(label="one"))
    contribute(token, club, Obs(label="two"))
    assert view(token, club, category="furniture").status_code == 200  # the fixture's rules are free
    assert club_transfers(ledger_entries) == {}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    price=st.integers(min_value=1, max_value=10_000),
    share=st.integers(min_value=0, max_value=100),
    counts=st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=4),
)
def test_the_split_always_balances_to_the_cent(person, club, chairs_member, ledger_entries, price, share, counts):
    rules = RuleVersion(version=1, price_per_item=Decimal(price) / 100, person_share_percent=share)
    contributors = [uuid.uuid4() for _ in counts]
    items = [{"contributor_partner": uid} for uid, n in zip(contributors, counts, strict=True) for _ in range(n)]
    ids = services.read_settle(club=club, rules=rules, reader=chairs_member, person=person, items=items)
    bodies = [entry["body"] for entry in ledger_entries if entry["id"] in ids]
    assert len(bodies) == len(ids)
    assert_balanced(bodies)
    assert Decimal(bodies[0]["read_amount"]) == rules.price_per_item * sum(counts)


def test_invalid_prices_are_refused(club, admin):
    for price, share in (("-1.00", 50), ("0.001", 50), ("1.00", 101)):
        with pytest.raises(InvalidRules):
            priced_rules(club, admin, price, share)
    assert RuleVersion.objects.filter(club=club).count() == 1
