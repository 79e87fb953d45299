"""The demo's Rome example: Chiara's baroque week makes that interest rise."""

from __future__ import annotations

import io

import pytest

from broker import services as broker_services
from insights import demo as insights_demo
from insights import selectors

pytestmark = pytest.mark.django_db(transaction=True)


def test_chiara_sees_baroque_and_classical_interiors_rise_and_the_retailer_receives_it():
    vault_demo = pytest.importorskip("vault.demo")
    world: dict = {}
    out = io.StringIO()
    vault_demo.populate(world, out)
    retailer, _, _ = broker_services.partner_create(
        name="Velluto Furniture", redirect_uri="https://velluto.example/callback"
    )
    insights_demo.populate(world, out)
    chiara = next(person for person in world["people"] if person.username == "chiara")
    interests = {item["topic"]: item for item in selectors.interests_of(chiara)}
    baroque = interests["home.baroque-classical"]
    assert baroque["trend"] == "up"
    top_three = [item["topic"] for item in selectors.shareable_interests(chiara, limit=3)]
    assert "home.baroque-classical" in top_three
    evidence = selectors.evidence_for(chiara, "home.baroque-classical")
    assert any(item["reasons"].get("heart_rate", {}).get("bpm", 0) > 120 for item in evidence)
    assert "chiara" in out.getvalue()
    [disclosure] = selectors.disclosures_of(chiara)
    assert disclosure["partner"] == retailer.name
    assert "home.baroque-classical" in [item["topic"] for item in disclosure["interests"]]
    # Running it again changes nothing.
    before = selectors.timeline_of(chiara)
    insights_demo.populate(world, io.StringIO())
    assert selectors.timeline_of(chiara) == before
    assert len(selectors.disclosures_of(chiara)) == 1
