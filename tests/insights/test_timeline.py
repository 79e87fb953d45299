"""Building the timeline from the vault: determinism, incremental = full, explanations."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from insights import selectors, services
from insights.models import TimelinePoint, WeeklyEvidence
from insights.scoring import week_ceil
from tests.insights.helpers import add_moment, add_social, add_track

pytestmark = pytest.mark.django_db

START = datetime(2025, 3, 3, 8, tzinfo=UTC)  # a Monday
CHURCH = {"name": "Chiesa di Sant'Ivo alla Sapienza", "lat": 41.8986, "lon": 12.4741}
LABELS = [
    ("gilded baroque ceiling", CHURCH),
    ("espresso at the bar", {"name": "Sant'Eustachio Il Caffè", "lat": 41.8982, "lon": 12.4755}),
    ("morning run", None),
    ("the weather today", None),
    ("jazz club night", {"name": "Alexanderplatz jazz club", "lat": 41.9097, "lon": 12.4552}),
]
SENTIMENTS = ["loves", "likes", "neutral", "dislikes", "loathes"]


def _fill(person, seed: int, days: int = 40) -> None:
    rng = random.Random(seed)
    for day in range(days):
        for _ in range(rng.randint(0, 3)):
            when = START + timedelta(days=day, minutes=rng.randint(0, 14 * 60))
            label, place = rng.choice(LABELS)
            add_moment(person, when, label, sentiment=rng.choice(SENTIMENTS), place=place, hr=rng.randint(60, 120))
        if rng.random() < 0.4:
            add_social(person, START + timedelta(days=day, hours=20), rng.choice(["I love mid-century teak", "lol"]))


def _snapshot(person):
    return selectors.timeline_of(person)


def test_the_same_data_always_gives_the_same_timeline(person):
    _fill(person, seed=7)
    services.rebuild_interests(person=person)
    first = _snapshot(person)
    services.rebuild_interests(person=person)
    assert _snapshot(person) == first
    assert len(first) >= 6
    assert any(weights for _, weights in first)


def test_day_by_day_updates_give_the_timeline_of_one_full_rebuild(person, other_person):
    """Two people with identical data: one updated as each day arrives, one rebuilt once."""
    rng = random.Random(3)
    days = []
    for day in range(30):
        day_items = []
        for _ in range(rng.randint(0, 3)):
            label, place = rng.choice(LABELS)
            when = START + timedelta(days=day, minutes=rng.randint(0, 600))
            day_items.append((when, label, rng.choice(SENTIMENTS), place, rng.randint(60, 120)))
        days.append(day_items)
    for day_items in days:
        for who in (person, other_person):
            for when, label, sentiment, place, hr in day_items:
                add_moment(who, when, label, sentiment=sentiment, place=place, hr=hr)
        if day_items:
            services.update_interests(person=person, since=min(item[0] for item in day_items))
    services.rebuild_interests(person=other_person)
    assert _snapshot(person) == _snapshot(other_person)
    assert _snapshot(person)


def test_an_update_for_old_data_rewrites_the_later_weeks(person, other_person):
    for who in (person, other_person):
        add_moment(who, START + timedelta(days=20), "baroque fresco", sentiment="loves")
    services.rebuild_interests(person=person)
    for who in (person, other_person):
        add_moment(who, START, "espresso", sentiment="loves")
    services.update_interests(person=person, since=START)
    services.rebuild_interests(person=other_person)
    assert _snapshot(person) == _snapshot(other_person)
    assert "food.coffee" in _snapshot(person)[-1][1]


def test_the_explanation_lists_exactly_the_records_that_contributed(person, other_person):
    mine = [
        add_moment(person, START + timedelta(days=1), "baroque ceiling", sentiment="loves", place=CHURCH),
        add_moment(person, START + timedelta(days=3), "frescoes by Caravaggio", sentiment="likes"),
    ]
    social = add_social(person, START + timedelta(days=4), "Bernini's colonnade!", kind="like")
    add_moment(person, START + timedelta(days=2), "espresso", sentiment="loves")  # another topic
    add_moment(person, START + timedelta(days=2), "nothing to see")  # no topic
    add_moment(other_person, START + timedelta(days=2), "baroque church", sentiment="loves")  # someone else
    services.rebuild_interests(person=person)
    now = START + timedelta(days=10)
    explanation = selectors.evidence_for(person, "home.baroque-classical", now=now)
    assert {item["record_id"] for item in explanation} == {str(m.id) for m in mine} | {str(social.id)}
    # The contributions explain the weight: their decayed sum is the weight shown.
    weight = next(i for i in selectors.interests_of(person, now=now) if i["topic"] == "home.baroque-classical")
    assert sum(item["contribution_now"] for item in explanation) == pytest.approx(weight["weight"], abs=2e-3)
    assert explanation[0]["keywords"]


def test_dwell_time_from_her_trackpoints_strengthens_a_moment(person, other_person):
    when = START + timedelta(days=1, hours=2)
    for who in (person, other_person):
        add_moment(who, when, "baroque ceiling", sentiment="likes", place=CHURCH)
    # She stayed 20 minutes at the church; the other person only walked past.
    add_track(person, [(when - timedelta(minutes=10) + timedelta(minutes=i), 41.8986, 12.4741, 80) for i in range(21)])
    add_track(other_person, [(when + timedelta(minutes=i), 41.8986 + 0.003 * i, 12.4741, 80) for i in range(21)])
    services.rebuild_interests(person=person)
    services.rebuild_interests(person=other_person)
    [stayed] = selectors.evidence_for(person, "home.baroque-classical", now=when)
    [passed] = selectors.evidence_for(other_person, "home.baroque-classical", now=when)
    assert stayed["reasons"]["dwell_minutes"] == 20.0
    assert "dwell_minutes" not in passed["reasons"]
    assert stayed["contribution"] > passed["contribution"]


def test_everything_stored_is_sealed(person):
    add_moment(person, START, "baroque ceiling", sentiment="loves", place=CHURCH)
    services.rebuild_interests(person=person)
    for row in [*WeeklyEvidence.objects.filter(owner=person), *TimelinePoint.objects.filter(owner=person)]:
        blob = bytes(row.sealed)
        assert b"baroque" not in blob
        assert b"moment" not in blob
        assert str(row.id).encode() not in blob


def test_without_data_there_is_no_timeline_and_nothing_to_share(person):
    services.rebuild_interests(person=person)
    assert selectors.timeline_of(person) == []
    assert selectors.shareable_interests(person) == []


def test_trend_follows_the_last_four_weeks(person):
    for day in range(0, 60, 2):
        add_moment(person, START + timedelta(days=day), "espresso", sentiment="likes")
    for day in range(40, 60):
        add_moment(person, START + timedelta(days=day), "morning run", sentiment="loves")
    services.rebuild_interests(person=person)
    now = START + timedelta(days=59)
    trends = {item["topic"]: item["trend"] for item in selectors.interests_of(person, now=now)}
    assert trends["sports.running"] == "up"
    later = {item["topic"]: item["trend"] for item in selectors.interests_of(person, now=now + timedelta(days=60))}
    assert later["sports.running"] == "down"
    assert later["food.coffee"] == "down"
    assert week_ceil(now) > now


def test_a_data_range_younger_than_the_trend_window_gives_an_unknown_trend(person):
    """Compared with the empty weeks before the range, every interest would read "up"."""
    for day in range(0, 60, 2):
        add_moment(person, START + timedelta(days=day), "espresso", sentiment="likes")
    for day in range(0, 30, 2):
        add_moment(person, START + timedelta(days=day), "morning run", sentiment="loves")
    services.rebuild_interests(person=person)
    now = START + timedelta(days=59)

    def trends(data_from):
        return {item["topic"]: item["trend"] for item in selectors.interests_of(person, now=now, data_from=data_from)}

    assert trends(now - timedelta(days=15)) == {"food.coffee": "unknown"}  # her running stopped before the range
    # A range reaching back before the trend window compares as usual.
    longer = trends(now - timedelta(days=50))
    assert longer["sports.running"] == "down"
    assert longer["food.coffee"] in ("up", "steady")


def test_only_the_trackpoints_inside_the_windows_are_opened(person, other_person):
    from vault.selectors import trackpoints_in_windows

    base = START + timedelta(days=2)
    add_track(person, [(base + timedelta(minutes=i), 41.9, 12.5, 80) for i in range(120)])
    add_track(other_person, [(base + timedelta(minutes=i), 41.9, 12.5, 80) for i in range(120)])
    windows = [
        (base + timedelta(minutes=10), base + timedelta(minutes=20)),
        (base + timedelta(minutes=60), base + timedelta(minutes=65)),
    ]
    opened = trackpoints_in_windows(person, windows)
    minutes = [int((point.recorded_at - base).total_seconds() // 60) for point in opened]
    assert minutes == [*range(10, 20), *range(60, 65)]
    assert (opened[0].lat, opened[0].lon, opened[0].hr) == (41.9, 12.5, 80)
