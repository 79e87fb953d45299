"""Shared fixtures: the three actors, and access to both databases for every DB test.

Tests that need a real PostgreSQL or Redis are marked ``postgres`` / ``redis``; they skip
when the server is not configured, unless EIDETIC_REQUIRE_SERVICES=1 (as in CI's second
run), where a missing server fails them instead. Tests marked ``browser`` (tests/e2e) need
Debian's Chromium and Playwright, and are treated the same way.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

REQUIRE_SERVICES = os.environ.get("EIDETIC_REQUIRE_SERVICES") == "1"
# Debian's browser, driven by Playwright (whose own browser download is never used).
CHROMIUM = Path(os.environ.get("EIDETIC_CHROMIUM", "/usr/bin/chromium"))


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
    if item.get_closest_marker("browser"):
        message = _browser_missing()
        if message:
            pytest.fail(message) if REQUIRE_SERVICES else pytest.skip(message)


def _browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"needs Chromium at {CHROMIUM}: apt-get install chromium (or set EIDETIC_CHROMIUM)"
    if importlib.util.find_spec("playwright") is None:
        return "needs Playwright for Python: pip install -e .[dev]"
    return None


@pytest.fixture
def memory_webhooks(settings):
    """Webhooks go to memory, never to the network (conftests of the apps that send them
    use it for every test); returns the sender, whose ``sent`` lists the deliveries."""
    from broker.webhooks import MemorySender

    settings.BROKER = {**settings.BROKER, "WEBHOOK_SENDER": "broker.webhooks.MemorySender"}
    MemorySender.sent = []
    MemorySender.fail_next = 0
    return MemorySender


@pytest.fixture
def person(db):
    from tests.factories import PersonFactory

    return PersonFactory(username="alice")


@pytest.fixture
def other_person(db):
    from tests.factories import PersonFactory

    return PersonFactory(username="bob")
