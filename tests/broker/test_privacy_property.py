"""Property, through the API: no released point lies inside a privacy zone, at either
precision, wherever the person's points fall."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.broker.conftest import grant
from tests.broker.vaultdata import add_points
from vault.privacy import move, offset_metres
from vault.services import zone_create

pytestmark = pytest.mark.django_db
BASE = datetime(2026, 5, 1, tzinfo=UTC)
ZONE = (48.8566, 2.3522, 400.0)  # lat, lon, radius in metres

offsets = st.tuples(st.floats(-1200, 1200), st.floats(-1200, 1200))


def inside_zone(lat: float, lon: float) -> bool:
    east, north = offset_metres(ZONE[0], ZONE[1], lat, lon)
    return math.hypot(east, north) < ZONE[2]


@pytest.fixture
def precise_and_coarse(person, partner):
    zone_create(person=person, label="home", lat=ZONE[0], lon=ZONE[1], radius_m=ZONE[2])
    terms = {
        "data_from": BASE - timedelta(days=1),
        "data_to": BASE + timedelta(days=30),
        "frequency_value": 10_000,
    }
    precise = grant(person, partner, scopes=["lifelog.location:precise"], **terms)
    coarse = grant(person, partner, scopes=["lifelog.location:coarse"], **terms)
    return person, precise, coarse


def test_no_released_point_lies_inside_a_privacy_zone(precise_and_coarse):
    person, precise, coarse = precise_and_coarse
    counter = {"example": 0}

    @given(points=st.lists(offsets, min_size=1, max_size=12))
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    def released_points_are_outside(points):
        counter["example"] += 1
        start = BASE + timedelta(hours=counter["example"])
        coordinates = [move(ZONE[0], ZONE[1], east, north) for east, north in points]
        add_points(person, start, coordinates)
        window = {"from": start.isoformat(), "to": (start + timedelta(minutes=30)).isoformat()}
        exact = precise.get("/api/v1/data/location", **window).json()["items"]
        for item in exact:
            assert not inside_zone(item["lat"], item["lon"])
        # Every point outside the zone's effective edge may be released, never more:
        assert len(exact) <= sum(not inside_zone(*point) for point in coordinates)
        rough = coarse.get("/api/v1/data/location", **window).json()["items"]
        assert len(rough) == len(exact), "coarsening releases the same points, only blurred"

    released_points_are_outside()
