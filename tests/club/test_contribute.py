from __future__ import annotations

import pytest

from broker.models import AccessLogEntry
from club import selectors, services
from club.models import ContributionTally, Observation
from tests.club.conftest import Observation as Obs
from tests.club.conftest import club_grant, contribute

pytestmark = pytest.mark.django_db


def test_it_works_the_observation_is_sealed_in_her_vault(person, club, chairs, chairs_member):
    token = club_grant(person, chairs)
    response = contribute(token, club, Obs(label="Bought a blue sofa"))
    assert response.status_code == 201, response.content
    assert response.json()["created"] is True
    row = Observation.objects.get()
    assert row.owner == person
    assert row.source == f"partner:{chairs.partner.uid}"
    assert row.contributor == chairs_member
    assert b"blue sofa" not in bytes(row.sealed)
    assert b"furniture" not in bytes(row.sealed)
    # The response id is pairwise, not the vault's row id.
    assert response.json()["id"] != str(row.id)
    mine = selectors.observations_about(person)
    assert [(item["label"], item["category"], item["contributor"]) for item in mine] == [
        ("Bought a blue sofa", "furniture", "Cosy Chairs")
    ]
    assert ContributionTally.objects.get(membership=chairs_member, category="furniture").count == 1


def test_the_same_observation_twice_is_stored_and_counted_once(person, club, chairs, chairs_member):
    token = club_grant(person, chairs)
    observed = "2026-01-05T10:00:00+00:00"
    assert contribute(token, club, observed_at=observed).status_code == 201
    again = contribute(token, club, observed_at=observed)
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert Observation.objects.count() == 1
    assert ContributionTally.objects.get(membership=chairs_member).count == 1


def test_it_needs_the_contribute_scope(person, club, chairs, chairs_member):
    token = club_grant(person, chairs, scopes=["club.view:read"])
    response = contribute(token, club)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "ScopeNotGranted"
    assert not Observation.objects.exists()
    assert AccessLogEntry.objects.get().outcome == AccessLogEntry.Outcome.DENIED


def test_an_outsider_firm_cannot_contribute(person, club, outsider):
    token = club_grant(person, outsider)
    response = contribute(token, club)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "NotClubMember"
    assert not Observation.objects.exists()


def test_a_category_outside_the_rules_is_refused(person, club, chairs, chairs_member):
    token = club_grant(person, chairs)
    response = contribute(token, club, Obs(category="health"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "CategoryNotAllowed"
    assert not Observation.objects.exists()
    assert not ContributionTally.objects.exists()


def test_bad_input_is_a_clear_error_without_echoing_it(person, club, chairs, chairs_member):
    token = club_grant(person, chairs)
    response = contribute(token, club, kind="gossip", label="x" * 201)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "InvalidObservation"
    assert "kind" in error["message"]
    assert "label" in error["message"]
    assert "gossip" not in error["message"]
    assert not Observation.objects.exists()


def test_an_observation_from_the_future_is_refused(person, club, chairs, chairs_member):
    token = club_grant(person, chairs)
    response = contribute(token, club, Obs(minutes_ago=-60))
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"InvalidObservation", "InvalidDateRange"}
    assert not Observation.objects.exists()


def test_an_unknown_club_is_404(person, club, chairs, chairs_member):
    token = club_grant(person, chairs)
    response = contribute(token, club, club="00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "ClubNotFound"


def test_the_daily_quota_is_enforced(person, club, admin, chairs, chairs_member):
    services.rules_publish(
        club=club,
        admin=admin,
        contribute_categories=["furniture"],
        consume_categories=["furniture"],
        reciprocity_min_count=1,
        reciprocity_period_days=30,
        daily_contribution_quota=2,
    )
    token = club_grant(person, chairs)
    assert contribute(token, club, Obs(label="one")).status_code == 201
    assert contribute(token, club, Obs(label="two")).status_code == 201
    third = contribute(token, club, Obs(label="three"))
    assert third.status_code == 429
    assert third.json()["error"]["code"] == "QuotaExceeded"
    assert Observation.objects.count() == 2


def test_a_revoked_consent_stores_nothing(person, club, chairs, chairs_member):
    from broker import services as broker_services

    token = club_grant(person, chairs)
    broker_services.consent_revoke(consent=token.consent, person=person)
    response = contribute(token, club)
    assert response.status_code in (401, 403)
    assert not Observation.objects.exists()
