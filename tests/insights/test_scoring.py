"""The scoring rules, without a database."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from insights.scoring import (
    DECAY_PER_WEEK,
    WEEK,
    Evidence,
    MomentHistory,
    advance,
    history_entry,
    moment_evidence,
    social_evidence,
    time_context,
    week_ceil,
    week_floor,
    weight_at,
)
from insights.taxonomy import get_taxonomy

START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday
TOPICS = ["home.baroque-classical", "food.coffee", "sports.running"]


def _moment(when, label, **extra):
    return {"id": f"m-{when.isoformat()}-{label}", "occurred_at": when, "label": label, **extra}


evidence_lists = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=20 * 24 * 60),  # minutes after START
        st.sampled_from(TOPICS),
        st.floats(min_value=-3, max_value=5, allow_nan=False).filter(lambda value: abs(value) > 1e-3),
    ),
    min_size=1,
    max_size=30,
)


def _evidence(raw) -> list[Evidence]:
    items = [
        Evidence("moment", f"r{index}", START + timedelta(minutes=minutes), {topic: value})
        for index, (minutes, topic, value) in enumerate(raw)
    ]
    return sorted(items, key=lambda item: item.sort_key)


@settings(max_examples=200, deadline=None)
@given(evidence_lists, st.integers(min_value=1, max_value=30))
def test_without_new_evidence_every_weight_shrinks_week_after_week(raw, quiet_weeks):
    evidence = _evidence(raw)
    end = week_ceil(evidence[-1].occurred_at) + quiet_weeks * WEEK
    points = advance({}, week_floor(evidence[0].occurred_at), evidence, end)
    last_evidence_week = week_ceil(evidence[-1].occurred_at)
    quiet = [weights for at, weights in points if at >= last_evidence_week]
    assert len(quiet) == quiet_weeks + 1
    for earlier, later in itertools.pairwise(quiet):
        for topic in set(earlier) | set(later):
            assert abs(later.get(topic, 0.0)) <= abs(earlier.get(topic, 0.0))
            assert abs(later.get(topic, 0.0)) < abs(earlier[topic]) or earlier.get(topic, 0.0) == 0.0


@settings(max_examples=200, deadline=None)
@given(evidence_lists, st.lists(st.integers(min_value=0, max_value=400), min_size=2, max_size=6))
def test_the_decayed_weight_between_points_is_monotonic_in_time(raw, days):
    evidence = _evidence(raw)
    points = advance({}, week_floor(evidence[0].occurred_at), evidence, week_ceil(evidence[-1].occurred_at))
    last = points[-1][0]
    sizes = [abs(weight_at(points, last + timedelta(days=day)).get(TOPICS[0], 0.0)) for day in sorted(days)]
    assert sizes == sorted(sizes, reverse=True)


@settings(max_examples=150, deadline=None)
@given(evidence_lists, st.integers(min_value=0, max_value=3))
def test_resuming_from_a_stored_point_gives_exactly_the_same_weights(raw, split_week):
    """The incremental update resumes from a point read back from JSON: same floats."""
    evidence = _evidence(raw)
    start, end = week_floor(evidence[0].occurred_at), week_ceil(evidence[-1].occurred_at)
    whole = advance({}, start, evidence, end)
    split_at = min(start + split_week * WEEK, end)
    first = advance({}, start, [e for e in evidence if e.occurred_at < split_at], split_at)
    state = json.loads(json.dumps(first[-1][1])) if first else {}
    rest = advance(state, split_at, [e for e in evidence if e.occurred_at >= split_at], end)
    assert json.dumps(first + rest, default=str) == json.dumps(whole, default=str)


def test_one_week_of_decay_is_the_half_life_rate():
    evidence = [Evidence("moment", "a", START, {"food.coffee": 1.0})]
    points = advance({}, START, evidence, START + 3 * WEEK)
    assert points[0][1]["food.coffee"] == 1.0 * DECAY_PER_WEEK
    assert points[2][1]["food.coffee"] == points[1][1]["food.coffee"] * DECAY_PER_WEEK


def test_a_raised_heart_rate_against_her_own_baseline_strengthens_the_evidence():
    taxonomy = get_taxonomy()
    calm_days = [_moment(START + timedelta(days=day), "walk", hr=70) for day in range(5)]
    history = MomentHistory(map(history_entry, calm_days))
    when = START + timedelta(days=6, hours=11)
    calm = moment_evidence(
        _moment(when, "baroque fresco", hr=70), taxonomy=taxonomy, history=history, dwell_minutes=None
    )
    thrilled = moment_evidence(
        _moment(when, "baroque fresco", hr=105), taxonomy=taxonomy, history=history, dwell_minutes=None
    )
    topic = "home.baroque-classical"
    assert thrilled.contributions[topic] == 2 * calm.contributions[topic]
    assert thrilled.reasons["heart_rate"] == {"bpm": 105.0, "baseline": 70.0}
    assert (
        "heart_rate"
        not in moment_evidence(
            _moment(when, "baroque fresco", hr=120), taxonomy=taxonomy, history=MomentHistory([]), dwell_minutes=None
        ).reasons
    )


def test_sentiment_sets_the_sign_and_place_kind_and_visits_strengthen():
    taxonomy = get_taxonomy()
    when = START + timedelta(days=2, hours=11)  # a Wednesday morning: working hours
    place = {"name": "Chiesa di Sant'Ivo", "lat": 41.8986, "lon": 12.4741}
    loathed = moment_evidence(
        _moment(when, "gilded ceiling", sentiment="loathes"),
        taxonomy=taxonomy,
        history=MomentHistory([]),
        dwell_minutes=None,
    )
    assert loathed.contributions["home.baroque-classical"] < 0
    earlier = [_moment(when - timedelta(days=day), "visit", place=place) for day in (1, 2)]
    at_church = moment_evidence(
        _moment(when, "gilded ceiling", sentiment="likes", place=place),
        taxonomy=taxonomy,
        history=MomentHistory(map(history_entry, earlier)),
        dwell_minutes=30,
    )
    assert at_church.reasons["earlier_visits"] == 2
    assert "church" in at_church.reasons["place_kinds"]
    assert "home.baroque-classical" in at_church.reasons["place_fit"]
    # 1 (likes) x 1.5 (two visits) x 1.5 (30 minutes) x 0.8 (working hours) x 1.3 (place fits)
    assert at_church.contributions["home.baroque-classical"] == round(1.5 * 1.5 * 0.8 * 1.3, 4)


def test_time_context_uses_the_local_hour_from_the_longitude():
    saturday = datetime(2025, 1, 11, 10, tzinfo=UTC)
    tuesday_9_utc = datetime(2025, 1, 7, 9, tzinfo=UTC)
    assert time_context(saturday, 12.5) == "free time"
    assert time_context(tuesday_9_utc, 12.5) == "working hours"
    assert time_context(tuesday_9_utc, -120.0) == "other"  # 01:00 on the US west coast
    assert time_context(datetime(2025, 1, 6, 7, tzinfo=UTC), -120.0) == "free time"  # still Sunday there
    assert time_context(datetime(2025, 1, 7, 19, tzinfo=UTC), 0.0) == "free time"


def test_social_items_count_by_kind():
    taxonomy = get_taxonomy()
    item = {"id": "s1", "occurred_at": START, "kind": "interest", "text": "", "topic": "Jazz"}
    evidence = social_evidence(item, taxonomy=taxonomy)
    assert evidence.contributions == {"music.jazz": 1.5}
    assert social_evidence({**item, "topic": "nothing here"}, taxonomy=taxonomy) is None
