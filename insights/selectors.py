"""Reads of the insights app. Everything here is for the person herself except
``shareable_interests``, the only view a partner ever gets: current top interests with
trend and weight, never the evidence, never an interest she has hidden.

"Current" is the weight at the end of the present week (``week_ceil(now)``): weights
are defined at week boundaries, so a figure does not change within a week except when
new data arrives.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from insights.models import InsightDisclosure, InterestProfile, TimelinePoint, WeeklyEvidence
from insights.scoring import WEEK, decay, week_ceil, week_floor, weight_at
from insights.services import CORRECTIONS
from insights.taxonomy import get_taxonomy
from vault.keys import keys_for

TREND_WEEKS = 4
# The trend when a consent's data range starts inside the trend window: before it the
# partner may see nothing, so there is no earlier weight to compare with.
TREND_UNKNOWN = "unknown"
# A change of less than this fraction (of the larger weight, at least 0.1) is "steady".
TREND_THRESHOLD = 0.10
# Interests weaker than this are noise, not something to tell a partner about.
MIN_SHARED_WEIGHT = 0.05
MAX_LIMIT = 50

Points = list[tuple[datetime, dict[str, float]]]


def preferences_of(person) -> dict[str, Any]:
    profile = InterestProfile.objects.filter(owner=person).first()
    if profile is None:
        return {"hidden": [], "corrections": {}}
    return profile.open(keys_for(person))


def timeline_of(person) -> Points:
    """Every weekly point, oldest first: ``[(monday, {topic: weight})]``."""
    keys = keys_for(person)
    return [(row.at, row.open(keys)) for row in TimelinePoint.objects.filter(owner=person).order_by("at")]


def trend_of(now_weight: float, past_weight: float) -> str:
    scale = max(abs(now_weight), abs(past_weight), 0.1)
    change = (now_weight - past_weight) / scale
    if change > TREND_THRESHOLD:
        return "up"
    if change < -TREND_THRESHOLD:
        return "down"
    return "steady"


def _window_weights(points: Points, at: datetime, since: datetime | None) -> dict[str, float]:
    """Weights at ``at`` from evidence at or after ``since`` only.

    Weights are linear in the evidence, so what came before ``since`` is subtracted
    exactly: W(at) - W(since) * decay(at - since).
    """
    weights = weight_at(points, at)
    if since is None:
        return weights
    if since >= at:
        return {}
    before = weight_at(points, since)
    factor = decay(at - since)
    return {topic: weight - before.get(topic, 0.0) * factor for topic, weight in weights.items()}


def as_of(*, now: datetime, data_to: datetime | None = None) -> datetime:
    """The week boundary "current" weights are taken at: the end of this week, or the
    last boundary inside a consent's data range."""
    at = week_ceil(now)
    return min(at, week_floor(data_to)) if data_to is not None else at


def interests_of(
    person,
    *,
    now: datetime | None = None,
    data_from: datetime | None = None,
    data_to: datetime | None = None,
    points: Points | None = None,
) -> list[dict[str, Any]]:
    """All her interests with a positive weight, strongest first, hidden ones included
    and marked, corrections applied (``computed_weight`` is the figure before them).

    With ``data_from``/``data_to`` only evidence inside that range counts (to whole
    weeks, rounding inwards): what a consent's data range allows. When the range starts
    within the ``TREND_WEEKS`` before ``at``, the trend is ``TREND_UNKNOWN``.
    """
    now = now or timezone.now()
    points = timeline_of(person) if points is None else points
    preferences = preferences_of(person)
    at = as_of(now=now, data_to=data_to)
    since = week_ceil(data_from) if data_from is not None and points and data_from > points[0][0] else None
    current = _window_weights(points, at, since)
    trend_from = at - TREND_WEEKS * WEEK
    # Compared with nothing, every interest would read "up", whatever it did.
    trend_known = since is None or since < trend_from
    past = _window_weights(points, trend_from, since) if trend_known else {}
    taxonomy = get_taxonomy()
    result = []
    for topic_id, computed in current.items():
        correction = preferences["corrections"].get(topic_id)
        factor = CORRECTIONS.get(correction, 1.0)
        weight = computed * factor
        if weight <= 0:
            continue
        result.append(
            {
                "topic": topic_id,
                "name": taxonomy.name_of(topic_id),
                "category": taxonomy.topics[topic_id].category if topic_id in taxonomy.topics else "",
                "weight": round(weight, 3),
                "computed_weight": round(computed, 3),
                "trend": trend_of(computed, past.get(topic_id, 0.0)) if trend_known else TREND_UNKNOWN,
                "hidden": topic_id in preferences["hidden"],
                "correction": correction or "",
            }
        )
    result.sort(key=lambda item: (-item["weight"], item["topic"]))
    return result


def shareable_interests(
    person,
    *,
    limit: int = 10,
    now: datetime | None = None,
    data_from: datetime | None = None,
    data_to: datetime | None = None,
) -> list[dict[str, Any]]:
    """Her current top interests for a partner: topic, name, category, weight, trend.

    Never hidden ones, never evidence, never an interest below ``MIN_SHARED_WEIGHT``.
    """
    limit = max(0, min(limit, MAX_LIMIT))
    shown = []
    for item in interests_of(person, now=now, data_from=data_from, data_to=data_to):
        if item["hidden"] or item["weight"] < MIN_SHARED_WEIGHT:
            continue
        shown.append({key: item[key] for key in ("topic", "name", "category", "weight", "trend")})
    return shown[:limit]


def evidence_for(person, topic_id: str, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Exactly the records that contributed to one interest, strongest contribution now
    first: record type and id, when, the contribution then and now, and why."""
    keys = keys_for(person)
    at = week_ceil(now or timezone.now())
    found = []
    for row in WeeklyEvidence.objects.filter(owner=person).order_by("week"):
        for payload in row.open(keys)["evidence"]:
            contribution = payload["contributions"].get(topic_id)
            if contribution is not None:
                found.append(_explained(payload, topic_id, contribution, at))
    found.sort(key=lambda item: (-abs(item["contribution_now"]), item["occurred_at"], item["record_id"]))
    return found


def _explained(payload: dict[str, Any], topic_id: str, contribution: float, at: datetime) -> dict[str, Any]:
    reasons = payload["reasons"]
    occurred_at = datetime.fromisoformat(payload["occurred_at"])
    return {
        "record_type": payload["record_type"],
        "record_id": payload["record_id"],
        "occurred_at": occurred_at,
        "contribution": contribution,
        "contribution_now": round(contribution * decay(at - occurred_at), 4),
        "keywords": reasons.get("keywords", {}).get(topic_id, []),
        "fits_place": topic_id in reasons.get("place_fit", []),
        "reasons": {key: value for key, value in reasons.items() if key not in ("keywords", "place_fit")},
    }


def disclosures_of(person, *, limit: int = 200) -> list[dict[str, Any]]:
    """Which partner received which of her interests, when (newest first)."""
    from broker.selectors import consents_of_person

    names = {consent.partner.uid: consent.partner.name for consent in consents_of_person(person=person)}
    keys = keys_for(person)
    taxonomy = get_taxonomy()
    result = []
    for row in InsightDisclosure.objects.filter(owner=person).order_by("-at", "id")[:limit]:
        payload = row.open(keys)
        result.append(
            {
                "at": row.at,
                "partner": names.get(row.partner_uid, "a partner"),
                "interests": [{**item, "name": taxonomy.name_of(item["topic"])} for item in payload["interests"]],
            }
        )
    return result
