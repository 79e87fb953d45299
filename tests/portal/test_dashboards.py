"""The numbers that matter on each role's first page: the person's dashboard, the partner
console, the auditor's ledger page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from broker import services
from ledger import services as ledger_services
from tests.broker.conftest import grant, request_consent

pytestmark = pytest.mark.django_db


def _stats(html: str) -> list[tuple[str, str]]:
    """(number, label) of every stat card on the page."""
    pairs = re.findall(
        r'<span class="stat-number[^"]*">(.*?)</span>\s*<span class="stat-label">(.*?)</span>', html, flags=re.S
    )
    return [(number.strip(), re.sub(r"\s+", " ", label).strip()) for number, label in pairs]


def test_person_dashboard_counts_consents_month_earnings_and_last_access(client, person, partner):
    result = grant(person, partner, price_amount=Decimal("0.25"))
    for _ in range(3):
        assert result.get("/api/v1/data/moments").status_code == 200
    client.force_login(person)
    stats = {label: number for number, label in _stats(client.get(reverse("vault:dashboard")).content.decode())}
    assert stats["active consent"] == "1"
    assert stats["credits earned this month"] == "0.75"
    assert stats["since Cosy Chairs last asked"].startswith("0")  # "0 minutes"


def test_person_dashboard_with_nothing_yet_invites_her_to_start(client, person):
    client.force_login(person)
    html = client.get(reverse("vault:dashboard")).content.decode()
    assert "Your vault is empty" in html
    assert "no partner has asked yet" in html


def test_partner_console_counts_active_consents_reads_and_spend(client, person, other_person, partner, partner_staff):
    result = grant(person, partner, price_amount=Decimal("0.50"))
    result.get("/api/v1/data/moments")
    result.get("/api/v1/data/moments")
    paused = services.consent_grant(consent=request_consent(partner), person=other_person)
    services.consent_pause(consent=paused, person=other_person)
    client.force_login(partner_staff)
    html = client.get(reverse("broker:partner_console", kwargs={"partner_id": partner.partner.uid})).content.decode()
    stats = {label: number for number, label in _stats(html)}
    assert stats["active consent, 1 paused"] == "1"
    assert stats["reads this month"] == "2"
    assert stats["credits spent this month"] == "1.00"


def test_partner_console_with_no_consent_says_how_to_get_one(client, partner, partner_staff):
    client.force_login(partner_staff)
    html = client.get(reverse("broker:partner_console", kwargs={"partner_id": partner.partner.uid})).content.decode()
    stats = {label: number for number, label in _stats(html)}
    assert stats["active consents"] == "0"
    assert stats["reads this month"] == "0"
    assert "No consents yet" in html


def test_ledger_page_shows_size_last_checkpoint_and_last_anchor(client, auditor):
    for number in range(3):
        ledger_services.append(kind="test.event", actor="system", subject=f"thing:{number}", body={"n": number})
    ledger_services.sequence_pending()
    client.force_login(auditor)
    before = {label: number for number, label in _stats(client.get(reverse("ledger:index")).content.decode())}
    assert before["entries in the log"] == "3"
    assert "nothing anchored yet" in before
    checkpoint = ledger_services.sign_checkpoint()
    from ledger import anchoring

    anchoring.anchor_checkpoint(checkpoint.id)
    html = client.get(reverse("ledger:index")).content.decode()
    labels = [label for _, label in _stats(html)]
    assert any(label.startswith("since the last checkpoint (3 entries)") for label in labels)
    assert any(label.startswith("since the last anchor (checkpoint of 3 entries") for label in labels)
    assert reverse("ledger:verifications") in html  # auditors get the "verify now" button


def test_the_empty_ledger_page_says_so(client, db):
    html = client.get(reverse("ledger:index")).content.decode()
    assert "No checkpoint has been signed yet" in html
    stats = {label: number for number, label in _stats(html)}
    assert stats["entries in the log"] == "0"
    assert reverse("ledger:verifications") not in html  # visitors verify with the public API
