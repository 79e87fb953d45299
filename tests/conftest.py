"""Shared fixtures: the three actors, and access to both databases for every DB test.

Tests that need a real PostgreSQL or Redis are marked ``postgres`` / ``redis``; they skip
when the server is not configured, unless EIDETIC_REQUIRE_SERVICES=1 (as in CI's second
run), where a missing server fails them instead.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import connection

REQUIRE_SERVICES = os.environ.get("EIDETIC_REQUIRE_SERVICES") == "1"


def pytest_collection_modifyitems(config, items):
    for item in items:
        marker = item.get_closest_marker("django_db")
        # Every database test may touch sealed data, whose keys live in the "keys" database.
        if marker is not None and "databases" not in marker.kwargs:
            item.add_marker(pytest.mark.django_db(*marker.args, databases="__all__", **marker.kwargs), append=False)


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        message = "needs PostgreSQL: set DATABASE_URL"
        pytest.fail(message) if REQUIRE_SERVICES else pytest.skip(message)
    if item.get_closest_marker("redis") and not getattr(settings, "REDIS_URL", None):
        message = "needs Redis: set REDIS_URL"
        pytest.fail(message) if REQUIRE_SERVICES else pytest.skip(message)


@pytest.fixture
def person(db):
    from tests.factories import PersonFactory

    return PersonFactory(username="alice")


@pytest.fixture
def other_person(db):
    from tests.factories import PersonFactory

    return PersonFactory(username="bob")
