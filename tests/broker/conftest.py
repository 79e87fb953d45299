"""The broker's test world: partners, consents granted through the real OAuth flow,
a recording ledger and an in-memory webhook sender."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from broker import services
from broker.models import Consent, Partner
from ledger import services as ledger_services

REDIRECT_URI = "https://partner.example/callback"


@pytest.fixture(autouse=True)
def ledger_entries(monkeypatch):
    """Every ledger append the broker makes, in order. Calls through to the real ledger
    when it is implemented; until then the contract is honoured with a fake entry id."""
    entries: list[dict] = []
    real_append = ledger_services.append

    def recording_append(*, kind, actor, subject, body):
        try:
            entry_id = real_append(kind=kind, actor=actor, subject=subject, body=body)
        except NotImplementedError:
            entry_id = f"entry-{len(entries) + 1}"
        entries.append({"kind": kind, "actor": actor, "subject": subject, "body": body, "id": entry_id})
        return entry_id

    monkeypatch.setattr(ledger_services, "append", recording_append)
    return entries


@pytest.fixture(autouse=True)
def webhook_sender(memory_webhooks):
    return memory_webhooks


@dataclass
class PartnerWorld:
    partner: Partner
    application: object
    secret: str

    @property
    def client_id(self) -> str:
        return self.application.client_id

    def basic_auth(self) -> str:
        return "Basic " + base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()


def make_partner(name: str, redirect_uri: str = REDIRECT_URI) -> PartnerWorld:
    partner, application, secret = services.partner_create(
        name=name, redirect_uri=redirect_uri, webhook_url=f"https://{name.lower().replace(' ', '-')}.example/hook"
    )
    return PartnerWorld(partner, application, secret)


@pytest.fixture
def partner(db) -> PartnerWorld:
    return make_partner("Cosy Chairs")


@pytest.fixture
def other_partner(db) -> PartnerWorld:
    return make_partner("Safe Insurance")


ALL_SCOPES = [
    "lifelog.moments:read",
    "lifelog.location:precise",
    "lifelog.heartrate:read",
    "social.interests:read",
    "social.posts:read",
]


def request_consent(world: PartnerWorld, **overrides) -> Consent:
    now = timezone.now()
    terms = {
        "scopes": ["lifelog.moments:read"],
        "purpose_code": "ServicePersonalisation",
        "purpose_text": "Suggest furniture for rooms you love.",
        "data_from": now - timedelta(days=365),
        "data_to": now + timedelta(days=1),
        "frequency_value": 100,
        "frequency_unit": Consent.FrequencyUnit.DAY,
        "data_life_value": 30,
        "data_life_unit": Consent.DataLifeUnit.DAY,
        "valid_from": now - timedelta(minutes=1),
        "expires_at": now + timedelta(days=90),
        "price_amount": Decimal("0.50"),
        "price_basis": Consent.PriceBasis.PER_ACCESS,
        **overrides,
    }
    return services.consent_request(partner=world.partner, application=world.application, **terms)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_params(world: PartnerWorld, consent: Consent, challenge: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": world.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": " ".join(consent.scopes),
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "consent_request": str(consent.uid),
    }


def approve(person, world: PartnerWorld, consent: Consent, *, allow: bool = True) -> tuple[str | None, str]:
    """The person approves (or denies) on the consent screen; returns (code, verifier)."""
    browser = Client()
    browser.force_login(person)
    verifier, challenge = pkce_pair()
    params = authorize_params(world, consent, challenge)
    page = browser.get("/oauth/authorize/", params)
    assert page.status_code == 200, page.content[:500]
    form = {**page.context["form"].initial, "consent_request": str(consent.uid)}
    form = {key: value for key, value in form.items() if value is not None}
    if allow:
        form["allow"] = "true"
    answer = browser.post("/oauth/authorize/", form)
    assert answer.status_code == 302, answer.content[:500]
    query = parse_qs(urlsplit(answer["Location"]).query)
    return (query["code"][0] if "code" in query else None), verifier


def exchange(world: PartnerWorld, code: str, verifier: str):
    return Client().post(
        "/oauth/token/",
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier},
        HTTP_AUTHORIZATION=world.basic_auth(),
    )


def refresh(world: PartnerWorld, refresh_token: str):
    return Client().post(
        "/oauth/token/",
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        HTTP_AUTHORIZATION=world.basic_auth(),
    )


@dataclass
class Grant:
    consent: Consent
    access_token: str
    refresh_token: str
    world: PartnerWorld

    def get(self, path: str, **params):
        return Client().get(path, params, HTTP_AUTHORIZATION=f"Bearer {self.access_token}")


def grant(person, world: PartnerWorld, **terms) -> Grant:
    consent = request_consent(world, **terms)
    code, verifier = approve(person, world, consent)
    response = exchange(world, code, verifier)
    assert response.status_code == 200, response.content
    tokens = response.json()
    consent.refresh_from_db()
    return Grant(consent, tokens["access_token"], tokens["refresh_token"], world)
