"""Club contributions feed her interest timeline (issue 6): an observation about her
raises the interests it matches, explains itself as evidence, and a correction or a
deletion by her takes effect on the timeline too."""

from __future__ import annotations

import pytest

from club import services
from club.models import Observation as StoredObservation
from insights import selectors as insights
from insights import services as insights_services
from tests.club.conftest import Observation, club_grant, contribute

pytestmark = pytest.mark.django_db

ANTIQUES = "home.antiques"


def _weights(person) -> dict[str, float]:
    return {item["topic"]: item["weight"] for item in insights.interests_of(person)}


def test_an_observation_raises_the_interest_it_matches(
    person, club, chairs, chairs_member, django_capture_on_commit_callbacks
):
    token = club_grant(person, chairs)
    assert ANTIQUES not in _weights(person)
    with django_capture_on_commit_callbacks(execute=True):
        response = contribute(token, club, Observation(label="Bought an antique armchair"))
    assert response.status_code == 201, response.content
    assert _weights(person)[ANTIQUES] > 0
    stored = StoredObservation.objects.get(owner=person)
    evidence = insights.evidence_for(person, ANTIQUES)
    assert [(item["record_type"], item["record_id"]) for item in evidence] == [("club_observation", str(stored.id))]
    assert evidence[0]["reasons"]["kind"] == "purchase"


def test_her_deletion_and_correction_reach_the_timeline(
    person, club, chairs, chairs_member, django_capture_on_commit_callbacks
):
    token = club_grant(person, chairs)
    with django_capture_on_commit_callbacks(execute=True):
        contribute(token, club, Observation(label="Bought an antique armchair"))
        contribute(token, club, Observation(label="Looked at an antique commode", kind="product_interest"))
    first, second = StoredObservation.objects.filter(owner=person).order_by("observed_at")
    assert len(insights.evidence_for(person, ANTIQUES)) == 2

    with django_capture_on_commit_callbacks(execute=True):
        services.observation_delete(person=person, observation_id=first.id)
    assert [item["record_id"] for item in insights.evidence_for(person, ANTIQUES)] == [str(second.id)]

    with django_capture_on_commit_callbacks(execute=True):
        services.observation_correct(
            person=person, observation_id=second.id, category="furniture", kind="purchase", label="Bought a lamp"
        )
    assert insights.evidence_for(person, ANTIQUES) == []
    assert ANTIQUES not in _weights(person)


def test_a_contribution_updates_her_timeline_from_the_observation_time_not_from_scratch(
    person, club, chairs, chairs_member, django_capture_on_commit_callbacks, monkeypatch
):
    token = club_grant(person, chairs)
    updates = []
    update = insights_services.update_interests

    def recorded(*, person, since):
        updates.append(since)
        return update(person=person, since=since)

    monkeypatch.setattr(insights_services, "update_interests", recorded)
    with django_capture_on_commit_callbacks(execute=True):
        contribute(token, club, Observation(label="Bought an antique armchair", minutes_ago=3 * 24 * 60))
    stored = StoredObservation.objects.get(owner=person)
    assert updates == [stored.observed_at]  # None would be a full rebuild
    with django_capture_on_commit_callbacks(execute=True):
        services.observation_delete(person=person, observation_id=stored.id)
    assert updates == [stored.observed_at, stored.observed_at]
