"""config/outages.py without real servers: a dependency error raised anywhere in a request
becomes a 503 with Retry-After (JSON for the API and JSON clients, HTML for the portal);
any other error stays a 500. The failure tests next to this file cause real outages."""

from __future__ import annotations

import kombu.exceptions
import pytest
import redis.exceptions
from django.db import InterfaceError, OperationalError
from django.test import Client

from broker import selectors as broker_selectors
from ledger import selectors as ledger_selectors

pytestmark = pytest.mark.django_db

OUTAGES = [
    OperationalError("server closed the connection unexpectedly"),
    InterfaceError("connection already closed"),
    kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379"),
    redis.exceptions.ConnectionError("Error 111 connecting"),
]


def _raising(error: Exception):
    def fail(*args, **kwargs):
        raise error

    return fail


@pytest.mark.parametrize("error", OUTAGES, ids=lambda error: type(error).__module__ + "." + type(error).__name__)
def test_an_api_view_that_loses_a_dependency_answers_503_json(monkeypatch, error):
    monkeypatch.setattr(ledger_selectors, "latest_checkpoint", _raising(error))
    response = Client(raise_request_exception=False).get("/api/v1/ledger/checkpoint")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "ServiceUnavailable"
    assert "127.0.0.1" not in response.content.decode()


def test_a_portal_page_that_loses_the_database_answers_503_html(monkeypatch, person):
    monkeypatch.setattr(broker_selectors, "consents_of_person", _raising(OperationalError("the database is down")))
    browser = Client(raise_request_exception=False)
    browser.force_login(person)
    response = browser.get("/consents/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "Briefly unavailable" in body
    assert "database is down" not in body


def test_a_portal_request_asking_for_json_gets_json(monkeypatch, person):
    monkeypatch.setattr(broker_selectors, "consents_of_person", _raising(OperationalError("down")))
    browser = Client(raise_request_exception=False)
    browser.force_login(person)
    response = browser.get("/consents/", HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "ServiceUnavailable"


def test_any_other_error_is_still_a_plain_500(monkeypatch):
    monkeypatch.setattr(ledger_selectors, "latest_checkpoint", _raising(ValueError("a bug")))
    response = Client(raise_request_exception=False).get("/api/v1/ledger/checkpoint")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "InternalError"
    assert "Retry-After" not in response
