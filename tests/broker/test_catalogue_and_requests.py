"""Published catalogues, consent requests by partners' servers, partner_create."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from oauth2_provider.models import Application

from broker.catalogue import PURPOSES, SCOPES
from broker.models import Consent, Partner

pytestmark = pytest.mark.django_db

REQUEST = {
    "scopes": ["lifelog.moments:read", "lifelog.location:coarse"],
    "purpose_code": "LoyaltyProgramme",
    "purpose_text": "Suggest a drink when you pass one of our cafés.",
    "data_from": "2026-01-01T00:00:00Z",
    "data_to": "2026-12-31T00:00:00Z",
    "frequency_value": 24,
    "frequency_unit": "DAY",
    "data_life_value": 30,
    "data_life_unit": "DAY",
    "valid_from": "2026-01-01T00:00:00Z",
    "expires_at": "2030-01-01T00:00:00Z",
    "price_amount": "0.10",
    "price_basis": "per_access",
}


def test_scopes_and_purposes_are_published():
    scopes = Client().get("/api/v1/scopes").json()
    assert {row["name"] for row in scopes} == set(SCOPES)
    assert all(row["description"] for row in scopes)
    purposes = Client().get("/api/v1/purposes").json()
    assert {row["code"] for row in purposes} == set(PURPOSES)
    assert all(row["ref_uri"].startswith("https://w3id.org/dpv#") for row in purposes)


def post_request(partner, body, **headers):
    return Client().post(
        "/api/v1/consent-requests",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=partner.basic_auth(),
        **headers,
    )


def test_a_partner_creates_a_consent_request(partner):
    response = post_request(partner, REQUEST)
    assert response.status_code == 201, response.content
    body = response.json()
    consent = Consent.objects.get(uid=body["id"])
    assert consent.state == Consent.State.REQUESTED
    assert consent.person is None
    assert body["authorize_hint"] == f"consent_request={consent.uid}"
    assert consent.scopes == sorted(REQUEST["scopes"])


def test_consent_requests_need_the_client_secret(partner):
    response = Client().post(
        "/api/v1/consent-requests",
        json.dumps(REQUEST),
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + __import__("base64").b64encode(f"{partner.client_id}:wrong".encode()).decode(),
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "ClientAuthenticationFailed"
    assert Client().post("/api/v1/consent-requests", REQUEST).status_code in (401, 403)
    assert not Consent.objects.exists()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"purpose_code": "Anything"}, "InvalidConsentPurpose"),
        ({"scopes": ["all:data"]}, "InvalidConsentRequest"),
        ({"data_from": "2027-01-01T00:00:00Z"}, "InvalidConsentRequest"),
        ({"frequency_unit": "WEEK"}, "InvalidRequest"),
        ({"price_amount": "-1"}, "InvalidRequest"),
        ({"data_to": "not a date"}, "InvalidRequest"),
    ],
)
def test_bad_requests_get_a_code_and_write_nothing(partner, change, code):
    response = post_request(partner, {**REQUEST, **change})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not Consent.objects.exists()


def test_consent_request_idempotency(partner):
    first = post_request(partner, REQUEST, HTTP_IDEMPOTENCY_KEY="abc")
    again = post_request(partner, REQUEST, HTTP_IDEMPOTENCY_KEY="abc")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Consent.objects.count() == 1
    other = post_request(partner, {**REQUEST, "frequency_value": 1}, HTTP_IDEMPOTENCY_KEY="abc")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "IdempotencyError"


def test_partner_create_prints_working_credentials(db):
    out = StringIO()
    call_command(
        "partner_create",
        "--name",
        "Bean There",
        "--redirect-uri",
        "https://bean.example/cb",
        "--webhook-url",
        "https://bean.example/hook",
        stdout=out,
    )
    printed = json.loads(out.getvalue())
    application = Application.objects.get(client_id=printed["client_id"])
    assert application.authorization_grant_type == "authorization-code"
    assert application.client_type == "confidential"
    assert application.client_secret != printed["client_secret"], "only the hash is stored"
    partner = Partner.objects.get(uid=printed["partner_id"])
    assert partner.webhook_url == "https://bean.example/hook"
    from tests.broker.conftest import PartnerWorld

    world = PartnerWorld(partner, application, printed["client_secret"])
    assert post_request(world, REQUEST).status_code == 201


@pytest.mark.parametrize("uri", ["http://bean.example/cb", "https://bean.example/cb#frag", "not a uri"])
def test_partner_create_refuses_unsafe_redirect_uris(db, uri):
    with pytest.raises(CommandError):
        call_command("partner_create", "--name", "Bad", "--redirect-uri", uri, stdout=StringIO())
    assert not Partner.objects.exists()


def test_loopback_http_is_allowed_locally(db):
    out = StringIO()
    call_command("partner_create", "--name", "Dev", "--redirect-uri", "http://127.0.0.1:8765/cb", stdout=out)
    assert json.loads(out.getvalue())["client_id"]
