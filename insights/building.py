"""Building a person's interest timeline from her vault: a full rebuild, or an incremental
update from the time new data starts. Both run the same code, so they give the same
timeline (see ``scoring`` for why the floats agree too).

An update from ``since``:
1. Evidence is recomputed for records at or after ``R = since - DWELL_WINDOW`` (a new
   trackpoint may change the dwell time of a moment just before ``since``). Heart-rate
   baselines and earlier visits need the moments of the ``LOOKBACK`` before: those come
   from the history stored with each week's evidence (time, heart rate, place), so an
   update reads a handful of weekly rows instead of two months of moments.
2. The weekly points after ``B = week_floor(R)`` are recomputed from the stored point at
   ``B`` (or the last point before it, stepped forward week by week; the weeks stepped
   over are stored too when evidence follows them, as a full build stores every week).
Everything is read through ``vault.selectors`` and written in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from insights.models import TimelinePoint, WeeklyEvidence
from insights.scoring import (
    DWELL_WINDOW,
    LOOKBACK,
    Evidence,
    HistoryEntry,
    MomentHistory,
    Trail,
    advance,
    history_entry,
    moment_evidence,
    observation_evidence,
    social_evidence,
    week_ceil,
    week_floor,
)
from insights.taxonomy import get_taxonomy
from vault import selectors as vault
from vault.keys import PersonKeys


@dataclass(frozen=True)
class BuildResult:
    records_read: int
    evidence_written: int
    points_written: int


@dataclass(frozen=True)
class Plan:
    """What an update recomputes: evidence from ``recompute_from``, points after ``base``."""

    recompute_from: datetime | None
    base: datetime | None


def plan_for(since: datetime | None) -> Plan:
    if since is None:
        return Plan(None, None)
    recompute_from = since - DWELL_WINDOW
    return Plan(recompute_from, week_floor(recompute_from))


# --- evidence from the vault ------------------------------------------------------------


@dataclass
class Derived:
    """What the vault's records from the recompute point on say, and their history."""

    evidence: list[Evidence]
    history: list[HistoryEntry]
    records_read: int


def derive_evidence(person, recompute_from: datetime | None, earlier: list[HistoryEntry]) -> Derived:
    """Evidence for her records at or after ``recompute_from`` (all when None), sorted.

    ``earlier`` is the history of her moments before ``recompute_from`` (for the look-back).
    """
    taxonomy = get_taxonomy()
    moments = vault.moments_of(person, start=recompute_from).items
    fresh_history = [history_entry(moment) for moment in moments]
    history = MomentHistory([*earlier, *fresh_history])
    dwell = _dwell_by_moment(person, moments)
    evidence: list[Evidence] = []
    for moment in moments:
        found = moment_evidence(moment, taxonomy=taxonomy, history=history, dwell_minutes=dwell.get(moment["id"]))
        if found is not None:
            evidence.append(found)
    social = vault.social_items_of(person, start=recompute_from).items
    for item in social:
        found = social_evidence(item, taxonomy=taxonomy)
        if found is not None:
            evidence.append(found)
    observations = _club_observations(person, recompute_from)
    for item in observations:
        found = observation_evidence(item, taxonomy=taxonomy)
        if found is not None:
            evidence.append(found)
    evidence.sort(key=lambda item: item.sort_key)
    return Derived(evidence, fresh_history, len(moments) + len(social) + len(observations))


def _club_observations(person, start: datetime | None) -> list[dict[str, Any]]:
    """What club members observed about her: her data once contributed (``club`` app)."""
    from club.selectors import observations_for_insights  # the club builds on the broker, as insights do

    return observations_for_insights(person, start=start)


def _placed(moment: dict[str, Any]) -> tuple[float, float] | None:
    place = moment.get("place") or {}
    lat, lon = place.get("lat"), place.get("lon")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        return float(lat), float(lon)
    return None


