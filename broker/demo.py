"""The broker's part of the demo world: three partners, consents in every state, and
some access history.

Runs after ``vault.demo.populate`` (``world["people"]``). Everything goes through the
broker's services, so the ledger records each grant, pause, revoke, expiry and payment;
reads go through the same checks and vault selectors as the partner API
(``broker.access`` and the API views' ``read``), without the HTTP and token layer.

Idempotent: a consent is identified by its partner, its person and the partner's own
words (``purpose_text``); an existing one is left alone, with its history.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, TextIO
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from broker import access, services
from broker.api import data
from broker.errors import BrokerError
from broker.models import AccessLogEntry, Consent, Partner
from vault.demo import DEMO_PASSWORD

State = Consent.State
Unit = Consent.FrequencyUnit
Life = Consent.DataLifeUnit
Basis = Consent.PriceBasis

# A published verifier, so that whoever plays the partner can exchange the demo's code.
DEMO_PKCE_VERIFIER = "eidetic-demo-pkce-verifier-0123456789-abcdefghijklmnopqrstuvwxyz"

ENDPOINTS: dict[str, type[data.ConsentedDataView]] = {
    "moments": data.MomentsView,
    "location": data.LocationView,
    "heartrate": data.HeartRateView,
    "interests": data.SocialInterestsView,
    "posts": data.SocialPostsView,
}


@dataclass(frozen=True)
class DemoPartner:
    name: str
    staff_username: str
    redirect_uri: str


FURNITURE = DemoPartner("Casa Forma Furniture", "casaforma", "https://casaforma.example/eidetic/callback")
INSURER = DemoPartner("Aegis Mutual Insurance", "aegis", "https://aegis-mutual.example/oauth/callback")
COFFEE = DemoPartner("Bean & Bloom Coffee", "beanbloom", "https://beanbloom.example/callback")
PARTNERS = (FURNITURE, INSURER, COFFEE)


@dataclass(frozen=True)
class DemoConsent:
    """One consent's terms and story: the state it ends in and the reads made under it."""

    partner: DemoPartner
    person: str  # the demo person's username
    end_state: str
    scopes: tuple[str, ...]
    purpose_code: str
    purpose_text: str
    frequency: tuple[int, str] = (20, Unit.DAY)
    data_life: tuple[int, str] = (6, Life.MONTH)
    price: tuple[str, str] = ("0", Basis.NONE)
    valid_days: int = 365
    # Endpoints read while the consent is active (before it is paused, revoked...).
    reads: tuple[str, ...] = ()
    # Endpoints tried after the final change: refused, and logged as refused.
    late_reads: tuple[str, ...] = field(default=())


