"""The operations tests' world: the broker's partners and grants, an in-memory webhook
sender, and a clean cache (rate-limit counters, locks, heartbeat) around every test."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.broker.conftest import other_partner, partner  # noqa: F401 - fixtures, used by name


@pytest.fixture(autouse=True)
def clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def webhook_sender(memory_webhooks):
    return memory_webhooks


@pytest.fixture
def rates(settings):
    """Set API throttle rates for one test: ``rates(partner="3/minute")``."""

    def apply(**scopes: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **scopes},
        }

    return apply


@pytest.fixture
def limits(settings):
    """Set RATE_LIMITS entries for one test: ``limits(LOGIN_PER_USERNAME="3/m")``."""

    def apply(**entries) -> None:
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, **entries}

    return apply
