"""The broker's demo step: partners, staff logins, consents in every state, history."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.test import Client
from django.utils.html import escape
from oauth2_provider.models import Application

from accounts.models import User
from broker import demo
from broker.models import AccessLogEntry, Consent, ConsentEvent, Partner
from ledger.models import Entry, PendingEntry
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> dict:
    return {"people": [PersonFactory(username=username) for username in ("chiara", "ada", "ben")]}


def snapshot() -> dict[str, int]:
    return {
        "partners": Partner.objects.count(),
        "users": User.objects.count(),
        "clients": Application.objects.count(),
        "consents": Consent.objects.count(),
        "events": ConsentEvent.objects.count(),
        "accesses": AccessLogEntry.objects.count(),
        "ledger": Entry.objects.count() + PendingEntry.objects.count(),
    }


def test_demo_builds_partners_and_consents_in_every_state(world, ledger_entries):
    out = io.StringIO()
    demo.populate(world, out)
    assert {partner.name for partner in Partner.objects.all()} == {spec.name for spec in demo.PARTNERS}
    assert set(Consent.objects.values_list("state", flat=True)) == set(Consent.State.values)
    kinds = Counter(entry["kind"] for entry in ledger_entries)
    for kind in ("consent.granted", "consent.paused", "consent.revoked", "consent.expired", "consent.rejected"):
        assert kinds[kind] >= 1, kind
    assert kinds["value.transferred"] >= 1
    assert AccessLogEntry.objects.filter(outcome="allowed").exists()
    denied = set(AccessLogEntry.objects.filter(outcome="denied").values_list("error_code", flat=True))
    assert {"ConsentPaused", "FrequencyExceeded"} <= denied
    text = out.getvalue()
    assert "client_secret" in text
    assert "open request from Aegis Mutual Insurance" in text
    assert len(world["partners"]) == 3


def test_every_partner_has_a_client_and_a_staff_login_that_works(world):
    demo.populate(world, io.StringIO())
    for spec in demo.PARTNERS:
        partner = Partner.objects.get(name=spec.name)
        assert partner.clients.count() == 1
        login = next(item for item in world["logins"] if item["username"] == spec.staff_username)
        browser = Client()
        assert browser.login(username=login["username"], password=login["password"])
        response = browser.get("/partner/", follow=True)
        assert response.status_code == 200
        assert escape(spec.name) in response.content.decode()


def test_demo_people_see_their_consents_in_the_portal(world):
    demo.populate(world, io.StringIO())
    chiara = world["people"][0]
    browser = Client()
    browser.force_login(chiara)
    html = browser.get("/consents/").content.decode()
    assert "Casa Forma Furniture" in html
    assert "Bean &amp; Bloom Coffee" in html
    assert "Paused" in html
    assert "Rejected" in html
    assert "Refused" in browser.get("/access-log/").content.decode()


def test_running_the_demo_twice_creates_nothing_twice(world):
    demo.populate(world, io.StringIO())
    first = snapshot()
    out = io.StringIO()
    demo.populate(world, out)
    assert snapshot() == first
    assert "0 demo consents created" in out.getvalue()


def test_missing_people_are_skipped_not_invented(db):
    world = {"people": [PersonFactory(username="ben")]}
    out = io.StringIO()
    demo.populate(world, out)
    people = set(Consent.objects.exclude(person=None).values_list("person__username", flat=True))
    assert people == {"ben"}
    assert "skipped" in out.getvalue()


def test_the_open_request_link_reaches_the_consent_screen(world):
    out = io.StringIO()
    demo.populate(world, out)
    link = next(line for line in out.getvalue().splitlines() if "open request" in line).split(" visit ")[1]
    browser = Client()
    browser.force_login(world["people"][0])
    page = browser.get(link)
    assert page.status_code == 200
    assert "Offer you a cheaper policy" in page.content.decode()