def _dwell_by_moment(person, moments: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Dwell minutes near each placed moment, reading only her trackpoints around them.

    Overlapping windows are merged so each stretch of points is opened once; a year of
    points is never opened whole (that alone would take longer than a full rebuild may).
    """
    placed = sorted(
        ((m["occurred_at"], m["id"], _placed(m)) for m in moments if _placed(m)),
        key=lambda item: (item[0], item[1]),
    )
    windows = _merged_windows(placed)
    opened = vault.trackpoints_in_windows(person, [(start, end) for start, end, _ in windows])
    trail = Trail([(p.recorded_at, p.lat, p.lon) for p in opened])
    result: dict[str, float] = {}
    for _, _, members in windows:
        for when, moment_id, (lat, lon) in members:
            minutes = trail.dwell_minutes(when, lat, lon)
            if minutes:
                result[moment_id] = minutes
    return result


def _merged_windows(placed: list) -> list[tuple[datetime, datetime, list]]:
    windows: list[tuple[datetime, datetime, list]] = []
    for item in placed:
        start, end = item[0] - DWELL_WINDOW, item[0] + DWELL_WINDOW
        if windows and start <= windows[-1][1]:
            previous_start, _, members = windows[-1]
            windows[-1] = (previous_start, end, [*members, item])
        else:
            windows.append((start, end, [item]))
    return windows


# --- stored evidence and points ---------------------------------------------------------


@dataclass
class Stored:
    """What an update keeps: the base week's evidence and history before the recompute
    point, and the history of the look-back weeks before it."""

    evidence: list[Evidence]
    history: list[HistoryEntry]
    lookback: list[HistoryEntry]


def stored_before(person, keys: PersonKeys, plan: Plan) -> Stored:
    kept = Stored([], [], [])
    weeks = WeeklyEvidence.objects.filter(
        owner=person, week__gte=week_floor(plan.recompute_from - LOOKBACK), week__lte=plan.base
    )
    for row in weeks.order_by("week"):
        payload = row.open(keys)
        history = [_history_from_payload(entry) for entry in payload["history"]]
        earlier = [entry for entry in history if entry[0] < plan.recompute_from]
        kept.lookback.extend(earlier)
        if row.week == plan.base:
            kept.history.extend(earlier)
            evidence = [Evidence.from_payload(item) for item in payload["evidence"]]
            kept.evidence.extend(item for item in evidence if item.occurred_at < plan.recompute_from)
    return kept


def _history_from_payload(entry: list) -> HistoryEntry:
    return (datetime.fromisoformat(entry[0]), entry[1], entry[2])


@dataclass(frozen=True)
class StartState:
    """The weights at ``at``, and the weeks after the last stored point up to ``at``:
    ``unstored`` points a full build stores as soon as later evidence exists."""

    at: datetime
    weights: dict[str, float]
    unstored: list[tuple[datetime, dict[str, float]]]


def state_at(person, keys: PersonKeys, base: datetime) -> StartState | None:
    """The weights at ``base`` from the last stored point at or before it, stepped forward
    week by week (exactly as a full build steps), or None when there is no point yet."""
    row = TimelinePoint.objects.filter(owner=person, at__lte=base).order_by("-at").first()
    if row is None:
        return None
    weights: dict[str, float] = row.open(keys)
    if row.at == base:
        return StartState(base, weights, [])
    stepped = advance(weights, row.at, [], base)
    return StartState(base, stepped[-1][1], stepped)


def build_points(start_state: StartState | None, evidence: list[Evidence]) -> list[tuple[datetime, dict[str, float]]]:
    """Points after the start state to the end of the week of the last evidence, with
    the start's unstored weeks: a full build stores every week from the first evidence
    to the last, so an update that adds evidence after a gap fills the gap too."""
    if not evidence:
        return []
    if start_state is None:
        start_state = StartState(week_floor(evidence[0].occurred_at), {}, [])
    stepped = advance(start_state.weights, start_state.at, evidence, week_ceil(evidence[-1].occurred_at))
    return [*start_state.unstored, *stepped]


def evidence_rows(
    person, keys: PersonKeys, evidence: list[Evidence], history: list[HistoryEntry]
) -> list[WeeklyEvidence]:
    """One sealed row per week: that week's evidence and its moments' history."""
    by_week: dict[datetime, dict[str, list]] = {}
    for item in evidence:
        by_week.setdefault(week_floor(item.occurred_at), {"evidence": [], "history": []})["evidence"].append(
            item.to_payload()
        )
    for when, heart_rate, key in sorted(history, key=lambda entry: entry[0]):
        week = by_week.setdefault(week_floor(when), {"evidence": [], "history": []})
        week["history"].append([when.isoformat(), heart_rate, key])
    return [WeeklyEvidence.sealed_for(keys, rows, owner=person, week=week) for week, rows in sorted(by_week.items())]


def point_rows(person, keys: PersonKeys, points: list[tuple[datetime, dict[str, float]]]) -> list[TimelinePoint]:
    return [TimelinePoint.sealed_for(keys, weights, owner=person, at=at) for at, weights in points]
