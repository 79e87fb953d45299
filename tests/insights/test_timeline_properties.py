"""Property: the same data always gives the same timeline (issue 6).

Over generated vault data for one person (moments with labels, sentiment, heart rate and
places; social items; walks whose trackpoints give dwell times): two full builds agree,
and storing the data in any order, in any batches, each announced as a vault import
announces it (``announce_new_records`` from the batch's earliest time, queued on commit),
gives exactly the timeline and evidence of one full rebuild.

Hypothesis runs every example inside one test transaction, so each example stores its
data for a person of its own.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from insights import selectors, services
from insights.models import WeeklyEvidence
from tests.factories import PersonFactory
from tests.insights.helpers import add_moment, add_social, add_track
from vault.keys import keys_for
from vault.services import announce_new_records

pytestmark = pytest.mark.django_db

START = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday
PLACES = [
    {"name": "Chiesa di Sant'Ivo alla Sapienza", "lat": 41.8986, "lon": 12.4741},
    {"name": "Sant'Eustachio Il Caffè", "lat": 41.8982, "lon": 12.4755},
    {"name": "Alexanderplatz jazz club", "lat": 41.9097, "lon": 12.4552},
    {"name": "Villa Borghese running track", "lat": 41.9128, "lon": 12.4852},
]
LABELS = ["gilded baroque ceiling", "espresso at the bar", "morning run", "jazz club night", "the weather today"]
TAGS = ["baroque", "teak", "vegan", "sneakers"]
SENTIMENTS = ["loves", "likes", "neutral", "dislikes", "loathes", "meh"]
TEXTS = ["I love mid-century teak", "Bernini's colonnade!", "Jazz tonight", "lol", "new running shoes"]
SOCIAL_KINDS = ["post", "like", "interest", "connection"]
# Times on a coarse grid (a few slots a day, minutes apart) so that records often fall
# within one another's dwell window, heart-rate look-back and repeat-visit window.
SLOTS = [8 * 60, 12 * 60, 19 * 60, 23 * 60 + 50]


@dataclass(frozen=True)
class Moment:
    when: datetime
    label: str
    sentiment: str
    hr: int | None
    place: dict | None
    tags: tuple[str, ...]

    def store(self, person) -> None:
        add_moment(
            person, self.when, self.label, sentiment=self.sentiment, place=self.place, hr=self.hr, tags=list(self.tags)
        )


@dataclass(frozen=True)
class Social:
    when: datetime
    text: str
    kind: str

    def store(self, person) -> None:
        add_social(person, self.when, self.text, kind=self.kind)


@dataclass(frozen=True)
class Walk:
    """A track whose points stay near (or wander off) a place, one fix every few minutes."""

    when: datetime
    place: dict
    count: int
    step_minutes: int
    drift: float

    def store(self, person) -> None:
        step = timedelta(minutes=self.step_minutes)
        points = [
            (self.when + i * step, self.place["lat"] + self.drift * i, self.place["lon"], 80) for i in range(self.count)
        ]
        add_track(person, points)


@st.composite
def times(draw) -> datetime:
    day = draw(st.integers(0, 62))
    minute = draw(st.sampled_from(SLOTS)) + draw(st.integers(-20, 20))
    return START + timedelta(days=day, minutes=minute)


moments = st.builds(
    Moment,
    when=times(),
    label=st.sampled_from(LABELS),
    sentiment=st.sampled_from(SENTIMENTS),
    hr=st.one_of(st.none(), st.integers(55, 170)),
    place=st.one_of(st.none(), st.sampled_from(PLACES)),
    tags=st.lists(st.sampled_from(TAGS), max_size=2).map(tuple),
)
socials = st.builds(Social, when=times(), text=st.sampled_from(TEXTS), kind=st.sampled_from(SOCIAL_KINDS))
walks = st.builds(
    Walk,
    when=times(),
    place=st.sampled_from(PLACES),
    count=st.integers(2, 12),
    step_minutes=st.integers(1, 4),
    drift=st.sampled_from([0.0, 0.0, 0.0005, 0.003]),
)
records = st.lists(st.one_of(moments, moments, socials, walks), min_size=1, max_size=24)


@st.composite
def data_in_batches(draw):
    """The records, and the same records shuffled and cut into batches."""
    stored = draw(records)
    shuffled = draw(st.permutations(stored))
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(shuffled) - 1)), max_size=5)))
    bounds = [0, *[cut for cut in cuts if cut < len(shuffled)], len(shuffled)]
    return [shuffled[start:end] for start, end in itertools.pairwise(bounds) if end > start]


def _snapshot(person):
    """Her whole derived state: the weekly points and every week's sealed evidence."""
    keys = keys_for(person)
    evidence = [(row.week, row.open(keys)) for row in WeeklyEvidence.objects.filter(owner=person).order_by("week")]
    return selectors.timeline_of(person), evidence


# Found by this test: a batch arriving after weeks without evidence left those weeks'
# points out (a full build stores every week from the first evidence to the last).
AFTER_A_GAP = [
    [Social(START + timedelta(hours=8), "I love mid-century teak", "post")],
    [Social(START + timedelta(days=14, hours=8), "I love mid-century teak", "post")],
]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=data_in_batches())
@example(batches=AFTER_A_GAP)
def test_any_order_and_batching_gives_the_timeline_of_one_full_rebuild(batches, django_capture_on_commit_callbacks):
    person = PersonFactory()
    for batch in batches:
        # As a vault import does: store, then announce from the batch's earliest record;
        # the update runs (Celery eager) once the transaction commits.
        with django_capture_on_commit_callbacks(execute=True):
            for record in batch:
                record.store(person)
            announce_new_records(person, since=min(record.when for record in batch))
    updated = _snapshot(person)

    services.rebuild_interests(person=person)
    rebuilt = _snapshot(person)
    services.rebuild_interests(person=person)
    assert _snapshot(person) == rebuilt  # two full builds agree, points, weights and evidence
    assert updated == rebuilt
