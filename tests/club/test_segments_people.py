"""Segment statistics from real consents and contributions: who counts follows each
person's consent (grant, pause, resume, revoke, expiry, erasure) and her corrections and
deletions of what members said about her. Noise is switched off here (``NO_NOISE``) to
see exact counts; the noise itself is tested in test_segments.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.services import erase_account
from broker import services as broker_services
from broker.models import Consent
from club import segments, services
from club.models import ContributionTally, Observation, SegmentEnrolment, SegmentFact
from tests.club.conftest import Observation as Obs
from tests.club.conftest import club_grant, contribute, observed_week, publish_small_rules, qualify_to_consume
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

SEGMENT = "club.segments:aggregate"
NO_NOISE = staticmethod(lambda scale, count: [0.0] * count)
PARIS = {"lat": 48.8566, "lon": 2.3522}
NEAR_PARIS = {"lat": 48.86, "lon": 2.35}  # 400 m away: the same ~10 km cell


@pytest.fixture
def small_club(club, admin):
    return publish_small_rules(club, admin, budget="1000")


@pytest.fixture
def reader(small_club, chairs_member):
    return qualify_to_consume(chairs_member)


def enrol(person, world, club, place=PARIS, category="furniture"):
    """The person consents to the member (with the segment scope); it contributes one
    observation about her, with a place."""
    token = club_grant(person, world, scopes=["vault.contribute:write", "club.view:read", SEGMENT])
    response = contribute(token, club, Obs(category=category, label=f"{person.username} bought"), **place)
    assert response.status_code == 201, response.content
    return token


def counts(club, reader, now=None, categories=("furniture", "insurance")):
    now = now or timezone.now()
    week = observed_week()
    answer = segments.segments_query(
        club=club,
        partner=reader.partner,
        categories=list(categories),
        week_from=week,
        week_to=week,
        epsilon=None,
        now=now,
        noise=NO_NOISE,
    )
    # The roll-up the query read agrees with a count over the facts themselves.
    assert sorted(segments.true_counts(club=club, query=answer.query)) == sorted(
        segments.recount(club=club, query=answer.query, now=now)
    )
    return {(cell["category"], cell["region"]): cell["people"] for cell in answer.cells}


@pytest.fixture
def three(person, other_person, small_club, insurer, insurer_member, reader):
    carol = PersonFactory(username="carol")
    return [enrol(who, insurer, small_club) for who in (person, other_person, carol)]


def paris_cell():
    return segments.cell_of(PARIS["lat"], PARIS["lon"])


def test_people_with_a_segment_consent_are_counted_by_cell_and_week(small_club, reader, three):
    assert counts(small_club, reader) == {("furniture", paris_cell()): 3}
    assert segments.cell_of(NEAR_PARIS["lat"], NEAR_PARIS["lon"]) == paris_cell()


def test_without_the_segment_scope_a_person_is_not_counted(person, other_person, small_club, insurer, reader):
    services.member_admit(club=small_club, admin=small_club.admins.first(), partner=insurer.partner)
    for who in (person, other_person):
        token = club_grant(who, insurer)  # contribute and view, no segment scope
        assert contribute(token, small_club, Obs(label="sofa"), **PARIS).status_code == 201
    assert counts(small_club, reader) == {}
    assert not SegmentFact.objects.exists()


def test_a_deleted_observation_leaves_every_later_count(person, small_club, reader, three):
    browser = Client()
    browser.force_login(person)
    mine = browser.get("/api/v1/club/me/observations").json()
    assert browser.delete(f"/api/v1/club/me/observations/{mine[0]['id']}").status_code == 204
    assert counts(small_club, reader) == {("furniture", paris_cell()): 2}


def test_a_correction_moves_the_person_to_the_corrected_category(person, small_club, reader, three):
    observation = Observation.objects.get(owner=person)
    services.observation_correct(
        person=person, observation_id=observation.id, category="insurance", kind="purchase", label="Insurance"
    )
    assert counts(small_club, reader) == {("furniture", paris_cell()): 2}
    assert counts(small_club, reader, categories=["insurance"]) == {}  # one person: suppressed (k = 2)


def test_pause_and_revoke_stop_counting_and_resume_counts_again(person, other_person, small_club, reader, three):
    first, second = three[0].consent, three[1].consent
    broker_services.consent_pause(consent=first, person=person)
    assert counts(small_club, reader) == {("furniture", paris_cell()): 2}
    broker_services.consent_revoke(consent=second, person=other_person)
    assert counts(small_club, reader) == {}  # one left: below k
    broker_services.consent_resume(consent=first, person=person)
    assert counts(small_club, reader) == {("furniture", paris_cell()): 2}


def test_an_expired_consent_stops_counting(small_club, reader, three):
    ends = sorted(token.consent.expires_at for token in three)  # granted milliseconds apart
    first_end = ends[0] + timedelta(microseconds=1)
    later = ends[-1] + timedelta(microseconds=1)
    for category in ("furniture", "insurance"):  # the reader still qualifies then
        ContributionTally.objects.create(membership=reader, category=category, day=later.date(), count=5)
    assert counts(small_club, reader, now=first_end) == {("furniture", paris_cell()): 2}
    assert counts(small_club, reader, now=later) == {}
    assert not SegmentEnrolment.objects.filter(active=True).exists()
    assert not SegmentFact.objects.exists()


def test_a_consent_that_starts_later_counts_only_from_its_start(small_club, reader, three):
    starts = timezone.now() + timedelta(days=1)
    Consent.objects.filter(pk=three[2].consent.pk).update(valid_from=starts)
    assert counts(small_club, reader) == {("furniture", paris_cell()): 2}
    assert counts(small_club, reader, now=starts + timedelta(seconds=1)) == {("furniture", paris_cell()): 3}


def test_an_erased_person_is_no_longer_counted(person, small_club, reader, three):
    erase_account(person)
    assert counts(small_club, reader) == {("furniture", paris_cell()): 2}


def test_facts_and_enrolments_hold_no_person_and_no_label(person, small_club, reader, three):
    segments.sync(club=small_club, now=timezone.now())  # enrols the three (as every query does first)
    fact = SegmentFact.objects.first()
    enrolment = SegmentEnrolment.objects.first()
    stored = " ".join(str(value) for value in [*vars(fact).values(), *vars(enrolment).values()])
    assert "bought" not in stored
    assert str(person.pk) not in {str(fact.pseudonym), str(enrolment.pseudonym)}
    assert str(three[0].consent.uid) not in stored
    assert "48.8" not in stored


def test_facts_keep_at_most_the_weekly_cap_of_categories():
    now = timezone.now()
    observations = [(now - timedelta(minutes=index), f"category_{index}", "") for index in range(10)]
    facts = segments.facts_from(observations, cap=4)
    assert len(facts) == 4
    assert {category for _, category, _ in facts} == {f"category_{index}" for index in range(6, 10)}  # earliest four


def test_cells_are_about_ten_km_wide():
    # A 30 km x 30 km square sampled every km touches at most 4 x 4 cells of 10 km...
    cells = {segments.cell_of(48.5 + i / 110.574, 2.0 + j / 73.3) for i in range(31) for j in range(31)}
    assert 9 <= len(cells) <= 16
    # ... and any point is within ~7.1 km (half a diagonal) of its cell's centre.
    lat, lon = segments.cell_centre(segments.cell_of(48.5, 2.0))
    assert abs(lat - 48.5) * 110.574 <= 5.01
    assert abs(lon - 2.0) * 73.3 <= 5.2


def test_an_expelled_members_consents_stop_counting(small_club, admin, reader, three, insurer_member):
    assert counts(small_club, reader) == {("furniture", paris_cell()): 3}
    services.member_sanction(
        membership=insurer_member, admin=admin, standing="expelled", reason_code="other", reason_text="Left the club."
    )
    assert counts(small_club, reader) == {}
    assert not SegmentFact.objects.exists()


def test_consents_given_before_the_firm_joined_count_once_it_is_admitted(
    person, other_person, small_club, admin, reader, insurer
):
    for who in (person, other_person):
        club_grant(who, insurer, scopes=["vault.contribute:write", SEGMENT])  # insurer not yet a member
    assert counts(small_club, reader) == {}
    services.member_admit(club=small_club, admin=admin, partner=insurer.partner)
    assert not SegmentFact.objects.exists()  # admitted, but no observation about them yet
    assert SegmentEnrolment.objects.filter(active=True).count() == 0
    counts(small_club, reader)  # the next query's sync enrols them
    assert SegmentEnrolment.objects.filter(active=True).count() == 2
