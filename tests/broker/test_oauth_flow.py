"""OAuth per RFC 9700 with consents: PKCE S256 only, one-shot codes, bound tokens."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from broker import services
from broker.models import Consent
from tests.broker.conftest import (
    REDIRECT_URI,
    approve,
    authorize_params,
    exchange,
    grant,
    pkce_pair,
    refresh,
    request_consent,
)
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_approval_issues_tokens_bound_to_an_active_consent(person, partner, ledger_entries):
    result = grant(person, partner)
    assert result.consent.state == Consent.State.ACTIVE
    assert result.consent.person == person
    assert [entry["kind"] for entry in ledger_entries] == ["consent.granted"]
    granted = ledger_entries[0]
    assert result.consent.receipt_entry_id == str(granted["id"])
    assert granted["body"]["consent"] == str(result.consent.uid)
    assert len(granted["body"]["terms_sha256"]) == 64
    assert person.username not in str(granted)
    assert result.get("/api/v1/data/moments").status_code == 200


def test_the_consent_screen_says_who_why_what_when_how_often_and_the_price(person, partner):
    consent = request_consent(partner, purpose_text="Suggest furniture for rooms you love.")
    _, challenge = pkce_pair()
    page = logged_in(person).get("/oauth/authorize/", authorize_params(partner, consent, challenge))
    html = page.content.decode()
    assert page.status_code == 200
    for text in ["Cosy Chairs", "Suggest furniture", "Read your moments", "At most 100 times per day", "0.50 credits"]:
        assert text in html
    assert 'name="allow"' in html
    assert 'name="deny"' in html


def test_deny_rejects_the_request_records_it_and_issues_no_code(person, partner, ledger_entries):
    consent = request_consent(partner)
    code, _ = approve(person, partner, consent, allow=False)
    consent.refresh_from_db()
    assert code is None
    assert consent.state == Consent.State.REJECTED
    assert [entry["kind"] for entry in ledger_entries] == ["consent.rejected"]
    assert not Grant.objects.exists()


def test_an_answered_request_cannot_be_shown_again(person, partner):
    consent = request_consent(partner)
    approve(person, partner, consent)
    _, challenge = pkce_pair()
    page = logged_in(person).get("/oauth/authorize/", authorize_params(partner, consent, challenge))
    assert page.status_code == 400
    assert Consent.objects.get(pk=consent.pk).state == Consent.State.ACTIVE


def test_partner_staff_cannot_approve(partner):
    staff = PersonFactory(role="partner_staff")
    consent = request_consent(partner)
    _, challenge = pkce_pair()
    page = logged_in(staff).get("/oauth/authorize/", authorize_params(partner, consent, challenge))
    assert page.status_code == 400
    assert b"Only a person" in page.content


def test_scopes_in_the_url_must_be_the_requests(person, partner):
    consent = request_consent(partner, scopes=["lifelog.moments:read"])
    _, challenge = pkce_pair()
    params = {**authorize_params(partner, consent, challenge), "scope": "lifelog.moments:read social.posts:read"}
    assert logged_in(person).get("/oauth/authorize/", params).status_code == 400


@pytest.mark.parametrize(
    ("change", "expected_error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, {"invalid_request"}),
        ({"code_challenge_method": "plain"}, {"invalid_request"}),
        ({"response_type": "token"}, {"unsupported_response_type", "unauthorized_client"}),
    ],
)
def test_pkce_s256_and_the_code_flow_are_the_only_way(person, partner, change, expected_error):
    consent = request_consent(partner)
    _, challenge = pkce_pair()
    params = {k: v for k, v in {**authorize_params(partner, consent, challenge), **change}.items() if v is not None}
    browser = logged_in(person)
    page = browser.get("/oauth/authorize/", params)
    if page.status_code == 302:
        location = urlsplit(page["Location"])
        assert set(parse_qs(location.query or location.fragment)["error"]) <= expected_error
    else:  # Refused before the screen, or the grant is refused on approval.
        assert page.status_code in (200, 400)
        if page.status_code == 200:
            form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
            answer = browser.post("/oauth/authorize/", {**form, "allow": "true"})
            assert "code=" not in answer.get("Location", "")
    assert not Grant.objects.exists()


def test_redirect_uri_must_match_exactly(person, partner):
    consent = request_consent(partner)
    _, challenge = pkce_pair()
    params = {**authorize_params(partner, consent, challenge), "redirect_uri": REDIRECT_URI + "/evil"}
    page = logged_in(person).get("/oauth/authorize/", params)
    assert page.status_code == 400
    assert "Location" not in page
    assert b"cannot be answered" in page.content
    assert b'name="allow"' not in page.content


def test_password_and_client_credentials_grants_are_refused(person, partner):
    for form in (
        {"grant_type": "password", "username": person.username, "password": "correct horse battery staple"},
        {"grant_type": "client_credentials"},
    ):
        response = Client().post("/oauth/token/", form, HTTP_AUTHORIZATION=partner.basic_auth())
        assert response.status_code in (400, 401)
        assert "access_token" not in response.json()


def test_the_code_needs_the_right_verifier(person, partner):
    consent = request_consent(partner)
    code, _ = approve(person, partner, consent)
    response = exchange(partner, code, "x" * 60)
    assert response.status_code == 400
    assert not AccessToken.objects.exists()


def test_a_code_older_than_sixty_seconds_is_refused(person, partner):
    consent = request_consent(partner)
    code, verifier = approve(person, partner, consent)
    grant_row = Grant.objects.get()
    assert grant_row.expires - grant_row.created <= timedelta(seconds=61)
    Grant.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert exchange(partner, code, verifier).status_code == 400


def test_a_replayed_code_is_refused_and_revokes_the_tokens_it_gave(person, partner):
    consent = request_consent(partner)
    code, verifier = approve(person, partner, consent)
    first = exchange(partner, code, verifier)
    assert first.status_code == 200
    tokens = first.json()
    replay = exchange(partner, code, verifier)
    assert replay.status_code == 400
    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
    api = Client().get("/api/v1/data/moments", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert api.status_code == 401
    assert refresh(partner, tokens["refresh_token"]).status_code == 400


def test_access_tokens_live_ten_minutes_at_most_and_never_past_the_consent(person, partner):
    long = grant(person, partner)
    token = AccessToken.objects.get(consent_binding__consent=long.consent)
    assert timedelta(seconds=590) <= token.expires - timezone.now() <= timedelta(seconds=600)
    short = grant(person, partner, expires_at=timezone.now() + timedelta(seconds=120))
    token = AccessToken.objects.get(consent_binding__consent=short.consent)
    assert token.expires <= short.consent.expires_at


def test_refresh_rotates_and_the_old_refresh_token_is_dead(person, partner):
    result = grant(person, partner)
    response = refresh(partner, result.refresh_token)
    assert response.status_code == 200
    new = response.json()
    assert new["refresh_token"] != result.refresh_token
    assert Client().get("/api/v1/data/moments", HTTP_AUTHORIZATION=f"Bearer {new['access_token']}").status_code == 200
    assert refresh(partner, result.refresh_token).status_code == 400


def test_pause_stops_refresh_and_resume_restores_it(person, partner):
    result = grant(person, partner)
    services.consent_pause(consent=result.consent, person=person)
    assert refresh(partner, result.refresh_token).status_code == 400
    services.consent_resume(consent=result.consent, person=person)
    response = refresh(partner, result.refresh_token)
    assert response.status_code == 200
    new_token = response.json()["access_token"]
    assert Client().get("/api/v1/data/moments", HTTP_AUTHORIZATION=f"Bearer {new_token}").status_code == 200


def test_revoke_kills_access_and_refresh_tokens(person, partner):
    result = grant(person, partner)
    services.consent_revoke(consent=result.consent, person=person)
    assert result.get("/api/v1/data/moments").status_code == 401
    assert refresh(partner, result.refresh_token).status_code == 400


def test_refresh_fails_once_the_consent_expired(person, partner):
    result = grant(person, partner)
    Consent.objects.filter(pk=result.consent.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert refresh(partner, result.refresh_token).status_code == 400


def test_rfc7009_revocation_endpoint(person, partner):
    result = grant(person, partner)
    response = Client().post(
        "/oauth/revoke_token/", {"token": result.access_token}, HTTP_AUTHORIZATION=partner.basic_auth()
    )
    assert response.status_code == 200
    assert result.get("/api/v1/data/moments").status_code == 401


def test_rfc7662_introspection_answers_the_owning_client_only(person, partner, other_partner):
    result = grant(person, partner)
    own = Client().post("/oauth/introspect/", {"token": result.access_token}, HTTP_AUTHORIZATION=partner.basic_auth())
    body = own.json()
    assert body["active"] is True
    assert body["consent"] == str(result.consent.uid)
    assert "username" not in body
    assert person.username not in own.content.decode()
    foreign = Client().post(
        "/oauth/introspect/", {"token": result.access_token}, HTTP_AUTHORIZATION=other_partner.basic_auth()
    )
    assert foreign.json() == {"active": False}
    services.consent_pause(consent=result.consent, person=person)
    paused = Client().post(
        "/oauth/introspect/", {"token": result.access_token}, HTTP_AUTHORIZATION=partner.basic_auth()
    )
    assert paused.json() == {"active": False}


def test_introspection_needs_client_authentication(person, partner):
    result = grant(person, partner)
    assert Client().post("/oauth/introspect/", {"token": result.access_token}).status_code in (401, 403)


def test_rfc8414_metadata_lists_only_what_is_allowed():
    metadata = Client().get("/.well-known/oauth-authorization-server").json()
    assert metadata["response_types_supported"] == ["code"]
    assert set(metadata["grant_types_supported"]) == {"authorization_code", "refresh_token"}
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert "lifelog.location:coarse" in metadata["scopes_supported"]
    for key in ("authorization_endpoint", "token_endpoint", "revocation_endpoint", "introspection_endpoint"):
        assert metadata[key].startswith("http://testserver/oauth/")


def test_an_anonymous_visitor_is_sent_to_log_in_first(partner):
    consent = request_consent(partner)
    _, challenge = pkce_pair()
    page = Client().get("/oauth/authorize/", authorize_params(partner, consent, challenge))
    assert page.status_code == 302
    assert page["Location"].startswith("/accounts/login/")
    assert Consent.objects.get(pk=consent.pk).state == Consent.State.REQUESTED


def test_a_tampered_consent_request_id_on_approval_is_refused(person, partner, other_partner):
    mine = request_consent(partner)
    theirs = request_consent(other_partner)
    browser = logged_in(person)
    _, challenge = pkce_pair()
    page = browser.get("/oauth/authorize/", authorize_params(partner, mine, challenge))
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    answer = browser.post("/oauth/authorize/", {**form, "consent_request": str(theirs.uid), "allow": "true"})
    assert answer.status_code == 400
    assert Consent.objects.get(pk=theirs.pk).state == Consent.State.REQUESTED
    assert not Grant.objects.exists()
