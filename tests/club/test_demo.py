"""``manage.py demo`` with every step: it builds the club (after the partners), and a
second run leaves it alone; the ledger's step then signs a checkpoint over everything and
gives the auditor a login."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command

from club.models import BudgetCharge, Club, Membership, Observation
from ledger.models import Entry, PendingEntry

pytestmark = pytest.mark.django_db(transaction=True)


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def value_entries_of_club(club: Club) -> list[dict]:
    from ledger import entries

    bodies = [
        entries.decode(bytes(data))["body"]
        for data in Entry.objects.filter(kind="value.transferred").values_list("data", flat=True)
    ]
    bodies += list(PendingEntry.objects.filter(kind="value.transferred").values_list("body", flat=True))
    return [body for body in bodies if body.get("club") == str(club.uid)]


def test_the_demo_builds_the_club_and_is_idempotent():
    steps = settings.DEMO_STEPS
    assert steps.index("club.demo.populate") > steps.index("broker.demo.populate")
    first = run_demo()
    club = Club.objects.get(name="Home & Life Data Club")
    assert Membership.objects.filter(club=club).count() == 3
    assert Observation.objects.filter(club=club).count() == 11
    assert "club: Bean & Bloom Coffee read the club view of chiara" in first
    assert BudgetCharge.objects.filter(membership__club=club).count() == 2
    paid = value_entries_of_club(club)
    assert paid, first
    assert sum(float(body["amount"]) for body in paid) == pytest.approx(float(paid[0]["read_amount"]))

    second = run_demo()
    assert "club: Home & Life Data Club already there" in second
    assert Observation.objects.filter(club=club).count() == 11


def test_the_demo_ends_with_a_signed_checkpoint_and_an_auditor_login():
    from django.test import Client

    from ledger import selectors

    output = run_demo()
    assert "auditor login audrey" in output
    assert selectors.latest_checkpoint().size == selectors.sequenced_size() > 0
    browser = Client()
    assert browser.login(username="audrey", password="eidetic-demo")
    assert browser.get("/ledger/").status_code == 200
