"""schemathesis over the broker's part of the OpenAPI schema: generated requests never
get a 5xx, and every response conforms to the schema (status, content type, body)."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, settings

from tests.apischema import CHECKS, authenticate, credentials_for, kept_open_connection
from tests.broker.conftest import ALL_SCOPES

# The broker's part in depth (more examples per operation than the whole-API run in
# tests/ops/test_hostile_input.py).
BROKER_PATHS = r"^/api/v1/(data/|scopes|purposes|consent-requests|me/)"


@pytest.fixture
def credentials(person, partner):
    return credentials_for(person, partner, ALL_SCOPES)


# Loaded once at collection (the schema view needs no database).
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler()).include(path_regex=BROKER_PATHS)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db
def test_the_broker_api_conforms_to_its_schema(case, credentials):
    headers, cookies = authenticate(case.operation, credentials)
    with kept_open_connection():
        case.call_and_validate(headers=headers, cookies=cookies, checks=CHECKS)
