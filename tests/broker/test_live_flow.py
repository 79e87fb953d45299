"""The whole flow against a live server with a real OAuth client library
(requests-oauthlib): consent request, authorize with PKCE S256, the consent screen
approved in a logged-in browser session, code exchange, API calls, refresh, revoke."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings as django_settings
from django.test import Client
from requests_oauthlib import OAuth2Session

from broker import services
from tests.broker.vaultdata import add_moments

REDIRECT_URI = "http://127.0.0.1:8765/callback"
BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FormFields(HTMLParser):
    """Collects the hidden inputs of the consent form (csrf token included)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") == "hidden" and attributes.get("name"):
            self.fields[attributes["name"]] = attributes.get("value") or ""


def browser_session_for(person) -> requests.Session:
    """A real HTTP session carrying the person's login cookie."""
    client = Client()
    client.force_login(person)
    session = requests.Session()
    session.cookies.set(django_settings.SESSION_COOKIE_NAME, client.cookies[django_settings.SESSION_COOKIE_NAME].value)
    return session


@pytest.mark.django_db(transaction=True)
def test_full_flow_with_requests_oauthlib(live_server, person, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the live server speaks http on loopback
    _partner, application, secret = services.partner_create(name="Live Chairs", redirect_uri=REDIRECT_URI)
    add_moments(person, BASE, 3)
    base = live_server.url

    # 1. The partner's server states its terms.
    terms = {
        "scopes": ["lifelog.moments:read"],
        "purpose_code": "ServicePersonalisation",
        "purpose_text": "Suggest furniture.",
        "data_from": (BASE - timedelta(days=1)).isoformat(),
        "data_to": (BASE + timedelta(days=1)).isoformat(),
        "frequency_value": 50,
        "frequency_unit": "DAY",
        "data_life_unit": "MONTH",
        "data_life_value": 1,
        "valid_from": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "price_amount": "0.20",
        "price_basis": "per_access",
    }
    created = requests.post(
        f"{base}/api/v1/consent-requests", json=terms, auth=(application.client_id, secret), timeout=30
    )
    assert created.status_code == 201, created.text
    consent_id = created.json()["id"]

    # 2. Authorization request with PKCE S256, built by the client library.
    oauth = OAuth2Session(application.client_id, redirect_uri=REDIRECT_URI, scope=terms["scopes"], pkce="S256")
    url, state = oauth.authorization_url(f"{base}/oauth/authorize/", consent_request=consent_id)
    assert "code_challenge_method=S256" in url

    # 3. The person sees the consent screen and approves it.
    browser = browser_session_for(person)
    screen = browser.get(url)
    assert screen.status_code == 200
    assert "Live Chairs" in screen.text
    form = FormFields()
    form.feed(screen.text)
    answer = browser.post(
        f"{base}/oauth/authorize/",
        data={**form.fields, "allow": "true"},
        allow_redirects=False,
        headers={"Referer": url},
    )
    assert answer.status_code == 302, answer.text[:300]
    callback = answer.headers["Location"]
    assert callback.startswith(REDIRECT_URI)
    assert parse_qs(urlsplit(callback).query)["state"] == [state]

    # 4. Code exchange (with the PKCE verifier the library kept).
    token = oauth.fetch_token(
        f"{base}/oauth/token/", authorization_response=callback, client_secret=secret, include_client_id=True
    )
    assert token["expires_in"] <= 600
    assert token["refresh_token"]

    # 5. API calls.
    page = oauth.get(f"{base}/api/v1/data/moments")
    assert page.status_code == 200
    assert len(page.json()["items"]) == 3
    denied = oauth.get(f"{base}/api/v1/data/location")
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "ScopeNotGranted"

    # 6. Refresh (rotated).
    refreshed = oauth.refresh_token(f"{base}/oauth/token/", auth=(application.client_id, secret))
    assert refreshed["access_token"] != token["access_token"]
    assert oauth.get(f"{base}/api/v1/data/moments").status_code == 200
    assert (
        requests.get(
            f"{base}/api/v1/data/moments",
            headers={"Authorization": f"Bearer {token['access_token']}"},
            timeout=30,
        ).status_code
        == 401
    ), "the old access token died with the rotation"

    # 7. Revoke (RFC 7009) the current tokens: nothing works afterwards.
    for kind in ("access_token", "refresh_token"):
        revoked = requests.post(
            f"{base}/oauth/revoke_token/",
            data={"token": refreshed[kind], "token_type_hint": kind},
            auth=(application.client_id, secret),
            timeout=30,
        )
        assert revoked.status_code == 200
    assert oauth.get(f"{base}/api/v1/data/moments").status_code == 401
    again = requests.post(
        f"{base}/oauth/token/",
        data={"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]},
        auth=(application.client_id, secret),
        timeout=30,
    )
    assert again.status_code == 400
