"""Every list page, seen by someone with nothing in it yet, explains what would be there
and how to get it (a heading or sentence, and usually a link onward), never a bare table."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User
from broker import services as broker_services
from tests.broker.conftest import make_partner

pytestmark = pytest.mark.django_db

PERSON_PAGES = [
    ("vault:track_list", "No tracks yet", "vault:upload"),
    ("vault:timeline", "No moments yet", "vault:upload"),
    ("vault:social_list", "Nothing here yet", "vault:upload"),
    ("vault:zones", "No privacy zones yet", None),
    ("vault:upload", "You have not imported anything yet", None),
    ("vault:export", "You have not exported anything yet", "vault:export_start"),
    ("broker:consent_list", "No partner can read your data right now", None),
    ("broker:access_log", "No partner has asked for your data yet", "broker:consent_list"),
    ("broker:earnings", "Nothing earned yet", "broker:consent_list"),
    ("vault:dashboard", "Your vault is empty", "vault:upload"),
    ("club:person_home", "No club member has contributed anything about you", None),
    ("club:person_home", "You have no consent with a club member", None),
]


@pytest.mark.parametrize(("name", "phrase", "onward"), PERSON_PAGES)
def test_person_list_pages_explain_themselves_when_empty(client, person, name, phrase, onward):
    client.force_login(person)
    response = client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    assert phrase in html
    if onward:
        assert f'href="{reverse(onward)}"' in html or f'action="{reverse(onward)}"' in html
    assert "<tbody></tbody>" not in html


def test_interests_page_explains_itself_when_empty(client, person):
    client.force_login(person)
    html = client.get(reverse("insights:overview")).content.decode()
    assert 'class="card empty"' in html


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("ledger:entries", "No entries yet"),
        ("ledger:checkpoints", "No checkpoints yet"),
        ("ledger:index", "No checkpoint has been signed yet"),
    ],
)
def test_public_ledger_pages_explain_themselves_when_empty(client, db, name, phrase):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert phrase in response.content.decode()


def test_auditor_verification_list_when_empty(client, auditor):
    client.force_login(auditor)
    html = client.get(reverse("ledger:verifications")).content.decode()
    assert "No verification has been run from this page yet" in html


def test_key_rotation_page_when_nothing_was_rotated(client, operator):
    client.force_login(operator)
    html = client.get(reverse("vault:key_rotation")).content.decode()
    assert "No rotation has been started from this page yet" in html
    assert "manage.py rotate_kek" in html


def test_partner_staff_without_a_partner_is_told_what_to_do(client, staff_user):
    client.force_login(staff_user)
    html = client.get(reverse("broker:partner_home")).content.decode()
    assert "not linked to a partner yet" in html


def test_staff_of_a_firm_in_no_club_are_told_so(client, db):
    staff = User.objects.create_user(username="solo", password="x", role=User.Role.PARTNER_STAFF)
    broker_services.partner_staff_add(partner=make_partner("Solo Shop").partner, user=staff)
    client.force_login(staff)
    response = client.get(reverse("club:member_home"))
    assert response.status_code == 200
    assert "Your firm is not a member of any data club." in response.content.decode()
