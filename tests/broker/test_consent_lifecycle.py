"""Consent states, their ledger entries, timeline and webhooks; the person's own API."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from broker import selectors, services, webhooks
from broker.errors import ConsentNotFound, ConsentTermsImmutable, InvalidConsentRequest, InvalidConsentStatus
from broker.models import Consent, WebhookDelivery
from tests.broker.conftest import grant, request_consent

pytestmark = pytest.mark.django_db
State = Consent.State


def test_pause_resume_revoke_are_recorded_in_order(person, partner, ledger_entries, webhook_sender):
    consent = grant(person, partner).consent
    services.consent_pause(consent=consent, person=person)
    services.consent_resume(consent=consent, person=person)
    services.consent_revoke(consent=consent, person=person)
    kinds = [entry["kind"] for entry in ledger_entries]
    assert kinds == ["consent.granted", "consent.paused", "consent.resumed", "consent.revoked"]
    states = [entry["body"]["state"] for entry in ledger_entries]
    assert states == ["active", "paused", "active", "revoked"]
    for entry in ledger_entries:
        assert entry["subject"].startswith("person:")
        assert person.username not in json.dumps(entry, default=str)
        assert entry["body"]["partner"] == str(partner.partner.uid)
    detail = selectors.consent_detail(person=person, consent_id=consent.uid)
    assert [event.state for event in detail.timeline] == ["requested", "active", "paused", "active", "revoked"]
    assert detail.receipt_entry_id == str(ledger_entries[0]["id"])
    assert webhooks.sweep() == 4
    sent_types = [json.loads(message["body"])["type"] for message in webhook_sender.sent]
    assert sent_types == ["consent.granted", "consent.paused", "consent.resumed", "consent.revoked"]


@pytest.mark.parametrize(
    ("steps", "action"),
    [
        ([], "resume"),
        (["pause"], "pause"),
        (["revoke"], "pause"),
        (["revoke"], "resume"),
        (["revoke"], "revoke"),
    ],
)
def test_impossible_transitions_are_refused_and_change_nothing(person, partner, ledger_entries, steps, action):
    consent = grant(person, partner).consent
    actions = {"pause": services.consent_pause, "resume": services.consent_resume, "revoke": services.consent_revoke}
    for step in steps:
        actions[step](consent=consent, person=person)
    before = (Consent.objects.get(pk=consent.pk).state, len(ledger_entries), WebhookDelivery.objects.count())
    with pytest.raises(InvalidConsentStatus):
        actions[action](consent=consent, person=person)
    after = (Consent.objects.get(pk=consent.pk).state, len(ledger_entries), WebhookDelivery.objects.count())
    assert before == after


def test_nobody_else_can_change_a_persons_consent(person, other_person, partner):
    consent = grant(person, partner).consent
    with pytest.raises(ConsentNotFound):
        services.consent_revoke(consent=consent, person=other_person)
    assert Consent.objects.get(pk=consent.pk).state == State.ACTIVE


def test_agreed_terms_never_change(person, partner):
    consent = grant(person, partner).consent
    consent.scopes = ["lifelog.moments:read", "social.posts:read"]
    with pytest.raises(ConsentTermsImmutable):
        consent.save()
    consent.refresh_from_db()
    consent.price_amount = 0
    with pytest.raises(ConsentTermsImmutable):
        consent.save(update_fields=["price_amount"])
    assert Consent.objects.get(pk=consent.pk).price_amount > 0


def test_a_request_with_unknown_purpose_or_scope_is_refused(partner):
    from broker.errors import InvalidConsentPurpose

    with pytest.raises(InvalidConsentPurpose):
        request_consent(partner, purpose_code="Surveillance")
    with pytest.raises(InvalidConsentRequest):
        request_consent(partner, scopes=["vault.everything"])
    assert not Consent.objects.exists()


def test_expiry_task_expires_due_consents_once(person, partner, ledger_entries):
    due = grant(person, partner).consent
    later = grant(person, partner).consent
    Consent.objects.filter(pk=due.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.expire_due_consents() == 1
    assert services.expire_due_consents() == 0
    assert Consent.objects.get(pk=due.pk).state == State.EXPIRED
    assert Consent.objects.get(pk=later.pk).state == State.ACTIVE
    expired = [entry for entry in ledger_entries if entry["kind"] == "consent.expired"]
    assert len(expired) == 1
    assert expired[0]["actor"] == "eidetic"


def test_the_periodic_expiry_task_runs_the_service(person, partner):
    from broker.tasks import expire_consents

    consent = grant(person, partner).consent
    Consent.objects.filter(pk=consent.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert expire_consents.delay().get() == 1
    assert Consent.objects.get(pk=consent.pk).state == State.EXPIRED


def test_expiry_is_exact_at_the_boundary(person, partner):
    consent = grant(person, partner).consent
    at = consent.expires_at
    assert services.expire_due_consents(now=at - timedelta(microseconds=1)) == 0
    assert services.expire_due_consents(now=at) == 1


def test_pausing_an_expired_consent_expires_it_and_says_so(person, partner):
    consent = grant(person, partner).consent
    Consent.objects.filter(pk=consent.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(InvalidConsentStatus):
        services.consent_pause(consent=consent, person=person)
    assert Consent.objects.get(pk=consent.pk).state == State.EXPIRED


# --- the person's own API -------------------------------------------------------------


def session(person, *, csrf: bool = False) -> Client:
    browser = Client(enforce_csrf_checks=csrf)
    browser.force_login(person)
    return browser


def test_person_pauses_via_the_api(person, partner):
    consent = grant(person, partner).consent
    response = session(person).post(f"/api/v1/me/consents/{consent.uid}/pause")
    assert response.status_code == 200
    assert response.json()["state"] == "paused"
    listing = session(person).get("/api/v1/me/consents").json()
    assert [row["id"] for row in listing] == [str(consent.uid)]


def test_the_person_api_enforces_csrf(person, partner):
    consent = grant(person, partner).consent
    response = session(person, csrf=True).post(f"/api/v1/me/consents/{consent.uid}/revoke")
    assert response.status_code == 403
    assert Consent.objects.get(pk=consent.pk).state == State.ACTIVE


def test_the_person_api_does_not_accept_partner_tokens(person, partner):
    result = grant(person, partner)
    response = Client().post(
        f"/api/v1/me/consents/{result.consent.uid}/revoke", HTTP_AUTHORIZATION=f"Bearer {result.access_token}"
    )
    assert response.status_code in (401, 403)
    assert Consent.objects.get(pk=result.consent.pk).state == State.ACTIVE


def test_another_persons_consent_is_a_404(person, other_person, partner):
    consent = grant(person, partner).consent
    response = session(other_person).post(f"/api/v1/me/consents/{consent.uid}/revoke")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "ConsentNotFound"


def test_an_impossible_change_is_a_409_with_a_code(person, partner):
    consent = grant(person, partner).consent
    response = session(person).post(f"/api/v1/me/consents/{consent.uid}/resume")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "InvalidConsentStatus"


def test_idempotency_key_replays_the_first_answer(person, partner, ledger_entries):
    consent = grant(person, partner).consent
    browser = session(person)
    first = browser.post(f"/api/v1/me/consents/{consent.uid}/pause", HTTP_IDEMPOTENCY_KEY="k-1")
    again = browser.post(f"/api/v1/me/consents/{consent.uid}/pause", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert [entry["kind"] for entry in ledger_entries].count("consent.paused") == 1


def test_idempotency_key_reused_for_another_request_is_refused(person, partner):
    consent = grant(person, partner).consent
    browser = session(person)
    assert browser.post(f"/api/v1/me/consents/{consent.uid}/pause", HTTP_IDEMPOTENCY_KEY="k-2").status_code == 200
    conflict = browser.post(f"/api/v1/me/consents/{consent.uid}/revoke", HTTP_IDEMPOTENCY_KEY="k-2")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "IdempotencyError"
    assert Consent.objects.get(pk=consent.pk).state == State.PAUSED


def test_an_unanswered_request_lapses_after_its_ttl(person, partner, settings):
    settings.BROKER = {**settings.BROKER, "REQUEST_TTL_DAYS": 14}
    consent = request_consent(partner)
    assert consent.request_lapses_at == consent.created_at + timedelta(days=14)
    just_before = consent.created_at + timedelta(days=14) - timedelta(seconds=1)
    late = request_consent(partner)
    with pytest.raises(InvalidConsentStatus, match="lapsed"):
        services.consent_grant(consent=late, person=person, now=late.created_at + timedelta(days=14))
    assert Consent.objects.get(pk=late.pk).state == State.REQUESTED
    granted = services.consent_grant(consent=consent, person=person, now=just_before)
    assert granted.state == State.ACTIVE


def test_a_request_lapses_at_its_expiry_when_that_comes_first(person, partner):
    consent = request_consent(partner, expires_at=timezone.now() + timedelta(days=2))
    assert consent.request_lapses_at == consent.expires_at
    with pytest.raises(InvalidConsentStatus):
        services.consent_grant(consent=consent, person=person, now=consent.expires_at)


def test_idempotency_records_expire_and_are_pruned(person, partner, settings):
    from broker.api.idempotency import prune_expired
    from broker.models import IdempotencyRecord

    settings.BROKER = {**settings.BROKER, "IDEMPOTENCY_TTL_HOURS": 24}
    consent = grant(person, partner).consent
    browser = session(person)
    assert browser.post(f"/api/v1/me/consents/{consent.uid}/pause", HTTP_IDEMPOTENCY_KEY="k-3").status_code == 200
    record = IdempotencyRecord.objects.get(key="k-3")
    assert prune_expired(now=record.created_at + timedelta(hours=23)) == 0
    # Past the TTL the key is free again: the same key now runs the new request.
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=record.created_at - timedelta(hours=25))
    resumed = browser.post(f"/api/v1/me/consents/{consent.uid}/resume", HTTP_IDEMPOTENCY_KEY="k-3")
    assert resumed.status_code == 200
    assert "Idempotent-Replayed" not in resumed
    assert Consent.objects.get(pk=consent.pk).state == State.ACTIVE
    IdempotencyRecord.objects.filter(key="k-3").update(created_at=timezone.now() - timedelta(hours=30))
    assert prune_expired() == 1
    assert not IdempotencyRecord.objects.filter(key="k-3").exists()


def test_the_periodic_prune_runs_from_beat(person, partner):
    from django.conf import settings as django_settings

    from broker import tasks
    from broker.models import IdempotencyRecord

    consent = grant(person, partner).consent
    paused = session(person).post(f"/api/v1/me/consents/{consent.uid}/pause", HTTP_IDEMPOTENCY_KEY="k-4")
    assert paused.status_code == 200
    IdempotencyRecord.objects.filter(key="k-4").update(created_at=timezone.now() - timedelta(days=2))
    schedule = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "broker.tasks.prune_idempotency_records" in schedule
    assert tasks.prune_idempotency_records.apply().result == 1
    assert not IdempotencyRecord.objects.filter(key="k-4").exists()
