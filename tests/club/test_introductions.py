"""Introductions: a member asks to be introduced to a segment; each matching person gets
its consent request in her portal; the member learns only about how many (a noisy count),
and who approved only through the normal OAuth flow. Noise is off (``no_noise``) except
where a test sets its own, to see exact counts; the Laplace draws themselves are tested in
test_segments.py."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from broker import selectors as broker_selectors
from broker import services as broker_services
from broker.errors import ConsentNotFound
from broker.models import Consent
from club import privacy, services
from club.models import BudgetCharge, Introduction
from tests.broker.conftest import REDIRECT_URI, exchange, pkce_pair
from tests.club.conftest import observed_week, publish_small_rules, qualify_to_consume
from tests.club.test_segments_people import enrol
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def constant_noise(value: float):
    return lambda scale, count: [value] * count


@pytest.fixture(autouse=True)
def no_noise(monkeypatch):
    monkeypatch.setattr(privacy, "laplace", constant_noise(0.0))


@pytest.fixture
def small_club(club, admin):
    return publish_small_rules(club, admin, budget="10")


@pytest.fixture
def asker(small_club, chairs_member):
    return qualify_to_consume(chairs_member)


@pytest.fixture
def people(person, other_person, small_club, insurer, insurer_member, asker):
    """Alice and Bob bought furniture, Carol insurance; all counted in statistics."""
    carol = PersonFactory(username="carol")
    enrol(person, insurer, small_club)
    enrol(other_person, insurer, small_club)
    enrol(carol, insurer, small_club, category="insurance")
    return person, other_person, carol


def introduction_body(club, challenge: str, **overrides) -> dict:
    now = timezone.now()
    week = observed_week().isoformat()
    return {
        "club": str(club.uid),
        "categories": ["furniture"],
        "week_from": week,
        "week_to": week,
        "consent": {
            "scopes": ["club.view:read"],
            "purpose_code": "ServicePersonalisation",
            "purpose_text": "Suggest chairs that match your new sofa.",
            "data_from": (now - timedelta(days=30)).isoformat(),
            "data_to": (now + timedelta(days=30)).isoformat(),
            "frequency_value": 10,
            "frequency_unit": "DAY",
            "data_life_value": 30,
            "data_life_unit": "DAY",
            "valid_from": now.isoformat(),
            "expires_at": (now + timedelta(days=30)).isoformat(),
        },
        "redirect_uri": REDIRECT_URI,
        "code_challenge": challenge,
        "state": "intro-1",
        **overrides,
    }


def ask(world, body):
    return Client().post(
        "/api/v1/club/introductions",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=world.basic_auth(),
    )


def test_matching_people_get_the_request_and_the_member_learns_only_how_many(
    small_club, chairs, people, ledger_entries
):
    alice, bob, _carol = people
    verifier, challenge = pkce_pair()
    response = ask(chairs, introduction_body(small_club, challenge))
    assert response.status_code == 201, response.content
    assert response.json()["requests_sent_approx"] == 2
    assert set(response.json()) == {"batch", "requests_sent_approx"}
    assert {intro.person for intro in Introduction.objects.all()} == {alice, bob}
    requests = Consent.objects.filter(partner=chairs.partner, state="requested")
    assert requests.count() == 2
    assert all(consent.person is None for consent in requests)  # nobody is named to the member
    assert BudgetCharge.objects.get().use == "introduction"
    (sent,) = [entry for entry in ledger_entries if entry["kind"] == "club.introduction.sent"]
    assert sent["body"]["requests_sent_approx"] == 2
    assert "alice" not in json.dumps(sent, default=str)

    # Alice sees it in her portal and approves it on the consent screen...
    browser = Client()
    browser.force_login(alice)
    page = browser.get("/club/")
    assert page.status_code == 200
    (item,) = page.context["introductions"]
    assert "Suggest chairs" in page.content.decode()
    screen = browser.get(item["url"])
    assert screen.status_code == 200, screen.content[:300]
    form = {key: value for key, value in screen.context["form"].initial.items() if value is not None}
    answer = browser.post("/oauth/authorize/", {**form, "allow": "true"})
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer["Location"]).query)
    assert query["state"] == ["intro-1"]

    # ... and only now can the member, holding its PKCE verifier, get a token for her.
    tokens = exchange(chairs, query["code"][0], verifier)
    assert tokens.status_code == 200
    approved = Consent.objects.get(partner=chairs.partner, state="active")
    assert approved.person == alice
    assert browser.get("/club/").context["introductions"] == []
    # Bob's request is still waiting, unanswered and unnamed.
    assert Consent.objects.filter(partner=chairs.partner, state="requested", person=None).count() == 1


def test_another_person_does_not_see_the_introduction(small_club, chairs, people):
    _, challenge = pkce_pair()
    assert ask(chairs, introduction_body(small_club, challenge)).status_code == 201
    browser = Client()
    browser.force_login(people[2])  # Carol bought insurance, not furniture
    assert browser.get("/club/").context["introductions"] == []


def test_a_segment_smaller_than_k_is_refused_and_nobody_is_asked(small_club, chairs, people):
    _, challenge = pkce_pair()
    response = ask(chairs, introduction_body(small_club, challenge, categories=["insurance"]))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "SegmentTooSmall"
    assert not Introduction.objects.exists()
    assert not Consent.objects.filter(partner=chairs.partner).exists()
    # The refusal still cost budget: "at least k?" cannot be probed for free.
    assert BudgetCharge.objects.count() == 1


def test_bad_terms_or_redirect_are_refused_before_any_charge(small_club, chairs, people):
    _, challenge = pkce_pair()
    wrong_uri = ask(chairs, introduction_body(small_club, challenge, redirect_uri="https://evil.example/cb"))
    assert wrong_uri.status_code == 400
    assert wrong_uri.json()["error"]["code"] == "InvalidIntroduction"
    body = introduction_body(small_club, challenge)
    body["consent"]["purpose_code"] = "Nonsense"
    bad_purpose = ask(chairs, body)
    assert bad_purpose.status_code == 400
    assert bad_purpose.json()["error"]["code"] == "InvalidConsentPurpose"
    no_pkce = ask(chairs, introduction_body(small_club, "short"))
    assert no_pkce.json()["error"]["code"] == "InvalidIntroduction"
    assert not BudgetCharge.objects.exists()
    assert not Consent.objects.filter(partner=chairs.partner).exists()


def test_a_suspended_member_cannot_ask(small_club, admin, chairs, asker, people):
    services.member_sanction(
        membership=asker, admin=admin, standing="suspended", reason_code="rule_breach", reason_text="Spam."
    )
    _, challenge = pkce_pair()
    response = ask(chairs, introduction_body(small_club, challenge))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "MemberSuspended"
    assert not Introduction.objects.exists()


def test_an_outsider_cannot_ask(small_club, outsider, people):
    _, challenge = pkce_pair()
    response = ask(outsider, introduction_body(small_club, challenge))
    assert response.json()["error"]["code"] == "NotClubMember"


def test_only_the_person_introduced_can_answer_her_request(small_club, chairs, people):
    alice, bob, carol = people
    _, challenge = pkce_pair()
    assert ask(chairs, introduction_body(small_club, challenge)).status_code == 201
    introduction = Introduction.objects.get(person=alice)
    assert introduction.consent.addressee == alice
    alices = Client()
    alices.force_login(alice)
    (item,) = alices.get("/club/").context["introductions"]

    # Carol, holding Alice's link, sees no request at all, and cannot answer it.
    other = Client()
    other.force_login(carol)
    screen = other.get(item["url"])
    assert screen.status_code == 400
    assert "does not point to an open consent request" in screen.content.decode()
    with pytest.raises(ConsentNotFound):
        broker_services.consent_grant(consent=introduction.consent, person=bob)
    with pytest.raises(ConsentNotFound):
        broker_services.consent_reject(consent=introduction.consent, person=carol)
    introduction.consent.refresh_from_db()
    assert (introduction.consent.state, introduction.consent.person) == ("requested", None)

    # Alice herself still can.
    assert alices.get(item["url"]).status_code == 200
    assert broker_services.consent_grant(consent=introduction.consent, person=alice).state == "active"


def test_the_member_and_the_ledger_learn_only_a_noisy_count(small_club, chairs, people, ledger_entries, monkeypatch):
    monkeypatch.setattr(privacy, "laplace", constant_noise(2.6))
    _, challenge = pkce_pair()
    response = ask(chairs, introduction_body(small_club, challenge))

    assert response.json()["requests_sent_approx"] == 5  # two people asked, plus the noise
    assert Introduction.objects.count() == 2
    (sent,) = [entry for entry in ledger_entries if entry["kind"] == "club.introduction.sent"]
    assert sent["body"] == {**sent["body"], "requests_sent_approx": 5}
    assert "requests_sent" not in sent["body"]
    # Nor can the member count the requests in its own consent list until they are answered.
    assert broker_selectors.consents_of_partner(partner=chairs.partner) == []


def test_a_noisy_count_below_k_is_refused_although_enough_people_match(small_club, chairs, people, monkeypatch):
    monkeypatch.setattr(privacy, "laplace", constant_noise(-0.6))  # 2 people (k = 2) released as 1
    _, challenge = pkce_pair()
    response = ask(chairs, introduction_body(small_club, challenge))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "SegmentTooSmall"
    assert not Consent.objects.filter(partner=chairs.partner).exists()
    assert BudgetCharge.objects.count() == 1


def test_nobody_is_introduced_to_the_same_member_twice(small_club, chairs, people, person):
    _, challenge = pkce_pair()
    assert ask(chairs, introduction_body(small_club, challenge)).status_code == 201
    again = ask(chairs, introduction_body(small_club, challenge))

    assert again.status_code == 409  # both were asked already: nobody new is left
    assert again.json()["error"]["code"] == "SegmentTooSmall"
    assert Introduction.objects.filter(person=person).count() == 1
    assert Consent.objects.filter(partner=chairs.partner).count() == 2
