"""Builds a small world in the databases of ``tests.resilience.app_settings`` (migrating
them first) and prints it as JSON: people with sealed moments, each with a consent granted
to a partner through the real OAuth flow (consent screen, PKCE code exchange).

    DJANGO_SETTINGS_MODULE=tests.resilience.app_settings python -m tests.resilience.world PEOPLE MOMENTS [--no-migrate]

Used by the PostgreSQL restart test and bench/load.py, which then drive gunicorn with it.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

PASSWORD = "correct horse battery staple"  # the test factories' password
SCOPES = ["lifelog.moments:read", "lifelog.location:coarse"]
START = datetime(2026, 1, 1, tzinfo=UTC)


def build(people: int, moments: int, *, migrate: bool = True) -> dict:
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    if migrate:
        call_command("migrate", verbosity=0)
        call_command("migrate", database="keys", verbosity=0)
    # The OAuth helpers read the consent screen's form from the rendered context.
    setup_test_environment()

    from broker.models import Consent
    from tests.broker.conftest import approve, exchange, make_partner, request_consent
    from tests.broker.vaultdata import add_moments
    from tests.factories import PersonFactory

    partner = make_partner("Load Lamps")
    world = {"partner": str(partner.partner.uid), "people": []}
    now = datetime.now(UTC)
    for index in range(people):
        person = PersonFactory(username=f"load-person-{index}")
        add_moments(person, START, moments, place={"name": "Café", "lat": 48.85, "lon": 2.35})
        consent = request_consent(
            partner,
            scopes=SCOPES,
            data_from=START,
            data_to=START + timedelta(days=3650),
            frequency_value=10_000_000,
            frequency_unit=Consent.FrequencyUnit.DAY,
            valid_from=now - timedelta(minutes=1),
            expires_at=now + timedelta(days=1),
            price_amount=Decimal("0.01"),
            price_basis=Consent.PriceBasis.PER_ACCESS,
        )
        code, verifier = approve(person, partner, consent)
        token = exchange(partner, code, verifier).json()["access_token"]
        world["people"].append(
            {"username": person.username, "password": PASSWORD, "consent": str(consent.uid), "token": token}
        )
    return world


def main() -> None:
    import django

    django.setup()
    people, moments = (int(value) for value in sys.argv[1:3])
    print(json.dumps(build(people, moments, migrate="--no-migrate" not in sys.argv)))


if __name__ == "__main__":
    main()