CONSENTS = (
    DemoConsent(
        FURNITURE,
        "chiara",
        State.ACTIVE,
        ("lifelog.moments:read", "social.interests:read"),
        "ServicePersonalisation",
        "Suggest furniture and decor that match the places and things you love.",
        price=("0.50", Basis.PER_ACCESS),
        reads=("moments", "interests", "moments", "moments", "interests"),
    ),
    DemoConsent(
        COFFEE,
        "chiara",
        State.PAUSED,
        ("lifelog.location:coarse", "lifelog.moments:read"),
        "LoyaltyProgramme",
        "Give you loyalty points when you pass by our cafés.",
        frequency=(10, Unit.DAY),
        data_life=(30, Life.DAY),
        price=("5.00", Basis.PER_MONTH),
        reads=("location", "moments", "location"),
        late_reads=("location",),
    ),
    DemoConsent(
        INSURER,
        "chiara",
        State.REJECTED,
        ("lifelog.heartrate:read", "lifelog.location:precise"),
        "InsuranceRiskAssessment",
        "Price your health insurance from your heart rate and where you go.",
        price=("2.00", Basis.PER_ACCESS),
    ),
    DemoConsent(
        INSURER,
        "chiara",
        State.REQUESTED,
        ("lifelog.heartrate:read",),
        "InsuranceRiskAssessment",
        "Offer you a cheaper policy if you walk every day (heart rate only, no places).",
        frequency=(1, Unit.DAY),
        data_life=(1, Life.YEAR),
        price=("1.50", Basis.PER_ACCESS),
    ),
    DemoConsent(
        INSURER,
        "ada",
        State.ACTIVE,
        ("lifelog.heartrate:read",),
        "InsuranceRiskAssessment",
        "Lower your premium while you keep exercising regularly.",
        frequency=(5, Unit.DAY),
        data_life=(1, Life.YEAR),
        price=("1.00", Basis.PER_ACCESS),
        reads=("heartrate", "heartrate", "heartrate"),
    ),
    DemoConsent(
        FURNITURE,
        "ada",
        State.REVOKED,
        ("lifelog.moments:read",),
        "PersonalisedAdvertising",
        "Show you our adverts for the pieces you might like.",
        price=("0.25", Basis.PER_ACCESS),
        reads=("moments", "moments"),
    ),
    DemoConsent(
        COFFEE,
        "ada",
        State.EXPIRED,
        ("lifelog.location:coarse",),
        "ServicePersonalisation",
        "Suggest cafés near where you walk, for a trial month.",
        data_life=(0, Life.DAY),
        reads=("location", "location"),
    ),
    DemoConsent(
        COFFEE,
        "ben",
        State.ACTIVE,
        ("social.interests:read",),
        "PersonalisedAdvertising",
        "Tailor our seasonal drinks offers to what you like.",
        frequency=(3, Unit.DAY),
        price=("0.10", Basis.PER_ACCESS),
        # The fourth read of the day is over the limit: refused with FrequencyExceeded.
        reads=("interests", "interests", "interests", "interests"),
    ),
    DemoConsent(
        FURNITURE,
        "ben",
        State.ACTIVE,
        ("lifelog.moments:read", "lifelog.location:coarse"),
        "ResearchAndDevelopment",
        "Study how people move around their homes to design better shelving.",
        frequency=(2, Unit.DAY),
        data_life=(3, Life.MONTH),
        price=("3.00", Basis.PER_MONTH),
        reads=("moments", "location"),
    ),
)


# --- partners -------------------------------------------------------------------------


def _partner(spec: DemoPartner, out: TextIO) -> Partner:
    partner = Partner.objects.filter(name=spec.name).first()
    if partner is None:
        # No webhook URL: the demo must not try to reach the network.
        partner, application, secret = services.partner_create(name=spec.name, redirect_uri=spec.redirect_uri)
        out.write(
            f"  broker: partner {spec.name} created; OAuth client_id {application.client_id} "
            f"client_secret {secret} (shown once)\n"
        )
    else:
        out.write(f"  broker: partner {spec.name} already there\n")
    _staff(spec, partner)
    return partner


def _staff(spec: DemoPartner, partner: Partner) -> User:
    user = User.objects.filter(username=spec.staff_username).first()
    if user is None:
        user = User.objects.create_user(
            username=spec.staff_username, password=DEMO_PASSWORD, role=User.Role.PARTNER_STAFF
        )
    services.partner_staff_add(partner=partner, user=user)
    return user


# --- consents -------------------------------------------------------------------------


def _existing(spec: DemoConsent, partner: Partner, person: User) -> Consent | None:
    """The demo's consent if it exists: answered by this person, or still open."""
    return (
        Consent.objects.filter(partner=partner, purpose_text=spec.purpose_text)
        .filter(Q(person=person) | Q(person__isnull=True))
        .first()
    )


def _request(spec: DemoConsent, partner: Partner) -> Consent:
    now = timezone.now()
    amount, basis = spec.price
    if spec.end_state == State.EXPIRED:
        # A consent that ends within seconds of the demo: it expires at the end of its story.
        valid_from, expires_at = now - timedelta(minutes=5), now + timedelta(seconds=5)
    else:
        valid_from, expires_at = now - timedelta(minutes=5), now + timedelta(days=spec.valid_days)
    return services.consent_request(
        partner=partner,
        application=partner.clients.order_by("created_at").first().application,
        scopes=list(spec.scopes),
        purpose_code=spec.purpose_code,
        purpose_text=spec.purpose_text,
        data_from=now - timedelta(days=365),
        data_to=now + timedelta(days=spec.valid_days),
        frequency_value=spec.frequency[0],
        frequency_unit=spec.frequency[1],
        data_life_value=spec.data_life[0],
        data_life_unit=spec.data_life[1],
        valid_from=valid_from,
        expires_at=expires_at,
        price_amount=Decimal(amount),
        price_basis=basis,
    )


