from __future__ import annotations

import pytest

from broker.models import AccessLogEntry
from club import services
from tests.club.conftest import Observation as Obs
from tests.club.conftest import club_grant, contribute, view

pytestmark = pytest.mark.django_db


def test_the_daily_read_quota_refuses_with_retry_after(person, club, admin, chairs, chairs_member):
    services.rules_publish(
        club=club,
        admin=admin,
        contribute_categories=["furniture"],
        consume_categories=["furniture"],
        reciprocity_min_count=1,
        reciprocity_period_days=30,
        daily_read_quota=2,
    )
    token = club_grant(person, chairs)
    assert contribute(token, club, Obs(label="one")).status_code == 201
    assert view(token, club).status_code == 200
    assert view(token, club).status_code == 200
    refused = view(token, club)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "ReadQuotaExceeded"
    assert 0 < int(refused["Retry-After"]) <= 86400
    assert "items" not in refused.json()
    denied = AccessLogEntry.objects.filter(scope="club.view:read", outcome="denied").values_list(
        "error_code", flat=True
    )
    assert list(denied) == ["ReadQuotaExceeded"]


def test_no_quota_means_no_limit_beyond_the_consent(person, club, chairs, chairs_member):
    token = club_grant(person, chairs)
    contribute(token, club, Obs(label="one"))
    contribute(token, club, Obs(label="two"))
    assert [view(token, club).status_code for _ in range(4)] == [200, 200, 200, 200]
