"""The partner console: only that partner's staff, people only by pairwise pseudonym."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client
from oauth2_provider.models import Application

from accounts.models import User
from broker import services
from broker.models import Partner
from tests.broker.conftest import grant
from vault.selectors import pairwise_pseudonym

pytestmark = pytest.mark.django_db


def staff_of(world, username: str = "staffer") -> User:
    user = User.objects.create_user(username=username, password="x", role=User.Role.PARTNER_STAFF)
    services.partner_staff_add(partner=world.partner, user=user)
    return user


def logged_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def console_url(world, suffix: str = "") -> str:
    return f"/partner/{world.partner.uid}/{suffix}"


def test_staff_home_leads_to_their_console(partner):
    response = logged_in(staff_of(partner)).get("/partner/")
    assert response.status_code == 302
    assert response["Location"] == console_url(partner)


def test_staff_without_a_partner_is_told_so(db):
    loner = User.objects.create_user(username="loner", password="x", role=User.Role.PARTNER_STAFF)
    response = logged_in(loner).get("/partner/")
    assert response.status_code == 200
    assert "not linked to a partner" in response.content.decode()


def test_console_lists_clients_spend_and_consents_by_pseudonym_only(person, partner):
    result = grant(person, partner, price_amount=Decimal("0.50"))
    result.get("/api/v1/data/moments")
    response = logged_in(staff_of(partner)).get(console_url(partner))
    html = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert partner.client_id in html
    assert "https://partner.example/callback" in html
    assert pairwise_pseudonym(person, partner.partner.audience) in html
    assert person.username not in html.replace("staffer", "")
    assert str(person.uid) not in html
    assert str(result.consent.uid) in html
    assert '<span class="stat-number">0.50</span>' in html
    assert partner.partner.webhook_secret in html


def test_the_pseudonym_differs_between_partners(person, partner, other_partner):
    grant(person, partner)
    grant(person, other_partner)
    first = logged_in(staff_of(partner, "a")).get(console_url(partner)).content.decode()
    second = logged_in(staff_of(other_partner, "b")).get(console_url(other_partner)).content.decode()
    mine = pairwise_pseudonym(person, partner.partner.audience)
    theirs = pairwise_pseudonym(person, other_partner.partner.audience)
    assert mine != theirs
    assert mine in first
    assert theirs not in first
    assert theirs in second
    assert mine not in second


def test_anonymous_visitors_are_sent_to_log_in(partner):
    for url in ("/partner/", console_url(partner)):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_people_get_403(person, partner):
    browser = logged_in(person)
    assert browser.get("/partner/").status_code == 403
    assert browser.get(console_url(partner)).status_code == 403
    assert browser.post(console_url(partner, "webhook/rotate-secret/")).status_code == 403


def test_another_partners_staff_gets_404_and_changes_nothing(person, partner, other_partner):
    grant(person, partner)
    outsider = logged_in(staff_of(other_partner))
    secret, clients = partner.partner.webhook_secret, Application.objects.count()
    assert outsider.get(console_url(partner)).status_code == 404
    assert (
        outsider.post(console_url(partner, "clients/"), {"redirect_uri": "https://evil.example/cb"}).status_code == 404
    )
    assert outsider.post(console_url(partner, "webhook/"), {"webhook_url": "https://evil.example/h"}).status_code == 404
    assert outsider.post(console_url(partner, "webhook/rotate-secret/")).status_code == 404
    stored = Partner.objects.get(pk=partner.partner.pk)
    assert stored.webhook_secret == secret
    assert "evil" not in stored.webhook_url
    assert Application.objects.count() == clients
    assert outsider.get("/partner/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_create_client_shows_the_secret_once(partner):
    browser = logged_in(staff_of(partner))
    response = browser.post(
        console_url(partner, "clients/"), {"name": "Mobile app", "redirect_uri": "https://partner.example/app"}
    )
    assert response.status_code == 201
    application = Application.objects.get(partner_client__partner=partner.partner, name="Mobile app")
    assert application.redirect_uris == "https://partner.example/app"
    assert application.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
    secret = response.context["new_client"]["client_secret"]
    assert secret in response.content.decode()
    assert check_password(secret, application.client_secret)
    assert secret not in browser.get(console_url(partner)).content.decode()


@pytest.mark.parametrize(
    "redirect_uri", ["http://partner.example/cb", "https://partner.example/cb#frag", "not a uri", ""]
)
def test_create_client_refuses_bad_redirect_uris(partner, redirect_uri):
    before = Application.objects.count()
    response = logged_in(staff_of(partner)).post(console_url(partner, "clients/"), {"redirect_uri": redirect_uri})
    assert response.status_code == 400
    assert response.context["client_form"].errors
    assert Application.objects.count() == before


def test_webhook_url_is_saved_and_must_be_https(partner):
    browser = logged_in(staff_of(partner))
    response = browser.post(console_url(partner, "webhook/"), {"webhook_url": "http://hooks.example/x"})
    assert response.status_code == 400
    assert "https" in response.content.decode()
    assert Partner.objects.get(pk=partner.partner.pk).webhook_url != "http://hooks.example/x"
    browser.post(console_url(partner, "webhook/"), {"webhook_url": "https://hooks.example/eidetic"})
    assert Partner.objects.get(pk=partner.partner.pk).webhook_url == "https://hooks.example/eidetic"
    browser.post(console_url(partner, "webhook/"), {"webhook_url": ""})
    assert Partner.objects.get(pk=partner.partner.pk).webhook_url == ""


def test_making_a_new_webhook_secret_asks_first_and_changes_nothing(partner):
    old = partner.partner.webhook_secret
    browser = logged_in(staff_of(partner))
    console = browser.get(console_url(partner)).content.decode()
    confirm_url = console_url(partner, "webhook/rotate-secret/")
    assert f'href="{confirm_url}"' in console, "the console links to the confirmation"
    assert f'action="{confirm_url}"' not in console, "no one-click form on the console"

    response = browser.get(confirm_url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "stops working at once" in html
    assert f'<form method="post" action="{confirm_url}">' in html
    assert "Yes, make a new secret" in html
    assert f'href="{console_url(partner)}#webhook"' in html, "a way back that keeps it"
    assert Partner.objects.get(pk=partner.partner.pk).webhook_secret == old


def test_the_confirmation_is_only_for_that_partners_staff(person, partner, other_partner):
    old = partner.partner.webhook_secret
    assert logged_in(staff_of(other_partner)).get(console_url(partner, "webhook/rotate-secret/")).status_code == 404
    assert logged_in(person).get(console_url(partner, "webhook/rotate-secret/")).status_code == 403
    assert Partner.objects.get(pk=partner.partner.pk).webhook_secret == old


def test_rotating_the_webhook_secret_replaces_it(partner):
    old = partner.partner.webhook_secret
    response = logged_in(staff_of(partner)).post(console_url(partner, "webhook/rotate-secret/"), follow=True)
    new = Partner.objects.get(pk=partner.partner.pk).webhook_secret
    assert new != old
    assert len(new) >= 32
    html = response.content.decode()
    assert new in html
    assert old not in html


def test_console_still_answers_when_a_consenting_person_erased_her_account(person, other_person, partner):
    from accounts.services import erase_account

    grant(person, partner)
    grant(other_person, partner)
    erase_account(person)
    response = logged_in(staff_of(partner)).get(console_url(partner))
    assert response.status_code == 200
    assert "alice" not in response.content.decode()


def test_consent_page_shows_terms_timeline_and_calls_by_pseudonym(person, partner):
    result = grant(person, partner)
    result.get("/api/v1/data/moments")
    result.get("/api/v1/data/heartrate")
    services.consent_pause(consent=result.consent, person=person)
    url = console_url(partner, f"consents/{result.consent.uid}/")
    response = logged_in(staff_of(partner)).get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert pairwise_pseudonym(person, partner.partner.audience) in html
    assert "alice" not in html
    assert "Suggest furniture for rooms you love." in html
    assert "ScopeNotGranted" in html
    assert html.count('badge status-done">Allowed') == 1
    timeline = html.split('id="timeline-heading"')[1].split("</ol>")[0]
    assert timeline.index("Requested") < timeline.index("Active") < timeline.index("Paused")


def test_another_partners_consent_page_is_a_404(person, partner, other_partner):
    consent = grant(person, partner).consent
    mine = staff_of(other_partner)
    assert logged_in(mine).get(console_url(other_partner, f"consents/{consent.uid}/")).status_code == 404
    assert logged_in(mine).get(console_url(partner, f"consents/{consent.uid}/")).status_code == 404
    assert logged_in(person).get(console_url(partner, f"consents/{consent.uid}/")).status_code == 403