def read(consent: Consent, endpoint: str) -> AccessLogEntry:
    """One partner read, checked, opened, logged and paid as the API does it."""
    view = ENDPOINTS[endpoint]
    consent = Consent.objects.select_related("partner", "person").get(pk=consent.pk)
    now = access.clock()
    scope = view.scopes[0]
    try:
        scope = access.check(consent=consent, scopes=view.scopes, start=consent.data_from, end=consent.data_to, now=now)
        page = view().read(
            consent, scope, start=consent.data_from, end=consent.data_to, after=None, limit=settings.BROKER["PAGE_SIZE"]
        )
        return access.record_allowed(consent=consent, scope=scope, record_count=len(page.items), now=now)
    except BrokerError as error:
        return access.record_denied(consent=consent, scope=scope, error=error, now=now)


FINAL_CHANGES: dict[str, Callable[[Consent, User], Any]] = {
    State.ACTIVE: lambda consent, person: None,
    State.PAUSED: lambda consent, person: services.consent_pause(consent=consent, person=person),
    State.REVOKED: lambda consent, person: services.consent_revoke(consent=consent, person=person),
    State.EXPIRED: lambda consent, person: services.consent_expire(
        consent=consent, now=max(timezone.now(), consent.expires_at)
    ),
}


def _play(spec: DemoConsent, consent: Consent, person: User) -> None:
    """Answer the request, read under it, then bring it to its final state."""
    if spec.end_state == State.REQUESTED:
        return
    if spec.end_state == State.REJECTED:
        services.consent_reject(consent=consent, person=person)
        return
    consent = services.consent_grant(consent=consent, person=person)
    for endpoint in spec.reads:
        read(consent, endpoint)
    FINAL_CHANGES[spec.end_state](consent, person)
    for endpoint in spec.late_reads:
        read(consent, endpoint)


def authorize_url(consent: Consent, redirect_uri: str) -> str:
    """The consent screen's address for an open request (what the partner would send)."""
    challenge = base64.urlsafe_b64encode(hashlib.sha256(DEMO_PKCE_VERIFIER.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": consent.application.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(consent.scopes),
        "state": "demo",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "consent_request": str(consent.uid),
    }
    return f"/oauth/authorize/?{urlencode(query)}"


def _consent(spec: DemoConsent, partner: Partner, person: User, out: TextIO) -> bool:
    """Create and play one demo consent; False when it was already there."""
    consent = _existing(spec, partner, person)
    created = consent is None
    if created:
        consent = _request(spec, partner)
        _play(spec, consent, person)
    if spec.end_state == State.REQUESTED and consent.state == State.REQUESTED:
        out.write(
            f"  broker: open request from {partner.name}: log in as {person.username} and visit "
            f"{authorize_url(consent, spec.partner.redirect_uri)}\n"
        )
    return created


# --- the step -------------------------------------------------------------------------


def populate(world: dict[str, Any], out: TextIO) -> None:
    """Partners with staff logins and clients, then the demo consents of ``world["people"]``."""
    partners = {spec.name: _partner(spec, out) for spec in PARTNERS}
    people = {person.username: person for person in world.get("people", [])}
    created = skipped = 0
    for spec in CONSENTS:
        person = people.get(spec.person)
        if person is None or not person.is_person or person.is_erased:
            skipped += 1
            continue
        if _consent(spec, partners[spec.partner.name], person, out):
            created += 1
    out.write(f"  broker: {created} demo consents created, {len(CONSENTS) - created - skipped} already there")
    out.write(f", {skipped} skipped (their person is missing)\n" if skipped else "\n")
    world["partners"] = list(partners.values())
    world.setdefault("logins", []).extend(
        {"username": spec.staff_username, "password": DEMO_PASSWORD, "role": f"partner staff, {spec.name}"}
        for spec in PARTNERS
    )
