"""The partner read path's database work: bounded, independent of the page size, one
key-store read per call, and the late re-check still refusing what changed meanwhile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from broker import access, services
from broker.errors import ConsentPaused, FrequencyExceeded
from broker.models import AccessLogEntry
from tests.broker.conftest import grant
from tests.broker.vaultdata import add_moments

BASE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
RANGE = {"data_from": BASE - timedelta(days=1), "data_to": BASE + timedelta(days=1)}
pytestmark = pytest.mark.django_db
PRICED = {"price_amount": Decimal("0.10"), "price_basis": "per_access"}


def _count_queries(result, limit: int) -> tuple[int, int, int]:
    """(default-database queries, key-store queries, items) of one moments page."""
    with (
        CaptureQueriesContext(connections["default"]) as default,
        CaptureQueriesContext(connections["keys"]) as keys,
    ):
        response = result.get("/api/v1/data/moments", limit=limit)
    assert response.status_code == 200, response.content
    return len(default.captured_queries), len(keys.captured_queries), len(response.json()["items"])


def test_a_page_costs_the_same_queries_whatever_its_size(person, partner):
    add_moments(person, BASE, 30, place={"name": "Café", "lat": 48.85, "lon": 2.35})
    result = grant(person, partner, **RANGE, **PRICED)
    result.get("/api/v1/data/moments")  # warm-up: first-time lookups (content types etc.)
    small = _count_queries(result, 2)
    large = _count_queries(result, 25)
    assert (small[2], large[2]) == (2, 25)
    assert small[:2] == large[:2], "no per-record queries (N+1)"
    assert large[1] == 1, "one key-store read per call opens records, pairwise ids and the ledger id"


def test_the_late_recheck_refuses_a_consent_paused_during_the_read(person, partner):
    add_moments(person, BASE, 1)
    result = grant(person, partner, **RANGE, **PRICED)
    consent = result.consent
    services.consent_pause(consent=consent, person=person)
    consent.state = consent.State.ACTIVE  # what the pre-read check saw
    before = AccessLogEntry.objects.count()
    # The earlier check passed on the stale consent; the write must see the pause.
    with pytest.raises(ConsentPaused):
        access.record_allowed(consent=consent, scope="lifelog.moments:read", record_count=1)
    assert AccessLogEntry.objects.count() == before


def test_far_from_the_limit_the_recheck_still_counts_reads(person, partner, settings):
    """Without the lock, the margin query is the frequency re-check: a read that comes
    within the margin takes the locked, exact path and is refused at the limit."""
    settings.BROKER = {**settings.BROKER, "FREQUENCY_LOCK_MARGIN": 1}
    add_moments(person, BASE, 1)
    result = grant(person, partner, frequency_value=3, frequency_unit="DAY", **RANGE)
    statuses = [result.get("/api/v1/data/moments").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    # A stale view of the consent (the pre-read check) cannot push a 4th read through.
    stale = result.consent
    with pytest.raises(FrequencyExceeded):
        access.record_allowed(consent=stale, scope="lifelog.moments:read", record_count=1)
