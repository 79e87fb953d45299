"""Enforcement: a member's call refused for breaking the club's rules (or its sanction) is
a violation on its record; the first of each rule per UTC day goes on the ledger, where an
auditor sees the club enforce its rules. Mistakes (bad input, not a member) are not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from broker import access
from club import services
from club.models import Violation
from tests.club.conftest import Observation as Obs
from tests.club.conftest import club_grant, contribute, view
from tests.club.test_portal import staff_of

pytestmark = pytest.mark.django_db


def violations_on_the_ledger(entries: list[dict]) -> list[dict]:
    return [entry for entry in entries if entry["kind"] == "club.rule.violated"]


def test_a_refusal_for_a_rule_is_a_violation_on_the_ledger_once_a_day(
    person, club, chairs, chairs_member, ledger_entries, monkeypatch
):
    token = club_grant(person, chairs)  # chairs contributed nothing: it may not read yet
    for _ in range(2):
        assert view(token, club, category="furniture").json()["error"]["code"] == "ReciprocityRequired"

    (entry,) = violations_on_the_ledger(ledger_entries)
    assert (entry["actor"], entry["subject"]) == (club.ledger_id, chairs.partner.audience)
    assert entry["body"] == {
        "club": str(club.uid),
        "membership": str(chairs_member.uid),
        "rule": "ReciprocityRequired",
        "day": timezone.now().date().isoformat(),
    }
    violation = Violation.objects.get()
    assert (violation.membership, violation.count, violation.ledger_entry_id) == (chairs_member, 2, str(entry["id"]))

    tomorrow = timezone.now() + timedelta(days=1)
    monkeypatch.setattr(access, "clock", lambda: tomorrow)
    assert view(token, club, category="furniture").status_code == 403
    assert [entry["body"]["day"] for entry in violations_on_the_ledger(ledger_entries)][-1] == (
        tomorrow.date().isoformat()
    )
    assert Violation.objects.count() == 2


def test_calls_of_a_suspended_member_are_violations(person, club, admin, chairs, chairs_member, ledger_entries):
    token = club_grant(person, chairs)
    services.member_sanction(
        membership=chairs_member, admin=admin, standing="suspended", reason_code="rule_breach", reason_text="Resold."
    )
    assert contribute(token, club, Obs(label="one")).json()["error"]["code"] == "MemberSuspended"
    assert [entry["body"]["rule"] for entry in violations_on_the_ledger(ledger_entries)] == ["MemberSuspended"]


def test_mistakes_and_outsiders_are_not_violations(person, club, chairs, chairs_member, outsider, ledger_entries):
    token = club_grant(person, chairs)
    bad_date = view(token, club, category="furniture", **{"from": "yesterday"})
    assert bad_date.status_code == 400
    stranger = club_grant(person, outsider)
    assert view(stranger, club, category="furniture").json()["error"]["code"] == "NotClubMember"
    assert not Violation.objects.exists()
    assert violations_on_the_ledger(ledger_entries) == []


def test_the_member_sees_its_violations_on_its_club_page(person, club, chairs, chairs_member):
    token = club_grant(person, chairs)
    view(token, club, category="furniture")
    browser = Client()
    browser.force_login(staff_of(chairs, "carla"))

    page = browser.get(f"/club/member/{chairs_member.uid}/")
    assert page.context["violations"] == [Violation.objects.get()]
    assert "ReciprocityRequired" in page.content.decode()


def test_statistics_and_introductions_past_the_rules_are_violations_too(club, insurer, insurer_member):
    from tests.club.test_introductions import ask, introduction_body
    from tests.club.test_segments import api_query

    assert api_query(insurer, club, categories=["furniture"]).json()["error"]["code"] == "ReciprocityRequired"
    introduction = ask(insurer, introduction_body(club, "c" * 43))
    assert introduction.json()["error"]["code"] == "ReciprocityRequired"
    assert Violation.objects.get(membership=insurer_member, rule="ReciprocityRequired").count == 2
