"""The partner data API: every rule at its boundary, logged, paid, pseudonymous."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from broker import access, selectors, services
from broker.models import AccessLogEntry, Consent
from tests.broker.conftest import ALL_SCOPES, grant
from tests.broker.vaultdata import add_moments, add_points, add_social
from vault.privacy import coarsen
from vault.services import zone_create

pytestmark = pytest.mark.django_db
BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RANGE = {"data_from": BASE - timedelta(days=1), "data_to": BASE + timedelta(days=1)}


def at(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def error_code(response) -> str:
    return response.json()["error"]["code"]


def test_moments_are_served_with_pairwise_ids(person, partner):
    moments = add_moments(person, BASE, 3, place={"name": "Home", "lat": 51.5, "lon": -0.1})
    result = grant(person, partner, **RANGE)
    body = result.get("/api/v1/data/moments").json()
    assert [item["label"] for item in body["items"]] == ["moment 0", "moment 1", "moment 2"]
    assert {item["id"] for item in body["items"]}.isdisjoint({str(m.id) for m in moments})
    assert all("lat" not in (item["place"] or {}) for item in body["items"]), "no location scope, no coordinates"
    assert body["consent"] == str(result.consent.uid)
    assert body["next_cursor"] is None


def test_the_subject_and_record_ids_differ_between_partners(person, partner, other_partner):
    add_moments(person, BASE, 2)
    first = grant(person, partner, **RANGE).get("/api/v1/data/moments").json()
    second = grant(person, other_partner, **RANGE).get("/api/v1/data/moments").json()
    assert first["subject"] != second["subject"]
    assert {item["id"] for item in first["items"]}.isdisjoint({item["id"] for item in second["items"]})
    again = grant(person, partner, **RANGE).get("/api/v1/data/moments").json()
    assert again["subject"] == first["subject"], "stable towards one partner"


def test_pages_are_bounded_and_the_cursor_walks_them_all(person, partner):
    add_moments(person, BASE, 7)
    result = grant(person, partner, **RANGE)
    labels, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = result.get("/api/v1/data/moments", **params).json()
        labels += [item["label"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert str(result.consent.uid) not in cursor
    assert pages == 3
    assert labels == [f"moment {i}" for i in range(7)]


def test_a_tampered_or_foreign_cursor_is_refused(person, partner):
    add_moments(person, BASE, 3)
    first = grant(person, partner, **RANGE)
    cursor = first.get("/api/v1/data/moments", limit=1).json()["next_cursor"]
    second = grant(person, partner, **RANGE)
    for response in (
        first.get("/api/v1/data/moments", cursor=cursor[:-2] + "xx"),
        second.get("/api/v1/data/moments", cursor=cursor),
        first.get("/api/v1/data/location", cursor=cursor),
    ):
        assert response.status_code in (400, 403)
    assert error_code(first.get("/api/v1/data/moments", cursor="nonsense")) == "InvalidCursor"


@pytest.mark.parametrize("limit", ["0", "501", "many"])
def test_page_size_is_bounded(person, partner, limit):
    result = grant(person, partner, **RANGE)
    assert result.get("/api/v1/data/moments", limit=limit).status_code == 400


def test_location_is_coarse_under_the_coarse_scope(person, partner):
    add_points(person, BASE, [(51.50123, -0.12345), (51.50456, -0.12001)])
    result = grant(person, partner, scopes=["lifelog.location:coarse"], **RANGE)
    body = result.get("/api/v1/data/location").json()
    assert body["scope"] == "lifelog.location:coarse"
    assert [(item["lat"], item["lon"]) for item in body["items"]] == [
        coarsen(51.50123, -0.12345),
        coarsen(51.50456, -0.12001),
    ]
    assert all("ele" not in item and "hr" not in item for item in body["items"])


def test_location_is_precise_under_the_precise_scope(person, partner):
    add_points(person, BASE, [(51.50123, -0.12345)])
    result = grant(person, partner, scopes=["lifelog.location:precise"], **RANGE)
    item = result.get("/api/v1/data/location").json()["items"][0]
    assert (item["lat"], item["lon"], item["ele"]) == (51.50123, -0.12345, 12.5)


def test_heart_rate_comes_without_location(person, partner):
    add_points(person, BASE, [(51.5, -0.1), (51.5, -0.1)])
    result = grant(person, partner, scopes=["lifelog.heartrate:read"], **RANGE)
    items = result.get("/api/v1/data/heartrate").json()["items"]
    assert [item["hr"] for item in items] == [80, 81]
    assert all("lat" not in item for item in items)


def test_social_interests_and_posts_are_separate_and_handles_never_leave(person, partner):
    add_social(person, BASE, "interest", 2)
    add_social(person, BASE, "post", 3)
    add_social(person, BASE, "connection", 4)
    interests = grant(person, partner, scopes=["social.interests:read"], **RANGE)
    posts = grant(person, partner, scopes=["social.posts:read"], **RANGE)
    interest_body = interests.get("/api/v1/data/social/interests")
    assert [item["kind"] for item in interest_body.json()["items"]] == ["interest", "interest"]
    assert [item["kind"] for item in posts.get("/api/v1/data/social/posts").json()["items"]] == ["post"] * 3
    assert b"@a_friend" not in interest_body.content
    assert error_code(interests.get("/api/v1/data/social/posts")) == "ScopeNotGranted"


@pytest.mark.parametrize(
    ("path", "scopes"),
    [
        ("/api/v1/data/location", ["lifelog.moments:read"]),
        ("/api/v1/data/heartrate", ["lifelog.location:precise"]),
        ("/api/v1/data/moments", ["social.posts:read"]),
        ("/api/v1/data/social/interests", ["lifelog.moments:read"]),
    ],
)
def test_a_scope_not_granted_is_refused_and_logged(person, partner, path, scopes):
    result = grant(person, partner, scopes=scopes, **RANGE)
    response = result.get(path)
    assert response.status_code == 403
    assert error_code(response) == "ScopeNotGranted"
    entry = AccessLogEntry.objects.get(consent=result.consent)
    assert (entry.outcome, entry.error_code, entry.record_count) == ("denied", "ScopeNotGranted", 0)


def test_date_range_boundaries(person, partner):
    result = grant(person, partner, **RANGE)
    start, end = RANGE["data_from"], RANGE["data_to"]
    assert result.get("/api/v1/data/moments", **{"from": at(start), "to": at(end)}).status_code == 200
    one_second = timedelta(seconds=1)
    for window in ({"from": at(start - one_second), "to": at(end)}, {"from": at(start), "to": at(end + one_second)}):
        response = result.get("/api/v1/data/moments", **window)
        assert response.status_code == 400
        assert error_code(response) == "InvalidDateRange"
    backwards = result.get("/api/v1/data/moments", **{"from": at(end), "to": at(start)})
    assert error_code(backwards) == "InvalidDateRange"
    assert error_code(result.get("/api/v1/data/moments", **{"from": "yesterday"})) == "InvalidDateRange"


def test_only_records_inside_the_requested_window_are_released(person, partner):
    add_moments(person, BASE - timedelta(days=3), 1)  # outside the consent's range
    add_moments(person, BASE, 2)
    body = grant(person, partner, **RANGE).get("/api/v1/data/moments").json()
    assert len(body["items"]) == 2


def test_frequency_limit_at_its_boundary(person, partner, monkeypatch):
    result = grant(person, partner, frequency_value=3, frequency_unit="HOUR", **RANGE)
    clock = [timezone.now()]
    monkeypatch.setattr(access, "clock", lambda: clock[0])
    first_call = clock[0]
    for minute in range(3):
        clock[0] = first_call + timedelta(minutes=minute)
        assert result.get("/api/v1/data/moments").status_code == 200
    clock[0] = first_call + timedelta(minutes=30)
    refused = result.get("/api/v1/data/moments")
    assert refused.status_code == 429
    assert error_code(refused) == "FrequencyExceeded"
    assert int(refused["Retry-After"]) == 30 * 60
    clock[0] = first_call + timedelta(hours=1) - timedelta(microseconds=1)
    assert result.get("/api/v1/data/moments").status_code == 429
    clock[0] = first_call + timedelta(hours=1)
    assert result.get("/api/v1/data/moments").status_code == 200
    counts = AccessLogEntry.objects.filter(consent=result.consent).values_list("outcome", flat=True)
    assert sorted(counts) == ["allowed"] * 4 + ["denied"] * 2


def test_expiry_is_enforced_at_the_call(person, partner, monkeypatch):
    result = grant(person, partner, **RANGE)
    expiry = result.consent.expires_at
    monkeypatch.setattr(access, "clock", lambda: expiry - timedelta(microseconds=1))
    assert result.get("/api/v1/data/moments").status_code == 200
    monkeypatch.setattr(access, "clock", lambda: expiry)
    response = result.get("/api/v1/data/moments")
    assert response.status_code == 403
    assert error_code(response) == "ConsentExpired"


def test_a_consent_not_yet_valid_is_refused(person, partner, monkeypatch):
    result = grant(person, partner, **RANGE)
    monkeypatch.setattr(access, "clock", lambda: result.consent.valid_from - timedelta(seconds=1))
    assert error_code(result.get("/api/v1/data/moments")) == "InvalidConsentStatus"


def test_pause_refuses_the_very_next_call_and_resume_restores_it(person, partner):
    add_moments(person, BASE, 1)
    result = grant(person, partner, **RANGE)
    assert result.get("/api/v1/data/moments").status_code == 200
    services.consent_pause(consent=result.consent, person=person)
    paused = result.get("/api/v1/data/moments")
    assert paused.status_code == 403
    assert error_code(paused) == "ConsentPaused"
    assert b"moment 0" not in paused.content
    services.consent_resume(consent=result.consent, person=person)
    assert result.get("/api/v1/data/moments").status_code == 200


def test_revoke_refuses_the_very_next_call(person, partner):
    result = grant(person, partner, **RANGE)
    services.consent_revoke(consent=result.consent, person=person)
    response = result.get("/api/v1/data/moments")
    assert response.status_code == 401  # the token itself is gone
    assert "error" in response.json()


def test_a_priced_read_pays_the_person_on_the_ledger(person, partner, ledger_entries):
    add_moments(person, BASE, 2)
    result = grant(person, partner, price_amount=Decimal("0.25"), price_basis="per_access", **RANGE)
    result.get("/api/v1/data/moments")
    result.get("/api/v1/data/moments")
    transfers = [entry for entry in ledger_entries if entry["kind"] == "value.transferred"]
    assert len(transfers) == 2
    body = transfers[0]["body"]
    assert body["from"] == f"partner:{partner.partner.uid}"
    assert body["to"].startswith("person:")
    assert body["amount"] == "0.25"
    assert body["currency"] == "credits"
    assert body["consent"] == str(result.consent.uid)
    assert selectors.earnings_of_person(person=person) == Decimal("0.50")
    assert selectors.spend_of_partner(partner=partner.partner) == Decimal("0.50")


def test_the_ledger_balance_agrees_with_the_access_log(person, partner):
    from ledger.selectors import balance_of
    from vault.selectors import ledger_pseudonym

    result = grant(person, partner, price_amount=Decimal("1.50"), price_basis="per_access", **RANGE)
    for _ in range(3):
        assert result.get("/api/v1/data/moments").status_code == 200
    assert balance_of(f"person:{ledger_pseudonym(person)}") == Decimal("4.50")
    assert balance_of(f"partner:{partner.partner.uid}") == Decimal("-4.50")


def test_a_monthly_price_is_paid_once_per_calendar_month(person, partner, ledger_entries, monkeypatch):
    result = grant(person, partner, price_amount=Decimal("3.00"), price_basis="per_month", **RANGE)
    now = timezone.now()
    month_end = (now.replace(day=28) + timedelta(days=4)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    monkeypatch.setattr(access, "clock", lambda: now)
    result.get("/api/v1/data/moments")
    result.get("/api/v1/data/moments")
    if month_end < result.consent.expires_at:
        monkeypatch.setattr(access, "clock", lambda: month_end)
        result.get("/api/v1/data/moments")
    expected = 2 if month_end < result.consent.expires_at else 1
    assert len([e for e in ledger_entries if e["kind"] == "value.transferred"]) == expected


def test_an_unpriced_read_moves_no_value(person, partner, ledger_entries):
    result = grant(person, partner, price_amount=Decimal("0"), price_basis="none", **RANGE)
    result.get("/api/v1/data/moments")
    assert not [entry for entry in ledger_entries if entry["kind"] == "value.transferred"]


def test_the_access_log_holds_no_personal_data(person, partner):
    add_moments(person, BASE, 2, place={"name": "Secret Garden", "lat": 1.0, "lon": 2.0})
    result = grant(person, partner, **RANGE)
    result.get("/api/v1/data/moments")
    entry = selectors.access_log_of_person(person=person).get()
    assert (entry.outcome, entry.record_count, entry.scope) == ("allowed", 2, "lifelog.moments:read")
    assert entry.purpose_code == result.consent.purpose_code
    stored = str(AccessLogEntry.objects.filter(pk=entry.pk).values().get())
    assert "Secret Garden" not in stored
    assert person.username not in stored


def test_no_token_or_a_bad_token_is_401_json(person, partner):
    from django.test import Client

    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer not-a-token"}):
        response = Client().get("/api/v1/data/moments", **headers)
        assert response.status_code == 401
        assert "code" in response.json()["error"]


def test_consent_list_shows_last_access_and_earnings(person, partner):
    result = grant(person, partner, price_amount=Decimal("0.10"), price_basis="per_access", **RANGE)
    result.get("/api/v1/data/moments")
    row = selectors.consents_of_person(person=person).get()
    assert row.access_count == 1
    assert row.earned == Decimal("0.10")
    assert row.last_access_at is not None
    partner_rows = selectors.consents_of_partner(partner=partner.partner)
    assert partner_rows[0].subject == result.get("/api/v1/data/moments").json()["subject"]
    assert partner_rows[0].state == Consent.State.ACTIVE


def test_all_scopes_open_all_endpoints(person, partner):
    result = grant(person, partner, scopes=ALL_SCOPES, **RANGE)
    for path in (
        "/api/v1/data/moments",
        "/api/v1/data/location",
        "/api/v1/data/heartrate",
        "/api/v1/data/social/interests",
        "/api/v1/data/social/posts",
    ):
        assert result.get(path).status_code == 200, path


def test_privacy_zone_points_are_withheld(person, partner):
    zone_create(person=person, label="home", lat=51.5, lon=-0.1, radius_m=300)
    add_points(person, BASE, [(51.5, -0.1), (51.6, -0.2)])
    result = grant(person, partner, scopes=["lifelog.location:precise"], **RANGE)
    items = result.get("/api/v1/data/location").json()["items"]
    assert [(item["lat"], item["lon"]) for item in items] == [(51.6, -0.2)]


def test_after_erasure_the_partner_is_refused_cleanly(person, partner):
    from accounts.services import erase_account

    result = grant(person, partner, **RANGE)
    erase_account(person)
    response = result.get("/api/v1/data/moments")
    assert response.status_code in (401, 403)
    assert "error" in response.json()
    rows = selectors.consents_of_partner(partner=partner.partner)
    assert rows[0].subject is None


@pytest.mark.parametrize("margin", [0, 64])
def test_frequency_is_exact_with_and_without_the_row_lock(person, partner, settings, margin):
    settings.BROKER = {**settings.BROKER, "FREQUENCY_LOCK_MARGIN": margin}
    result = grant(person, partner, frequency_value=4, frequency_unit="DAY", **RANGE)
    statuses = [result.get("/api/v1/data/moments").status_code for _ in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_reads_take_the_lock_only_near_the_limit(person, partner, settings):
    settings.BROKER = {**settings.BROKER, "FREQUENCY_LOCK_MARGIN": 2}
    result = grant(person, partner, frequency_value=5, frequency_unit="DAY", **RANGE)
    now = timezone.now()
    needs = []
    for _ in range(4):
        needs.append(access._needs_lock(result.consent, now))
        assert result.get("/api/v1/data/moments").status_code == 200
    assert needs == [False, False, False, True]  # from the 3rd recorded read on: within 2 of 5
    monthly = grant(person, partner, price_amount=Decimal("1"), price_basis="per_month", **RANGE)
    assert access._needs_lock(monthly.consent, now) is True
