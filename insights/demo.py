"""The insights part of the demo world (runs after the vault and broker steps).

1. Chiara (Rome) gets three earlier months of everyday moments through the vault's real
   importer (coffee, concerts, Vespa rides, one calm visit to a church), so that her
   baroque week from the vault demo shows "Baroque and classical interiors" *rising*.
2. Every demo person's timeline is rebuilt.
3. Each active consent with ``insights.interests:read`` (the furniture retailer's, when
   the broker demo made one) is served once through the real partner read path, so the
   access log, the ledger and "which partner saw what" have something to show.

Idempotent: the earlier months are generated from Chiara's sign-up date (the importer
skips duplicates), and a partner that already received her interests is not served again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TextIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import User
from insights import selectors, services
from insights.models import InsightDisclosure
from insights.partner import SCOPE, serve_interests

EARLIER_WEEKS = 12
ROME_CHURCH = {"name": "Santa Maria in Trastevere", "lat": 41.889468, "lon": 12.470045}
# (weekday, hour, kind, label, sentiment, tags, hr, place): one pattern per week.
CHIARA_WEEK = (
    (0, "08:30", "product", "Cornetto and cappuccino at the corner bar", "likes", ["coffee", "breakfast"], 72, None),
    (2, "20:30", "activity", "Chamber music evening: a Vivaldi concerto", "likes", ["music", "concert"], 78, None),
    (5, "16:00", "activity", "Vespa ride to the Gianicolo", "likes", ["vespa"], 88, None),
    (6, "13:00", "place", "Sunday lunch at the trattoria: cacio e pepe", "loves", ["pasta", "family"], 80, None),
)


def _chiara_earlier_document(person: User) -> tuple[str, str]:
    joined = person.date_joined.astimezone(UTC).date()
    first_monday = joined - timedelta(days=7 * (EARLIER_WEEKS + 1) + joined.weekday())
    moments: list[dict[str, Any]] = []
    for week in range(EARLIER_WEEKS):
        monday = first_monday + timedelta(days=7 * week)
        for weekday, at, kind, label, sentiment, tags, hr, place in CHIARA_WEEK:
            when = datetime.combine(monday + timedelta(days=weekday), time.fromisoformat(at), tzinfo=UTC)
            moment = {"occurred_at": when.isoformat(), "kind": kind, "label": label, "sentiment": sentiment}
            moments.append({**moment, "tags": tags, "hr": hr, "place": place})
    calm_visit = datetime.combine(first_monday + timedelta(days=10), time(11, 0), tzinfo=UTC)
    moments.append(
        {
            "occurred_at": calm_visit.isoformat(),
            "kind": "place",
            "label": "Mosaics at Santa Maria in Trastevere",
            "sentiment": "likes",
            "tags": ["church"],
            "hr": 74,
            "place": ROME_CHURCH,
        }
    )
    document = {"format": "eidetic-import/1", "moments": moments}
    return "chiara-earlier-months.json", json.dumps(document, indent=1)


def _import_earlier_months(person: User) -> int:
    from vault.importing import start_import

    filename, text = _chiara_earlier_document(person)
    upload = SimpleUploadedFile(filename, text.encode(), content_type="application/json")
    job = start_import(person=person, upload=upload, filename=filename, format="eidetic")
    job.refresh_from_db()
    return job.created_items


def _ensure_furniture_consent(person: User, out: TextIO) -> None:
    """The issue's example needs the furniture retailer to hold an insights consent from
    Chiara. The broker demo owns partners and consents; when it made a furniture partner
    but no such consent, ask and grant one through the broker's own services."""
    from broker.models import Partner
    from broker.selectors import consents_of_person
    from broker.services import consent_grant, consent_request

    if any(consent.covers(SCOPE) for consent in consents_of_person(person=person, states=["active"])):
        return
    partner = Partner.objects.filter(name__icontains="furniture").first()
    client = partner.clients.select_related("application").first() if partner else None
    if client is None:
        out.write("  insights: no furniture retailer in the demo yet: no partner receives interests\n")
        return
    now = timezone.now()
    consent = consent_request(
        partner=partner,
        application=client.application,
        scopes=[SCOPE],
        purpose_code="ServicePersonalisation",
        purpose_text="Suggest furniture in the styles you love.",
        data_from=now - timedelta(days=365),
        data_to=now + timedelta(days=365),
        frequency_value=24,
        frequency_unit="DAY",
        data_life_value=30,
        data_life_unit="DAY",
        valid_from=now,
        expires_at=now + timedelta(days=180),
        price_amount=Decimal("0.20"),
        price_basis="per_access",
    )
    consent_grant(consent=consent, person=person, now=now)
    out.write(f"  insights: {partner.name} asked for and got chiara's insights consent\n")


def _serve_partners(person: User, out: TextIO) -> None:
    from broker.errors import BrokerError
    from broker.selectors import consents_of_person

    for consent in consents_of_person(person=person, states=["active"]):
        if not consent.covers(SCOPE):
            continue
        already = InsightDisclosure.objects.filter(owner=person, partner_uid=consent.partner.uid).exists()
        if already:
            continue
        try:
            body = serve_interests(consent=consent, limit=5, now=timezone.now())
        except BrokerError as error:
            out.write(f"  insights: {consent.partner.name} was refused ({error.code})\n")
            continue
        names = ", ".join(item["name"] for item in body["interests"])
        out.write(f"  insights: {consent.partner.name} received {person.username}'s top interests: {names}\n")


def populate(world: dict[str, Any], out: TextIO) -> None:
    people = list(world.get("people") or User.objects.filter(role=User.Role.PERSON, erased_at__isnull=True))
    for person in people:
        if person.username == "chiara":
            created = _import_earlier_months(person)
            out.write(f"  insights: chiara's earlier months: {created} moments imported\n")
            _ensure_furniture_consent(person, out)
        result = services.rebuild_interests(person=person)
        top = selectors.interests_of(person)[:3]
        summary = ", ".join(f"{item['name']} ({item['trend']})" for item in top) or "none yet"
        out.write(f"  insights: {person.username}: {result.evidence_written} records with evidence; top: {summary}\n")
        _serve_partners(person, out)
