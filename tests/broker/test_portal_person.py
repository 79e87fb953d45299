"""The person's broker pages: consents, one consent, its buttons and receipt, the
access log, earnings and the dashboard panel. Three actors: the person, the partner she
consented to, and an outsider (another person, or partner staff)."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import User
from broker import portal_queries, services
from broker.models import Consent
from ledger import selectors as ledger_selectors
from ledger import services as ledger_services
from tests.broker.conftest import grant, request_consent

pytestmark = pytest.mark.django_db
State = Consent.State


def logged_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def granted(person, world, **terms) -> Consent:
    """A consent approved by ``person`` without the OAuth round trip (no tokens)."""
    return services.consent_grant(consent=request_consent(world, **terms), person=person)


def person_urls(consent: Consent) -> list[str]:
    return [
        "/consents/",
        f"/consents/{consent.uid}/",
        f"/consents/{consent.uid}/revoke/",
        f"/consents/{consent.uid}/receipt.json",
        "/access-log/",
        "/earnings/",
    ]


# --- access rules ------------------------------------------------------------------------


def test_every_page_requires_login(person, partner):
    consent = granted(person, partner)
    for url in person_urls(consent):
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url
    for action in ("pause", "resume", "revoke"):
        response = Client().post(f"/consents/{consent.uid}/{action}/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert Consent.objects.get(pk=consent.pk).state == State.ACTIVE


def test_partner_staff_cannot_open_the_person_pages(person, partner):
    consent = granted(person, partner)
    staff = User.objects.create_user(username="staffer", password="x", role=User.Role.PARTNER_STAFF)
    services.partner_staff_add(partner=partner.partner, user=staff)
    for url in person_urls(consent):
        assert logged_in(staff).get(url).status_code == 403, url


def test_another_persons_consent_is_a_404_everywhere(person, other_person, partner, ledger_entries):
    consent = granted(person, partner)
    browser = logged_in(other_person)
    for url in person_urls(consent)[1:4]:
        assert browser.get(url).status_code == 404, url
    for action in ("pause", "resume", "revoke"):
        assert browser.post(f"/consents/{consent.uid}/{action}/").status_code == 404
    assert browser.get(f"/access-log/?consent={consent.uid}").status_code == 404
    assert Consent.objects.get(pk=consent.pk).state == State.ACTIVE
    assert [entry["kind"] for entry in ledger_entries] == ["consent.granted"]
    listing = browser.get("/consents/").content.decode()
    assert partner.partner.name not in listing


def test_an_unknown_or_malformed_id_is_a_404(person):
    browser = logged_in(person)
    assert browser.get("/consents/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert browser.get("/consents/not-a-uuid/").status_code == 404
    assert browser.get("/access-log/?consent=not-a-uuid").status_code == 404


# --- the consents list and detail ---------------------------------------------------------


def test_the_list_shows_state_partner_purpose_scopes_and_earnings(person, partner, other_partner):
    active = granted(person, partner, scopes=["lifelog.moments:read", "lifelog.location:coarse"])
    paused = granted(person, other_partner, purpose_code="InsuranceRiskAssessment")
    services.consent_pause(consent=paused, person=person)
    html = logged_in(person).get("/consents/").content.decode()
    assert "Cosy Chairs" in html
    assert "Safe Insurance" in html
    assert "Personalising their service" in html
    assert "Assessing insurance risk" in html
    assert "Read your moments" in html
    assert "See roughly where you were" in html
    assert html.count('badge status-done">Active') == 1
    assert html.count('badge status-pending">Paused') == 1
    assert f"/consents/{active.uid}/" in html
    assert f"/consents/{paused.uid}/" in html


def test_an_ended_consent_is_listed_apart(person, partner):
    consent = granted(person, partner)
    services.consent_revoke(consent=consent, person=person)
    html = logged_in(person).get("/consents/").content.decode()
    assert "No partner can read your data right now" in html
    assert 'id="ended-heading"' in html
    assert "Revoked" in html


def test_the_detail_shows_everything_agreed_and_the_timeline(person, partner):
    consent = granted(person, partner, purpose_text="Suggest chairs for your reading corner.")
    services.consent_pause(consent=consent, person=person)
    response = logged_in(person).get(f"/consents/{consent.uid}/")
    html = response.content.decode()
    assert response.status_code == 200
    for text in [
        "Suggest chairs for your reading corner.",
        "Personalising their service",
        "Read your moments",
        "At most 100 times per day",
        "For 30 days",
        "0.50 credits per access",
        "Download receipt",
        "Resume",
        "Revoke",
    ]:
        assert text in html, text
    timeline = html.split('id="timeline-heading"')[1].split("</ol>")[0]
    assert [label for label in ("Requested", "Active", "Paused") if label in timeline] == [
        "Requested",
        "Active",
        "Paused",
    ]
    assert f'action="/consents/{consent.uid}/pause/"' not in html  # paused: no pause button


# --- the buttons --------------------------------------------------------------------------


def ledger_kind(entry_id: str) -> str:
    return ledger_selectors.entry_for(entry_id).kind


def test_pause_and_resume_buttons_change_state_and_are_recorded(person, partner, ledger_entries):
    consent = granted(person, partner)
    browser = logged_in(person)
    response = browser.post(f"/consents/{consent.uid}/pause/", follow=True)
    assert response.redirect_chain[-1][0] == f"/consents/{consent.uid}/"
    assert "Paused. Cosy Chairs cannot read anything" in response.content.decode()
    assert Consent.objects.get(pk=consent.pk).state == State.PAUSED
    assert ledger_entries[-1]["kind"] == "consent.paused"
    assert ledger_kind(ledger_entries[-1]["id"]) == "consent.paused"
    browser.post(f"/consents/{consent.uid}/resume/")
    assert Consent.objects.get(pk=consent.pk).state == State.ACTIVE
    assert ledger_kind(ledger_entries[-1]["id"]) == "consent.resumed"


def test_revoke_asks_for_confirmation_first(person, partner, ledger_entries):
    consent = granted(person, partner)
    browser = logged_in(person)
    page = browser.get(f"/consents/{consent.uid}/revoke/")
    assert page.status_code == 200
    assert "Yes, revoke" in page.content.decode()
    assert Consent.objects.get(pk=consent.pk).state == State.ACTIVE  # GET changes nothing
    browser.post(f"/consents/{consent.uid}/revoke/")
    assert Consent.objects.get(pk=consent.pk).state == State.REVOKED
    assert ledger_kind(ledger_entries[-1]["id"]) == "consent.revoked"
    # Nothing is left to revoke: the confirmation page sends her back.
    assert browser.get(f"/consents/{consent.uid}/revoke/").status_code == 302


def test_revoke_button_cuts_off_the_partner(person, partner):
    result = grant(person, partner)
    assert result.get("/api/v1/data/moments").status_code == 200
    logged_in(person).post(f"/consents/{result.consent.uid}/revoke/")
    assert result.get("/api/v1/data/moments").status_code == 401


def test_buttons_need_post_and_csrf(person, partner):
    consent = granted(person, partner)
    assert logged_in(person).get(f"/consents/{consent.uid}/pause/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(person)
    assert strict.post(f"/consents/{consent.uid}/pause/").status_code == 403
    assert Consent.objects.get(pk=consent.pk).state == State.ACTIVE


def test_an_impossible_change_says_so_and_records_nothing(person, partner, ledger_entries):
    consent = granted(person, partner)
    response = logged_in(person).post(f"/consents/{consent.uid}/resume/", follow=True)
    assert "cannot become active" in response.content.decode()
    assert Consent.objects.get(pk=consent.pk).state == State.ACTIVE
    assert [entry["kind"] for entry in ledger_entries] == ["consent.granted"]


# --- the receipt --------------------------------------------------------------------------


def test_receipt_download_is_the_ledger_receipt_of_the_grant(person, partner):
    consent = granted(person, partner)
    ledger_services.sequence_pending()
    response = logged_in(person).get(f"/consents/{consent.uid}/receipt.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    receipt = json.loads(response.content)
    assert receipt["entry_id"] == consent.receipt_entry_id
    entry = json.loads(base64.b64decode(receipt["entry"]))
    assert entry["kind"] == "consent.granted"
    assert entry["body"]["consent"] == str(consent.uid)
    assert person.username not in response.content.decode()
    assert receipt == ledger_selectors.receipt_for(consent.receipt_entry_id)


def test_a_receipt_not_yet_sequenced_is_a_json_error_not_a_500(person, partner):
    consent = granted(person, partner)
    response = logged_in(person).get(f"/consents/{consent.uid}/receipt.json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "EntryNotSequenced"


def test_a_rejected_request_has_no_receipt(person, partner):
    consent = services.consent_reject(consent=request_consent(partner), person=person)
    browser = logged_in(person)
    assert "Download receipt" not in browser.get(f"/consents/{consent.uid}/").content.decode()
    assert browser.get(f"/consents/{consent.uid}/receipt.json").status_code == 404


# --- access log and earnings ----------------------------------------------------------------


def test_access_log_shows_allowed_and_refused_calls(person, other_person, partner):
    result = grant(person, partner)
    assert result.get("/api/v1/data/moments").status_code == 200
    assert result.get("/api/v1/data/heartrate").status_code == 403  # not in the consent
    html = logged_in(person).get("/access-log/").content.decode()
    assert html.count("Cosy Chairs") >= 2
    assert "Allowed" in html
    assert "Refused" in html
    assert "ScopeNotGranted" in html
    assert "Read your moments" in html
    assert "Read your heart-rate readings" in html
    assert "Cosy Chairs" not in logged_in(other_person).get("/access-log/").content.decode()
    detail = logged_in(person).get(f"/consents/{result.consent.uid}/").content.decode()
    assert "ScopeNotGranted" in detail


def test_access_log_can_be_limited_to_one_consent(person, partner, other_partner):
    first = grant(person, partner)
    second = grant(person, other_partner)
    first.get("/api/v1/data/moments")
    second.get("/api/v1/data/moments")
    html = logged_in(person).get(f"/access-log/?consent={first.consent.uid}").content.decode()
    table = html.split("<tbody>")[1]
    assert "Cosy Chairs" in table
    assert "Safe Insurance" not in table


def test_earnings_come_from_the_ledger(person, other_person, partner):
    result = grant(person, partner, price_amount=Decimal("0.50"))
    for _ in range(3):
        assert result.get("/api/v1/data/moments").status_code == 200
    assert portal_queries.ledger_balance_of_person(person=person) == Decimal("1.50")
    html = logged_in(person).get("/earnings/").content.decode()
    assert '<span class="stat-number">1.50</span>' in html
    assert "1.50 credits" in html
    assert "Cosy Chairs" in html
    month_table = html.split('id="month-heading"')[1].split("</table>")[0]
    assert "<td>3</td>" in month_table
    outsider = logged_in(other_person).get("/earnings/").content.decode()
    assert '<span class="stat-number">0.00</span>' in outsider
    assert "Cosy Chairs" not in outsider


def test_dashboard_shows_the_broker_numbers(person, partner):
    result = grant(person, partner, price_amount=Decimal("0.50"))
    result.get("/api/v1/data/moments")
    html = logged_in(person).get("/dashboard/").content.decode()
    panel = html.split('id="broker-panel-heading"')[1].split("</section>")[0]
    assert '<span class="stat-number">1</span> <span class="stat-label">active consent' in panel
    assert '<span class="stat-number">0.50</span>' in panel
    assert "since Cosy Chairs last asked" in panel


def test_access_log_is_paged(person, partner):
    from broker import access
    from broker.errors import ScopeNotGranted

    consent = granted(person, partner)
    for _ in range(55):
        access.record_denied(consent=consent, scope="social.posts:read", error=ScopeNotGranted())
    browser = logged_in(person)
    first = browser.get("/access-log/")
    assert len(first.context["page"].object_list) == 50
    assert "Page 1 of 2" in first.content.decode()
    second = browser.get(f"/access-log/?consent={consent.uid}&page=2")
    assert len(second.context["page"].object_list) == 5


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [(1, "MONTH", "for 1 month"), (2, "MONTH", "for 2 months"), (1, "DAY", "for 1 day"), (3, "YEAR", "for 3 years")],
)
def test_data_life_reads_as_plain_english(value, unit, text):
    from broker.models import Consent
    from broker.templatetags.broker_portal import data_life_text

    assert data_life_text(Consent(data_life_value=value, data_life_unit=unit)) == text
