"""Hostile input over the WHOLE public API schema, with schemathesis: schema-valid and
schema-violating (negative) requests per operation, then stateful sequences along the
links schemathesis infers between operations (an id one answer returns, used by the
next). No request may get a 5xx, and every answer must conform to the schema.

Bounded for CI: a few examples per operation and mode, and a few short scenarios.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from tests.apischema import CHECKS, authenticate, credentials_for, kept_open_connection
from tests.broker.conftest import ALL_SCOPES

SCOPES = [*ALL_SCOPES, "insights.interests:read"]


@pytest.fixture
def credentials(person, partner):
    return credentials_for(person, partner, SCOPES)


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
