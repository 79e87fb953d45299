"""schemathesis over the broker's part of the OpenAPI schema: generated requests never
get a 5xx, and every response conforms to the schema (status, content type, body)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.broker.conftest import ALL_SCOPES, grant
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
BROKER_PATHS = r"^/api/v1/(data/|scopes|purposes|consent-requests|me/)"
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


@pytest.fixture
def credentials(person, partner):
    add_moments(person, BASE, 3, place={"name": "Park", "lat": 51.5, "lon": -0.1})
    add_points(person, BASE, [(51.5, -0.1), (51.6, -0.2)])
    add_social(person, BASE, "interest", 2)
    add_social(person, BASE, "post", 2)
    result = grant(
        person,
        partner,
        scopes=ALL_SCOPES,
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


# Loaded once at collection (the schema view needs no database).
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler()).include(path_regex=BROKER_PATHS)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db
def test_the_broker_api_conforms_to_its_schema(case, credentials):
    path = case.operation.path
    headers = {}
    cookies = {}
    if path.startswith("/api/v1/data/"):
        headers["Authorization"] = credentials["bearer"]
    elif path.startswith("/api/v1/consent-requests"):
        headers["Authorization"] = credentials["basic"]
    elif path.startswith("/api/v1/me/"):
        csrf = _get_new_csrf_string()
        cookies.update(sessionid=credentials["session"], csrftoken=csrf)
        headers["X-CSRFToken"] = csrf
    with kept_open_connection():
        case.call_and_validate(headers=headers, cookies=cookies, checks=CHECKS)
