from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from broker.models import AccessLogEntry
from club import services
from club.models import ContributionTally, Observation
from tests.club.conftest import Observation as Obs
from tests.club.conftest import club_grant, contribute, view

pytestmark = pytest.mark.django_db


@pytest.fixture
def insurer_saw_a_move(person, club, insurer, insurer_member):
    """The insurer contributed two furniture observations about the person."""
    token = club_grant(person, insurer)
    assert contribute(token, club, Obs(label="Insured a new sofa")).status_code == 201
    assert contribute(token, club, Obs(category="insurance", label="Home insurance")).status_code == 201
    return token


def labels(response) -> list[str]:
    return sorted(item["label"] for item in response.json()["items"])


def test_reciprocity_required_then_success_after_contributing_enough(
    person, club, chairs, chairs_member, insurer_saw_a_move
):
    token = club_grant(person, chairs)
    refused = view(token, club, category="furniture")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "ReciprocityRequired"

    # The rules ask for 2 contributions within 30 days: one is not enough.
    assert contribute(token, club, Obs(label="Bought a blue sofa")).status_code == 201
    assert view(token, club, category="furniture").json()["error"]["code"] == "ReciprocityRequired"

    assert contribute(token, club, Obs(label="Bought an armchair")).status_code == 201
    allowed = view(token, club, category="furniture")
    assert allowed.status_code == 200, allowed.content
    assert labels(allowed) == ["Bought a blue sofa", "Bought an armchair", "Insured a new sofa"]
    assert {item["category"] for item in allowed.json()["items"]} == {"furniture"}
    # Insurance needs its own contributions.
    assert view(token, club, category="insurance").json()["error"]["code"] == "ReciprocityRequired"
    outcomes = list(AccessLogEntry.objects.filter(scope="club.view:read").values_list("outcome", "error_code"))
    assert outcomes.count(("denied", "ReciprocityRequired")) == 3
    assert ("allowed", "") in outcomes


def test_without_a_category_it_reads_every_category_it_qualifies_for(
    person, club, chairs, chairs_member, insurer_saw_a_move
):
    token = club_grant(person, chairs)
    assert view(token, club).json()["error"]["code"] == "ReciprocityRequired"
    contribute(token, club, Obs(label="one"))
    contribute(token, club, Obs(label="two"))
    response = view(token, club)
    assert response.status_code == 200
    assert response.json()["categories"] == ["furniture"]
    assert "Home insurance" not in labels(response)


def test_contributions_older_than_the_period_do_not_count(person, club, chairs, chairs_member, insurer_saw_a_move):
    ContributionTally.objects.create(
        membership=chairs_member, category="furniture", day=(timezone.now() - timedelta(days=31)).date(), count=50
    )
    token = club_grant(person, chairs)
    assert view(token, club, category="furniture").json()["error"]["code"] == "ReciprocityRequired"


def test_a_category_the_rules_do_not_share_is_refused(person, club, chairs, chairs_member):
    token = club_grant(person, chairs)
    for _ in range(2):
        contribute(token, club, Obs(category="home", label=f"moved {_}"))
    response = view(token, club, category="home")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "CategoryNotAllowed"


def test_the_contributor_is_named_only_if_it_allows(person, club, chairs, chairs_member, insurer_saw_a_move):
    token = club_grant(person, chairs)
    contribute(token, club, Obs(label="Bought a blue sofa"))
    contribute(token, club, Obs(label="Bought an armchair"))
    items = view(token, club, category="furniture").json()["items"]
    named = {item["label"]: item["contributor"] for item in items}
    assert named == {"Insured a new sofa": "Safe Insurance", "Bought a blue sofa": None, "Bought an armchair": None}
    # Ids are pairwise to the reader: never the vault's row ids.
    assert not {item["id"] for item in items} & {str(pk) for pk in Observation.objects.values_list("id", flat=True)}


def test_a_suspended_member_is_refused_and_reinstatement_restores_access(
    person, club, admin, chairs, chairs_member, insurer_saw_a_move
):
    token = club_grant(person, chairs)
    contribute(token, club, Obs(label="one"))
    contribute(token, club, Obs(label="two"))
    assert view(token, club, category="furniture").status_code == 200

    services.member_sanction(
        membership=chairs_member,
        admin=admin,
        standing="suspended",
        reason_code="rule_breach",
        reason_text="Shared club data outside the club.",
    )
    refused = view(token, club, category="furniture")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "MemberSuspended"
    blocked = contribute(token, club, Obs(label="three"))
    assert blocked.status_code == 403
    assert blocked.json()["error"]["code"] == "MemberSuspended"
    assert Observation.objects.filter(contributor=chairs_member).count() == 2

    services.member_sanction(
        membership=chairs_member, admin=admin, standing="good", reason_code="reinstated", reason_text="Fixed."
    )
    assert view(token, club, category="furniture").status_code == 200


def test_an_expelled_member_is_refused(person, club, admin, chairs, chairs_member):
    token = club_grant(person, chairs)
    services.member_sanction(
        membership=chairs_member, admin=admin, standing="expelled", reason_code="other", reason_text="Left."
    )
    assert view(token, club).json()["error"]["code"] == "MemberExpelled"


def test_a_deleted_contribution_is_absent_from_all_later_reads(person, club, chairs, chairs_member, insurer_saw_a_move):
    token = club_grant(person, chairs)
    contribute(token, club, Obs(label="one"))
    contribute(token, club, Obs(label="two"))
    assert "Insured a new sofa" in labels(view(token, club, category="furniture"))

    browser = Client()
    browser.force_login(person)
    mine = browser.get("/api/v1/club/me/observations").json()
    target = next(item["id"] for item in mine if item["label"] == "Insured a new sofa")
    assert browser.delete(f"/api/v1/club/me/observations/{target}").status_code == 204

    for _ in range(2):
        assert labels(view(token, club, category="furniture")) == ["one", "two"]
    assert all(item["id"] != target for item in browser.get("/api/v1/club/me/observations").json())


def test_a_person_cannot_delete_someone_elses_observation(
    person, other_person, club, chairs, chairs_member, insurer_saw_a_move
):
    target = Observation.objects.filter(owner=person).first()
    browser = Client()
    browser.force_login(other_person)
    response = browser.delete(f"/api/v1/club/me/observations/{target.id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "ObservationNotFound"
    assert Observation.objects.filter(pk=target.pk).exists()


def test_the_view_shows_only_the_consenting_person(
    person, other_person, club, chairs, chairs_member, insurer, insurer_member
):
    theirs = club_grant(other_person, insurer)
    contribute(theirs, club, Obs(label="Bob's sofa"))
    token = club_grant(person, chairs)
    contribute(token, club, Obs(label="one"))
    contribute(token, club, Obs(label="two"))
    assert labels(view(token, club, category="furniture")) == ["one", "two"]


def test_it_needs_the_view_scope(person, club, chairs, chairs_member):
    token = club_grant(person, chairs, scopes=["vault.contribute:write"])
    contribute(token, club, Obs(label="one"))
    contribute(token, club, Obs(label="two"))
    response = view(token, club, category="furniture")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "ScopeNotGranted"


def test_an_outsider_firm_is_refused(person, club, outsider, insurer_saw_a_move):
    token = club_grant(person, outsider)
    response = view(token, club)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "NotClubMember"


def test_a_malformed_club_id_is_404(person, club, chairs, chairs_member):
    token = club_grant(person, chairs)
    response = token.get("/api/v1/club/view", club="not-a-uuid")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "ClubNotFound"
