"""One navigation per role, a skip link and visible focus on every page, account deletion
for every role, and destructive actions behind a confirmation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


def _nav(client, url: str) -> str:
    html = client.get(url).content.decode()
    return html.split('<nav aria-label="Main">')[1].split("</nav>")[0]


def _links(nav: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', nav))


def test_person_nav_reaches_her_vault_sharing_and_account(client, person):
    client.force_login(person)
    links = _links(_nav(client, reverse("vault:dashboard")))
    for name in (
        "vault:dashboard",
        "vault:upload",
        "vault:track_list",
        "vault:timeline",
        "vault:zones",
        "broker:consent_list",
        "broker:access_log",
        "broker:earnings",
        "vault:export",
        "insights:overview",
        "accounts:delete",
        "ledger:index",
    ):
        assert reverse(name) in links, name
    assert reverse("broker:partner_home") not in links
    assert reverse("vault:key_rotation") not in links
    assert reverse("ledger:verifications") not in links


def test_partner_staff_nav_reaches_console_ledger_and_account(client, partner_staff):
    client.force_login(partner_staff)
    links = _links(_nav(client, reverse("accounts:delete")))
    assert {reverse("broker:partner_home"), reverse("ledger:index"), reverse("accounts:delete")} <= links
    assert reverse("vault:dashboard") not in links
    assert reverse("broker:consent_list") not in links


def test_auditor_nav_reaches_the_ledger_tools_and_account(client, auditor):
    client.force_login(auditor)
    links = _links(_nav(client, reverse("ledger:index")))
    assert {
        reverse("ledger:index"),
        reverse("ledger:entries"),
        reverse("ledger:verifications"),
        reverse("accounts:delete"),
    } <= links
    assert reverse("vault:dashboard") not in links
    assert reverse("broker:partner_home") not in links


def test_eidetic_staff_also_get_the_operations_pages(client, operator):
    client.force_login(operator)
    links = _links(_nav(client, reverse("ledger:index")))
    assert reverse("vault:key_rotation") in links


def test_visitors_get_login_signup_and_the_public_ledger(client, db):
    links = _links(_nav(client, reverse("vault:home")))
    assert links == {reverse("ledger:index"), reverse("accounts:login"), reverse("accounts:signup")}


def test_the_current_page_is_marked(client, person):
    client.force_login(person)
    nav = _nav(client, reverse("broker:earnings"))
    assert f'<a href="{reverse("broker:earnings")}" aria-current="page">' in nav
    assert nav.count('aria-current="page"') == 1


def test_the_data_club_link_is_current_on_her_observation_pages(client, person, partner, operator):
    from tests.club.conftest import club_grant
    from tests.e2e.test_accessibility import club_world

    _, observation = club_world(operator, partner.partner, club_grant(person, partner).consent)
    client.force_login(person)
    club_link = f'<a href="{reverse("club:person_home")}" aria-current="page">'
    for name in ("club:person_home", "club:observation_correct", "club:observation_delete"):
        kwargs = {} if name == "club:person_home" else {"observation_id": observation.id}
        nav = _nav(client, reverse(name, kwargs=kwargs))
        assert club_link in nav, name
        assert nav.count('aria-current="page"') == 1, name


@pytest.mark.parametrize("role", ["person", "partner_staff", "auditor"])
def test_every_role_has_a_skip_link_to_main(client, role):
    user = User.objects.create_user(username=f"u-{role}", password="x", role=role)
    client.force_login(user)
    html = client.get(reverse("accounts:delete")).content.decode()
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html


def test_stylesheet_has_visible_focus_a_phone_layout_and_no_remote_assets():
    css = (Path(settings.BASE_DIR) / "static" / "css" / "eidetic.css").read_text()
    assert re.search(r":focus-visible\s*\{[^}]*outline:\s*3px solid", css)
    assert ".skip-link:focus" in css
    phone = css.split("@media (max-width: 40rem)")
    assert len(phone) >= 2
    assert any(".nav-list" in block for block in phone[1:])
    assert "http://" not in css
    assert "https://" not in css
    assert "@import" not in css


def _relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(first: str, second: str) -> float:
    high, low = sorted((_relative_luminance(first), _relative_luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(
    ("foreground", "background"),
    [
        ("--text", "--bg"),
        ("--muted", "--bg"),
        ("--muted", "--surface"),
        ("--primary", "--surface"),
        ("--primary", "--primary-soft"),
        ("--danger-dark", "--danger-soft"),
        ("--success", "--success-soft"),
        ("--surface", "--primary"),
        ("--surface", "--danger"),
        ("--surface", "--primary-dark"),
    ],
)
def test_palette_pairs_meet_wcag_aa_for_text(foreground, background):
    css = (Path(settings.BASE_DIR) / "static" / "css" / "eidetic.css").read_text()
    palette = dict(re.findall(r"(--[a-z-]+):\s*(#[0-9a-fA-F]{6});", css))
    assert _contrast(palette[foreground], palette[background]) >= 4.5


# --- account deletion for every role ----------------------------------------------------------


@pytest.mark.parametrize("role", ["partner_staff", "auditor"])
def test_staff_and_auditors_can_delete_their_account(client, role):
    user = User.objects.create_user(username="leaving", password="x", role=role)
    client.force_login(user)
    page = client.get(reverse("accounts:delete"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Your data key is destroyed" not in html  # the person's wording is not theirs
    assert "Export my data" not in html
    refused = client.post(reverse("accounts:delete"), {"confirm_username": "someone-else"})
    assert refused.status_code == 400
    assert User.objects.get(pk=user.pk).is_active
    response = client.post(reverse("accounts:delete"), {"confirm_username": "leaving"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    assert user.username.startswith("erased-")
    assert not user.has_usable_password()


def test_a_partner_keeps_its_console_when_one_staff_member_leaves(client, partner, partner_staff):
    from broker import services

    colleague = User.objects.create_user(username="colleague", password="x", role=User.Role.PARTNER_STAFF)
    services.partner_staff_add(partner=partner.partner, user=colleague)
    client.force_login(partner_staff)
    client.post(reverse("accounts:delete"), {"confirm_username": "casa"})
    client.force_login(colleague)
    console = client.get(reverse("broker:partner_console", kwargs={"partner_id": partner.partner.uid}))
    assert console.status_code == 200


# --- confirmation before destructive actions ----------------------------------------------------


def test_destructive_actions_ask_first(client, person, partner):
    from broker import services as broker_services
    from tests.broker.conftest import request_consent
    from vault import selectors, services

    consent = broker_services.consent_grant(consent=request_consent(partner), person=person)
    zone = services.zone_create(person=person, label="Home", lat=41.89, lon=12.47, radius_m=200)
    client.force_login(person)
    for url in (
        reverse("vault:zone_delete", kwargs={"zone_id": zone.id}),
        reverse("broker:consent_revoke", kwargs={"consent_id": consent.uid}),
        reverse("accounts:delete"),
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert 'method="post"' in page.content.decode(), url
    # Asking changed nothing.
    assert len(selectors.zones_of(person)) == 1
    consent.refresh_from_db()
    assert consent.state == consent.State.ACTIVE
    person.refresh_from_db()
    assert person.is_active
