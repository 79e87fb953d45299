"""What the schemathesis tests share: the checks ("no 5xx, no schema violation"), the
world they call into (a person with data and a consent covering every scope), and how
each operation authenticates."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.broker.conftest import grant
from tests.broker.vaultdata import add_moments, add_points, add_social

# "No 5xx and no schema violation". Business rules (dates running forwards, ...) may
# refuse schema-valid input with a documented 4xx, so positive-data acceptance is not asked.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@contextmanager
def kept_open_connection():
    """As Django's test client does around each request: keep the test's transaction
    (and connection) open while schemathesis calls the WSGI handler."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def credentials_for(person, partner, scopes: list[str]) -> dict[str, str]:
    """A person with moments, points and social items, a consent to ``partner`` covering
    ``scopes``, and the three ways in: bearer token, partner Basic auth, her session."""
    add_moments(person, BASE, 3, place={"name": "Park", "lat": 51.5, "lon": -0.1})
    add_points(person, BASE, [(51.5, -0.1), (51.6, -0.2)])
    add_social(person, BASE, "interest", 2)
    add_social(person, BASE, "post", 2)
    result = grant(
        person,
        partner,
        scopes=scopes,
        data_from=BASE - timedelta(days=1),
        data_to=BASE + timedelta(days=1),
        frequency_value=100_000,
    )
    browser = Client()
    browser.force_login(person)
    return {
        "bearer": f"Bearer {result.access_token}",
        "basic": partner.basic_auth(),
        "session": browser.cookies["sessionid"].value,
    }


def authenticate(operation, credentials: dict) -> tuple[dict, dict]:
    """(headers, cookies) for an operation, by the security scheme the schema names."""
    schemes = {name for requirement in operation.definition.raw.get("security") or [{}] for name in requirement}
    if "cookieAuth" in schemes:
        csrf = _get_new_csrf_string()
        return {"X-CSRFToken": csrf}, {"sessionid": credentials["session"], "csrftoken": csrf}
    if "partnerClient" in schemes:
        return {"Authorization": credentials["basic"]}, {}
    if operation.path.startswith("/api/v1/ledger/") or operation.path in ("/api/v1/scopes", "/api/v1/purposes"):
        return {}, {}
    return {"Authorization": credentials["bearer"]}, {}
