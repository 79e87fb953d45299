"""Hostile input over the WHOLE public API schema, with schemathesis: schema-valid and
schema-violating (negative) requests per operation, then stateful sequences along the
links schemathesis infers between operations (an id one answer returns, used by the
next). No request may get a 5xx, and every answer must conform to the schema.

Bounded for CI: a few examples per operation and mode, and a few short scenarios.
"""

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
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.broker.conftest import ALL_SCOPES, grant
from tests.broker.vaultdata import add_moments, add_points, add_social

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SCOPES = [*ALL_SCOPES, "insights.interests:read"]


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
        scopes=SCOPES,
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


def _link(operation_id: str, parameter: str, value: str) -> dict:
    return {"operationId": operation_id, "parameters": {parameter: value}}


# OpenAPI links for the sequences schemathesis cannot infer by itself: the id a created
# consent request or a consent list returns is the one the next call takes.
LINKS = {
    ("/api/v1/consent-requests", "post", "201"): {
        "RetrieveCreated": _link("consent_requests_retrieve", "consent_id", "$response.body#/id"),
    },
    ("/api/v1/me/consents", "get", "200"): {
        action.title(): _link(f"v1_me_consents_{action}_create", "consent_id", "$response.body#/0/id")
        for action in ("pause", "resume", "revoke")
    },
}


def load_schema() -> schemathesis.BaseSchema:
    raw = Client().get("/api/schema/?format=json").json()
    for (path, method, status), links in LINKS.items():
        raw["paths"][path][method]["responses"][status]["links"] = links
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = WSGIHandler()
    loaded.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    return loaded


# Loaded once at collection (the schema view needs no database): the whole public API.
schema = load_schema()


def test_the_whole_public_api_is_covered():
    paths = {result.ok().path for result in schema.get_all_operations()}
    assert len(paths) >= 25
    for path in ("/api/v1/data/moments", "/api/v1/ledger/entries", "/api/v1/club/view", "/api/v1/insights/interests"):
        assert path in paths
    # The stateful machine follows our links and the ones schemathesis inferred.
    rules = [name for name in dir(schema.as_state_machine()) if "__" in name and not name.startswith("_")]
    assert any("RetrieveCreated" in rule for rule in rules)
    assert sum("GET_api_v1_me_consents___200_" in rule for rule in rules) == 3
    assert any("DeleteMyObservation" in rule for rule in rules)


@schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@pytest.mark.django_db
def test_no_operation_fails_or_breaks_its_schema(case, credentials):
    headers, cookies = authenticate(case.operation, credentials)
    with kept_open_connection():
        case.call_and_validate(headers=headers, cookies=cookies, checks=CHECKS)


@pytest.mark.django_db
def test_sequences_of_calls_keep_to_the_schema(credentials):
    machine = schema.as_state_machine()

    class Machine(machine):
        def get_call_kwargs(self, case):
            headers, cookies = authenticate(case.operation, credentials)
            return {"headers": headers, "cookies": cookies}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)

    with kept_open_connection():
        Machine.run(
            settings=settings(
                max_examples=15,
                stateful_step_count=4,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
            )
        )
