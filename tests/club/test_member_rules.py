from __future__ import annotations

import pytest
from django.test import Client

from club import services
from tests.club.conftest import Observation as Obs
from tests.club.conftest import club_grant, contribute

pytestmark = pytest.mark.django_db


def rules_of(world, club):
    return Client().get(f"/api/v1/club/clubs/{club.uid}/rules", HTTP_AUTHORIZATION=world.basic_auth())


def test_it_works_a_member_sees_rules_standing_and_its_contributions(person, club, chairs, chairs_member):
    token = club_grant(person, chairs)
    contribute(token, club, Obs(label="one"))
    response = rules_of(chairs, club)
    assert response.status_code == 200
    body = response.json()
    assert body["standing"] == "good"
    assert body["rules"]["version"] == 1
    assert body["rules"]["reciprocity"] == {"min_count": 2, "period_days": 30}
    assert body["contributions"] == {"furniture": 1, "insurance": 0}


def test_a_suspended_member_still_sees_its_standing(club, admin, chairs, chairs_member):
    services.member_sanction(
        membership=chairs_member, admin=admin, standing="suspended", reason_code="other", reason_text="Audit."
    )
    assert rules_of(chairs, club).json()["standing"] == "suspended"


def test_an_outsider_is_refused(club, outsider):
    response = rules_of(outsider, club)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "NotClubMember"


def test_it_needs_client_credentials(club, chairs, chairs_member):
    response = Client().get(f"/api/v1/club/clubs/{club.uid}/rules")
    assert response.status_code in (401, 403)
    assert "rules" not in response.json()
