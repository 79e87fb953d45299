"""Deterministic, explainable interest scoring. Pure functions: no database, no clock.

A record (moment or social item) that mentions topics becomes one piece of ``Evidence``:
a signed contribution per topic and the reasons behind each factor. A topic's weight at
time T is the sum of its contributions, each decayed by its age at T with one half-life::

    weight(T) = sum(c_e * 0.5 ** ((T - t_e) / HALF_LIFE))

Because every term decays at the same rate, without new evidence the weight at T + d is
exactly weight(T) * 0.5 ** (d / HALF_LIFE): its size shrinks monotonically. The timeline
stores the weights at each week boundary (Monday 00:00 UTC), computed week after week
in a fixed order, so the same data always gives the same floats, whether built in one
pass or updated day by day.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from insights.taxonomy import Taxonomy, fold_text

HALF_LIFE = timedelta(days=45)
WEEK = timedelta(days=7)
DECAY_PER_WEEK = 0.5 ** (WEEK / HALF_LIFE)
# How far back a moment looks for her heart-rate baseline and earlier visits to a place.
LOOKBACK = timedelta(days=56)
MIN_BASELINE_SAMPLES = 3
# Dwell: her own trackpoints within this radius of a moment's place, this long either side.
DWELL_WINDOW = timedelta(minutes=15)
DWELL_RADIUS_M = 150.0
# Weights smaller than this are dropped from the stored state (they round to nothing).
NEGLIGIBLE = 1e-6

SENTIMENT_FACTORS = {"loves": 2.0, "likes": 1.0, "neutral": 0.5, "dislikes": -0.5, "loathes": -1.0}
SOCIAL_KIND_FACTORS = {"interest": 1.5, "post": 1.0, "like": 0.75, "connection": 0.25}
# A club member's observation: a purchase says more than a product looked at; a life
# event ("moved house") hints at needs more than at tastes.
OBSERVATION_KIND_FACTORS = {"purchase": 1.5, "product_interest": 1.0, "life_event": 0.75}
PLACE_FIT_FACTOR = 1.3
FREE_TIME_FACTOR = 1.25
WORKING_HOURS_FACTOR = 0.8


@dataclass(frozen=True)
class Evidence:
    """What one record says about topics. ``reasons`` explains every factor applied."""

    record_type: str
    record_id: str
    occurred_at: datetime
    contributions: dict[str, float]
    reasons: dict[str, Any] = field(default_factory=dict)

    @property
    def sort_key(self) -> tuple[datetime, str, str]:
        return (self.occurred_at, self.record_type, self.record_id)

    def to_payload(self) -> dict[str, Any]:
        return {
            "record_type": self.record_type,
            "record_id": self.record_id,
            "occurred_at": self.occurred_at.isoformat(),
            "contributions": self.contributions,
            "reasons": self.reasons,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Evidence:
        return cls(
            record_type=payload["record_type"],
            record_id=payload["record_id"],
            occurred_at=datetime.fromisoformat(payload["occurred_at"]),
            contributions=payload["contributions"],
            reasons=payload["reasons"],
        )


# --- time -----------------------------------------------------------------------------


def week_floor(when: datetime) -> datetime:
    """The Monday 00:00 UTC at or before ``when``."""
    when = when.astimezone(UTC)
    day = when.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def week_ceil(when: datetime) -> datetime:
    """The first Monday 00:00 UTC strictly after ``when``: the end of its week."""
    return week_floor(when) + WEEK


def decay(age: timedelta) -> float:
    return 0.5 ** (age / HALF_LIFE)


def local_solar_time(when: datetime, lon: float | None) -> datetime:
    """The time at the place, from its longitude (the vault stores no time zones)."""
    return when.astimezone(UTC) + timedelta(hours=(lon or 0.0) / 15.0)


# --- context about earlier moments ----------------------------------------------------


def place_key(place: dict | None) -> str:
    name = (place or {}).get("name") or ""
    return " ".join(fold_text(name).split())


# What the look-back needs of one moment: (when, heart rate or None, place key or "").
HistoryEntry = tuple[datetime, float | None, str]


def history_entry(moment: dict[str, Any]) -> HistoryEntry:
    return (moment["occurred_at"], _heart_rate(moment), place_key(moment.get("place")))


class MomentHistory:
    """Earlier moments, for a moment's heart-rate baseline and repeat visits.

    Built from history entries (of every moment loaded, or stored with the weekly
    evidence); each question looks only at the ``LOOKBACK`` before the moment, so the
    answer does not depend on what else was loaded.
    """

    def __init__(self, entries: Iterable[HistoryEntry]) -> None:
        ordered = sorted(entries, key=lambda entry: entry[0])
        self._hr_times = [when for when, heart_rate, _ in ordered if heart_rate is not None]
        self._hr_values = [heart_rate for _, heart_rate, _ in ordered if heart_rate is not None]
        self._visits: dict[str, list[datetime]] = {}
        for when, _, key in ordered:
            if key:
                self._visits.setdefault(key, []).append(when)

    def baseline(self, before: datetime) -> float | None:
        """Median heart rate of her moments in the lookback window before ``before``."""
        start = bisect_left(self._hr_times, before - LOOKBACK)
        end = bisect_left(self._hr_times, before)
        window = self._hr_values[start:end]
        return float(statistics.median(window)) if len(window) >= MIN_BASELINE_SAMPLES else None

    def earlier_visits(self, key: str, before: datetime) -> int:
        times = self._visits.get(key, [])
        return bisect_left(times, before) - bisect_left(times, before - LOOKBACK)


def _heart_rate(moment: dict[str, Any]) -> float | None:
    value = moment.get("hr")
    return float(value) if isinstance(value, int | float) and 20 <= value <= 250 else None


# --- evidence from one record ---------------------------------------------------------


def moment_evidence(
    moment: dict[str, Any], *, taxonomy: Taxonomy, history: MomentHistory, dwell_minutes: float | None
) -> Evidence | None:
    place = moment.get("place") or {}
    tags = moment.get("tags") or []
    match = taxonomy.match(moment.get("label") or "", " ".join(map(str, tags)), place.get("name") or "")
    if not match.keywords_by_topic:
        return None
    when = moment["occurred_at"]
    factors, reasons = _moment_factors(moment, when, history, dwell_minutes)
    shared = math.prod(factors.values())
    kinds = taxonomy.place_kinds(place.get("name") or "")
    reasons["place_kinds"] = kinds
    contributions = {}
    for topic_id, keywords in match.keywords_by_topic.items():
        fits_place = bool(set(kinds) & set(taxonomy.topics[topic_id].place_kinds))
        contributions[topic_id] = round(shared * (PLACE_FIT_FACTOR if fits_place else 1.0), 4)
        reasons.setdefault("keywords", {})[topic_id] = list(keywords)
        if fits_place:
            reasons.setdefault("place_fit", []).append(topic_id)
    reasons["factors"] = factors
    return Evidence("moment", moment["id"], when, contributions, reasons)


def _moment_factors(
    moment: dict[str, Any], when: datetime, history: MomentHistory, dwell_minutes: float | None
) -> tuple[dict[str, float], dict[str, Any]]:
    sentiment = moment.get("sentiment") if moment.get("sentiment") in SENTIMENT_FACTORS else "neutral"
    factors = {"sentiment": SENTIMENT_FACTORS[sentiment]}
    reasons: dict[str, Any] = {"sentiment": sentiment}

    heart_rate, baseline = _heart_rate(moment), history.baseline(when)
    if heart_rate is not None and baseline:
        ratio = heart_rate / baseline
        # Up to double weight for a pulse 50% above her own recent median; never below 1:
        # a calm heart is not evidence against an interest.
        factors["heart_rate"] = round(1 + min(max((ratio - 1) * 2, 0.0), 1.0), 4)
        reasons["heart_rate"] = {"bpm": heart_rate, "baseline": round(baseline, 1)}

    key = place_key(moment.get("place"))
    visits = history.earlier_visits(key, when) if key else 0
    if visits:
        factors["repeat_visits"] = 1 + 0.25 * min(visits, 4)
        reasons["earlier_visits"] = visits

    if dwell_minutes:
        factors["dwell"] = round(1 + 0.5 * min(dwell_minutes / 30, 1.0), 4)
        reasons["dwell_minutes"] = round(dwell_minutes, 1)

    context = time_context(when, (moment.get("place") or {}).get("lon"))
    reasons["context"] = context
    if context == "free time":
        factors["context"] = FREE_TIME_FACTOR
    elif context == "working hours":
        factors["context"] = WORKING_HOURS_FACTOR
    return factors, reasons


def time_context(when: datetime, lon: float | None) -> str:
    """Choices made in free time say more about a person than the weekday routine."""
    local = local_solar_time(when, lon)
    hour = local.hour + local.minute / 60
    weekend = local.weekday() >= 5
    if weekend or hour >= 18 or hour < 1:
        return "free time"
    if 9 <= hour < 17:
        return "working hours"
    return "other"


def social_evidence(item: dict[str, Any], *, taxonomy: Taxonomy) -> Evidence | None:
    match = taxonomy.match(item.get("text") or "", item.get("topic") or "")
    if not match.keywords_by_topic:
        return None
    kind = item.get("kind") or "post"
    factor = SOCIAL_KIND_FACTORS.get(kind, 1.0)
    reasons = {"kind": kind, "keywords": {t: list(k) for t, k in match.keywords_by_topic.items()}}
    contributions = dict.fromkeys(match.keywords_by_topic, factor)
    return Evidence("social_item", item["id"], item["occurred_at"], contributions, reasons)


def observation_evidence(item: dict[str, Any], *, taxonomy: Taxonomy) -> Evidence | None:
    """What a club member observed about her (now her data, which she can correct or
    delete): its label and category matched against the taxonomy, weighted by kind."""
    category = (item.get("category") or "").replace("_", " ").replace(".", " ")
    match = taxonomy.match(item.get("label") or "", category)
    if not match.keywords_by_topic:
        return None
    kind = item.get("kind") or "product_interest"
    factor = OBSERVATION_KIND_FACTORS.get(kind, 1.0)
    reasons = {"kind": kind, "keywords": {t: list(k) for t, k in match.keywords_by_topic.items()}}
    contributions = dict.fromkeys(match.keywords_by_topic, factor)
    return Evidence("club_observation", item["id"], item["occurred_at"], contributions, reasons)


class Trail:
    """Her trackpoints as (time, lat, lon), sorted by time, for dwell questions."""

    def __init__(self, points: Sequence[tuple[datetime, float, float]]) -> None:
        self.points = list(points)
        self.times = [point[0] for point in self.points]

    def dwell_minutes(self, when: datetime, lat: float, lon: float) -> float | None:
        """Minutes between her first and last fix near the place within the window."""
        start = bisect_left(self.times, when - DWELL_WINDOW)
        end = bisect_left(self.times, when + DWELL_WINDOW)
        near = [t for t, plat, plon in self.points[start:end] if distance_m(lat, lon, plat, plon) <= DWELL_RADIUS_M]
        if len(near) < 2:
            return None
        return (near[-1] - near[0]).total_seconds() / 60


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance: exact enough within a few hundred metres."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6_371_000 * math.hypot(x, y)


# --- the weekly timeline --------------------------------------------------------------


def advance(
    state: dict[str, float], start: datetime, evidence: Sequence[Evidence], end: datetime
) -> list[tuple[datetime, dict[str, float]]]:
    """Weights at each week boundary after ``start`` up to ``end`` (both boundaries).

    ``state`` is the weights at ``start``; ``evidence`` is sorted by ``sort_key`` and
    lies in [start, end). Each step decays the previous state by one week, then adds the
    evidence of that week decayed by its age at the boundary; topics are visited in
    sorted order so float sums never depend on dict order.
    """
    points: list[tuple[datetime, dict[str, float]]] = []
    weights = dict(state)
    position = 0
    boundary = start + WEEK
    while boundary <= end:
        weights = {topic: weight * DECAY_PER_WEEK for topic, weight in sorted(weights.items())}
        while position < len(evidence) and evidence[position].occurred_at < boundary:
            item = evidence[position]
            factor = decay(boundary - item.occurred_at)
            for topic, contribution in sorted(item.contributions.items()):
                weights[topic] = weights.get(topic, 0.0) + contribution * factor
            position += 1
        weights = {topic: weight for topic, weight in sorted(weights.items()) if abs(weight) >= NEGLIGIBLE}
        points.append((boundary, weights))
        boundary += WEEK
    return points


def weight_at(points: Sequence[tuple[datetime, dict[str, float]]], when: datetime) -> dict[str, float]:
    """Weights at a week boundary ``when`` from the last point at or before it, decayed."""
    earlier = [(at, weights) for at, weights in points if at <= when]
    if not earlier:
        return {}
    at, weights = earlier[-1]
    factor = decay(when - at)
    return {topic: weight * factor for topic, weight in weights.items()}
