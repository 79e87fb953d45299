"""Writes of the insights app: building the timeline, her choices (hide, correct), and
the record of what a partner received.

Other apps tell this one about new data with ``interests_changed(person, since)`` inside
their transaction: the update is queued only once that transaction commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from insights import building
from insights.errors import UnknownTopic
from insights.models import InsightDisclosure, InterestProfile, TimelinePoint, WeeklyEvidence
from insights.taxonomy import get_taxonomy
from vault.keys import PersonKeys, keys_for

CORRECTIONS = {"stronger": 1.5, "weaker": 0.5}
EMPTY_PREFERENCES: dict[str, Any] = {"hidden": [], "corrections": {}}


def interests_changed(person, since: datetime | None = None) -> None:
    """Queue an incremental update once the caller's transaction commits.

    Call it where new records are stored (vault import, club contributions) with the
    earliest ``occurred_at``/``recorded_at`` among them; None (not known) rebuilds.
    """
    from insights.tasks import update_interests

    person_id, since_text = person.pk, since.isoformat() if since else None
    transaction.on_commit(lambda: update_interests.delay(person_id, since_text))


def _locked_profile(person, keys: PersonKeys) -> InterestProfile:
    """Her profile row, created if missing, locked: one build per person at a time."""
    profile = InterestProfile.objects.select_for_update().filter(owner=person).first()
    if profile is None:
        try:
            with transaction.atomic():
                InterestProfile.sealed_for(keys, EMPTY_PREFERENCES, owner=person).save(force_insert=True)
        except IntegrityError:  # created concurrently: use that one
            pass
        profile = InterestProfile.objects.select_for_update().get(owner=person)
    return profile


def update_interests(*, person, since: datetime | None) -> building.BuildResult:
    """Recompute her timeline from ``since`` (everything when None).

    All under her profile's row lock: two updates for one person never interleave, so
    none can keep evidence another is replacing.
    """
    keys = keys_for(person)
    plan = building.plan_for(since)
    with transaction.atomic():
        profile = _locked_profile(person, keys)
        evidence_rows = WeeklyEvidence.objects.filter(owner=person)
        point_rows = TimelinePoint.objects.filter(owner=person)
        if plan.base is None:
            kept = building.Stored([], [], [])
            start_state = None
        else:
            kept = building.stored_before(person, keys, plan)
            start_state = building.state_at(person, keys, plan.base)
            evidence_rows = evidence_rows.filter(week__gte=plan.base)
            point_rows = point_rows.filter(at__gt=plan.base)
        derived = building.derive_evidence(person, plan.recompute_from, kept.lookback)
        evidence_rows.delete()
        point_rows.delete()
        evidence = [*kept.evidence, *derived.evidence]
        points = building.build_points(start_state, evidence)
        history = [*kept.history, *derived.history]
        WeeklyEvidence.objects.bulk_create(building.evidence_rows(person, keys, evidence, history))
        TimelinePoint.objects.bulk_create(building.point_rows(person, keys, points), batch_size=500)
        now = timezone.now()
        profile.updated_at = now
        fields = ["updated_at"]
        if since is None:
            profile.rebuilt_at = now
            fields.append("rebuilt_at")
        profile.save(update_fields=fields)
    return building.BuildResult(derived.records_read, len(derived.evidence), len(points))


def rebuild_interests(*, person) -> building.BuildResult:
    return update_interests(person=person, since=None)


# --- her choices ----------------------------------------------------------------------


def _change_preferences(person, topic_id: str, change) -> dict[str, Any]:
    if topic_id not in get_taxonomy().topics:
        raise UnknownTopic()
    keys = keys_for(person)
    with transaction.atomic():
        profile = _locked_profile(person, keys)
        preferences = profile.open(keys)
        change(preferences)
        preferences["hidden"] = sorted(set(preferences["hidden"]))
        profile.sealed = keys.seal(InterestProfile.RECORD_TYPE, profile.id, preferences)
        profile.save(update_fields=["sealed"])
    return preferences


def hide_interest(*, person, topic_id: str) -> dict[str, Any]:
    """Never show this interest to any partner again (until she shows it)."""
    return _change_preferences(person, topic_id, lambda prefs: prefs["hidden"].append(topic_id))


def show_interest(*, person, topic_id: str) -> dict[str, Any]:
    def unhide(preferences: dict[str, Any]) -> None:
        preferences["hidden"] = [topic for topic in preferences["hidden"] if topic != topic_id]

    return _change_preferences(person, topic_id, unhide)


def correct_interest(*, person, topic_id: str, correction: str) -> dict[str, Any]:
    """She says an interest is stronger or weaker than computed ("as_computed" undoes it)."""
    if correction not in (*CORRECTIONS, "as_computed"):
        raise UnknownTopic("Unknown correction: use stronger, weaker or as_computed.")

    def apply(preferences: dict[str, Any]) -> None:
        preferences["corrections"].pop(topic_id, None)
        if correction in CORRECTIONS:
            preferences["corrections"][topic_id] = correction

    return _change_preferences(person, topic_id, apply)


# --- disclosures ----------------------------------------------------------------------


def record_disclosure(
    *, person, partner_uid, interests: list[dict[str, Any]], access_log_uid=None, at: datetime | None = None
) -> InsightDisclosure:
    """Remember which interests a partner received (shown to her in the portal)."""
    keys = keys_for(person)
    payload = {"interests": [{key: item[key] for key in ("topic", "weight", "trend")} for item in interests]}
    disclosure = InsightDisclosure.sealed_for(
        keys, payload, owner=person, partner_uid=partner_uid, access_log_uid=access_log_uid, at=at or timezone.now()
    )
    disclosure.save(force_insert=True)
    return disclosure


def forget_interests(person) -> None:
    """Delete everything this app holds about her (erasure; the seal is already broken
    once her vault key is shredded, this removes the ciphertext too)."""
    with transaction.atomic():
        for model in (InsightDisclosure, WeeklyEvidence, TimelinePoint, InterestProfile):
            model.objects.filter(owner=person).delete()
