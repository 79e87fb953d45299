"""Her portal pages: the chart, the evidence, hide and correct; nobody else's data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from insights import selectors, services
from insights.models import InsightDisclosure
from tests.broker.conftest import grant
from tests.factories import PersonFactory
from tests.insights.helpers import add_moment

pytestmark = pytest.mark.django_db

CHURCH = {"name": "Chiesa di Sant'Ivo alla Sapienza", "lat": 41.8986, "lon": 12.4741}


@pytest.fixture
def alice_with_interests(person):
    now = timezone.now()
    moments = [
        add_moment(person, now - timedelta(days=days), "baroque frescoes", sentiment="loves", place=CHURCH, hr=110)
        for days in (3, 10, 20, 40)
    ]
    add_moment(person, now - timedelta(days=5), "espresso", sentiment="likes")
    services.rebuild_interests(person=person)
    return person, moments


def _browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_overview_shows_an_accessible_chart_a_table_and_the_interests(alice_with_interests):
    person, _ = alice_with_interests
    page = _browser(person).get("/insights/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html
    assert '<title id="interests-chart-title">' in html
    assert "<desc" in html
    assert "Baroque and classical interiors" in html
    assert "<table" in html
    assert "Weekly weight per interest" in html
    assert 'href="/insights/interests/home.baroque-classical/"' in html


def test_the_evidence_page_lists_her_records(alice_with_interests):
    person, moments = alice_with_interests
    page = _browser(person).get("/insights/interests/home.baroque-classical/")
    assert page.status_code == 200
    assert len(page.context["evidence"]) == len(moments)
    assert "heart 110 bpm" in page.content.decode()


def test_another_person_gets_a_404_for_her_interests_and_sees_none_of_them(alice_with_interests, other_person):
    browser = _browser(other_person)
    assert browser.get("/insights/interests/home.baroque-classical/").status_code == 404
    overview = browser.get("/insights/")
    assert overview.status_code == 200
    assert "Baroque and classical interiors" not in overview.content.decode()


def test_unknown_topics_get_404_and_non_persons_the_portals_403(alice_with_interests):
    person, _ = alice_with_interests
    assert _browser(person).get("/insights/interests/no.such-topic/").status_code == 404
    staff = PersonFactory(username="staff", role=User.Role.PARTNER_STAFF)
    assert _browser(staff).get("/insights/").status_code == 403
    assert _browser(staff).get("/insights/interests/home.baroque-classical/").status_code == 403
    assert Client().get("/insights/").status_code == 302  # to the login page


def test_hide_and_show_from_the_portal(alice_with_interests):
    person, _ = alice_with_interests
    browser = _browser(person)
    response = browser.post("/insights/interests/home.baroque-classical/hide/")
    assert response.status_code == 302
    assert "home.baroque-classical" not in [i["topic"] for i in selectors.shareable_interests(person)]
    assert "hidden" in browser.get("/insights/").content.decode()
    browser.post("/insights/interests/home.baroque-classical/show/", {"back": "detail"})
    assert "home.baroque-classical" in [i["topic"] for i in selectors.shareable_interests(person)]
    assert browser.get("/insights/interests/home.baroque-classical/hide/").status_code == 405


def test_a_correction_changes_the_weight_she_and_partners_see(alice_with_interests):
    person, _ = alice_with_interests
    before = {i["topic"]: i["weight"] for i in selectors.shareable_interests(person)}["home.baroque-classical"]
    _browser(person).post("/insights/interests/home.baroque-classical/correct/", {"correction": "weaker"})
    after = {i["topic"]: i["weight"] for i in selectors.shareable_interests(person)}["home.baroque-classical"]
    assert after == pytest.approx(before / 2, abs=1e-3)
    page = _browser(person).post("/insights/interests/home.baroque-classical/correct/", {"correction": "bogus"})
    assert page.status_code == 302
    assert selectors.preferences_of(person)["corrections"] == {"home.baroque-classical": "weaker"}


def test_the_dashboard_panel_lists_her_top_interests(alice_with_interests, rf):
    from django.template.loader import render_to_string

    person, _ = alice_with_interests
    request = rf.get("/dashboard/")
    request.user = person
    html = render_to_string("insights/_dashboard_panel.html", {"request": request})
    assert "Baroque and classical interiors" in html
    assert 'href="/insights/"' in html


def _seen_section(html: str) -> str:
    """The "Which partner saw what, when" section of the overview page."""
    start = html.index('id="seen-heading"')
    return html[start : html.index("</section>", start)]


def test_the_overview_shows_which_partner_saw_which_interest_when(alice_with_interests, other_person, partner):
    person, _ = alice_with_interests
    access = grant(person, partner, scopes=["insights.interests:read"], data_to=timezone.now() + timedelta(days=30))
    received = access.get("/api/v1/insights/interests").json()["interests"]
    assert "home.baroque-classical" in [item["topic"] for item in received]
    seen_at = timezone.localtime(InsightDisclosure.objects.get(owner=person).at)

    seen = _seen_section(_browser(person).get("/insights/").content.decode())
    assert "Cosy Chairs" in seen
    assert "Baroque and classical interiors" in seen
    assert f'<time datetime="{seen_at.isoformat()}">' in seen
    assert f"{seen_at.day} {seen_at:%b %Y %H:%M}</time>" in seen

    theirs = _seen_section(_browser(other_person).get("/insights/").content.decode())
    assert "Cosy Chairs" not in theirs
    assert "Baroque and classical interiors" not in theirs
    assert "No partner has received your interests." in theirs
