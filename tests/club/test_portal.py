"""The club's portal pages, with Django's test client: a person's observations (correct,
delete) and club consents; a member firm's rules, standing, contributions, budget,
spend and earnings."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from broker import services as broker_services
from club import services
from club.models import ContributionTally, Observation
from tests.club.conftest import Observation as Obs
from tests.club.conftest import club_grant, contribute, view

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def observed(person, club, insurer, insurer_member):
    token = club_grant(person, insurer)
    assert contribute(token, club, Obs(label="Insured a new sofa")).status_code == 201
    return Observation.objects.get(owner=person)


def staff_of(world, username: str) -> User:
    user = User.objects.create_user(username=username, password="x", role=User.Role.PARTNER_STAFF)
    broker_services.partner_staff_add(partner=world.partner, user=user)
    return user


def test_the_person_sees_who_contributed_what_and_her_club_consents(person, observed):
    page = signed_in(person).get("/club/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Insured a new sofa" in html
    assert "Safe Insurance" in html
    assert f"/club/observations/{observed.id}/correct/" in html
    assert len(page.context["consents"]) == 1
    assert 'aria-current="page"' in html  # the nav marks the page


def test_a_correction_takes_effect_on_every_later_read(person, club, chairs, chairs_member, observed):
    browser = signed_in(person)
    form = browser.get(f"/club/observations/{observed.id}/correct/")
    assert form.status_code == 200
    assert 'label for="id_label"' in form.content.decode()
    done = browser.post(
        f"/club/observations/{observed.id}/correct/",
        {"category": "furniture", "kind": "purchase", "label": "Insured an armchair"},
    )
    assert done.status_code == 302
    reader = club_grant(person, chairs)
    contribute(reader, club, Obs(label="one"))
    contribute(reader, club, Obs(label="two"))
    labels = {item["label"] for item in view(reader, club, category="furniture").json()["items"]}
    assert "Insured an armchair" in labels
    assert "Insured a new sofa" not in labels


def test_a_bad_correction_is_refused_and_changes_nothing(person, observed):
    browser = signed_in(person)
    response = browser.post(
        f"/club/observations/{observed.id}/correct/", {"category": "Not A Category!", "kind": "purchase", "label": "x"}
    )
    assert response.status_code == 400
    assert "Use lowercase letters" in response.content.decode()
    assert browser.get("/club/").context["observations"][0]["label"] == "Insured a new sofa"


def test_delete_from_the_portal(person, observed):
    browser = signed_in(person)
    asked = browser.get(f"/club/observations/{observed.id}/delete/")  # a destructive action asks first
    assert asked.status_code == 200
    assert "Keep it" in asked.content.decode()
    assert Observation.objects.filter(pk=observed.pk).exists()
    assert browser.post(f"/club/observations/{observed.id}/delete/").status_code == 302
    assert not Observation.objects.filter(pk=observed.pk).exists()
    assert browser.get("/club/").context["observations"] == []


def test_another_person_can_neither_correct_nor_delete(other_person, observed):
    browser = signed_in(other_person)
    assert browser.get(f"/club/observations/{observed.id}/correct/").status_code == 404
    assert browser.post(f"/club/observations/{observed.id}/delete/").status_code == 404
    assert browser.get(f"/club/observations/{observed.id}/delete/").status_code == 404
    assert Observation.objects.filter(pk=observed.pk).exists()


def test_the_member_page_shows_rules_standing_contributions_budget_and_value(
    person, club, admin, chairs, chairs_member, insurer, insurer_member
):
    services.rules_publish(
        club=club,
        admin=admin,
        contribute_categories=["furniture", "insurance"],
        consume_categories=["furniture"],
        reciprocity_min_count=1,
        reciprocity_period_days=30,
        price_per_item=Decimal("1.00"),
        person_share_percent=50,
    )
    insurer_token = club_grant(person, insurer)
    contribute(insurer_token, club, Obs(label="Insured a sofa"))
    reader = club_grant(person, chairs)
    contribute(reader, club, Obs(label="Bought a sofa"))
    assert view(reader, club).status_code == 200  # pays 1.00 for the insurer's item

    chairs_page = signed_in(staff_of(chairs, "carla")).get("/club/member/", follow=True)
    assert chairs_page.status_code == 200
    context = chairs_page.context
    assert context["membership"] == chairs_member
    assert context["value"].spent == Decimal("1.00")
    assert context["value"].earned == Decimal("0")
    assert {row["category"]: row["recent"] for row in context["contributions"]} == {"furniture": 1, "insurance": 0}
    html = chairs_page.content.decode()
    assert "In good standing" in html
    assert "Reciprocity" in html

    insurer_page = signed_in(staff_of(insurer, "ivan")).get(f"/club/member/{insurer_member.uid}/")
    assert insurer_page.context["value"].earned == Decimal("0.50")


def test_staff_of_another_firm_gets_404_and_people_403(person, club, chairs, chairs_member, insurer):
    outsider_staff = staff_of(insurer, "ivan")
    assert signed_in(outsider_staff).get(f"/club/member/{chairs_member.uid}/").status_code == 404
    assert signed_in(person).get(f"/club/member/{chairs_member.uid}/").status_code == 403
    assert Client().get("/club/").status_code == 302  # to the login page


def test_budget_left_is_shown(club, admin, chairs, chairs_member):
    for category in ("furniture", "insurance"):
        ContributionTally.objects.create(membership=chairs_member, category=category, day=timezone.now(), count=5)
    page = signed_in(staff_of(chairs, "carla")).get(f"/club/member/{chairs_member.uid}/")
    assert page.context["budget_left"] == Decimal("5")


def test_the_person_corrects_through_her_api_too(person, other_person, observed):
    body = json.dumps({"category": "home", "kind": "life_event", "label": "Moved house"})
    stranger = signed_in(other_person).patch(
        f"/api/v1/club/me/observations/{observed.id}", body, content_type="application/json"
    )
    assert stranger.status_code == 404
    browser = signed_in(person)
    done = browser.patch(f"/api/v1/club/me/observations/{observed.id}", body, content_type="application/json")
    assert done.status_code == 204
    (mine,) = browser.get("/api/v1/club/me/observations").json()
    assert (mine["category"], mine["kind"], mine["label"]) == ("home", "life_event", "Moved house")
    bad = browser.patch(
        f"/api/v1/club/me/observations/{observed.id}", json.dumps({"kind": "gossip"}), content_type="application/json"
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "InvalidObservation"
