"""Liveness and readiness probes: /health/live and /health/ready."""

from __future__ import annotations

import socket

import pytest
from django.db import OperationalError, connections
from django.test import override_settings

from config import health


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_live_answers_without_touching_dependencies(client):
    # No django_db mark: any database access here would raise.
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_live_refuses_writes(client):
    assert client.post("/health/live").status_code == 405


@pytest.mark.django_db
@override_settings(REDIS_URL=None)
def test_ready_reports_both_databases(client):
    response = client.get("/health/ready")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["keys_database"]["status"] == "ok"
    assert body["checks"]["redis"]["status"] == "not_configured"


@pytest.mark.django_db
def test_ready_is_503_when_the_keys_database_is_down(client, monkeypatch):
    keys = connections["keys"]

    def refuse():
        raise OperationalError("connection to server at 10.0.0.9 failed: password authentication failed")

    monkeypatch.setattr(keys, "cursor", refuse)
    response = client.get("/health/ready")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["keys_database"] == {
        "status": "down",
        "latency_ms": body["checks"]["keys_database"]["latency_ms"],
        "error": "OperationalError",
    }
    assert body["checks"]["database"]["status"] == "ok"
    # Hosts and credentials from the driver's message never reach the answer.
    assert "10.0.0.9" not in response.content.decode()
    assert "password" not in response.content.decode()


@pytest.mark.django_db
def test_ready_is_503_when_redis_does_not_answer(client):
    with override_settings(REDIS_URL=f"redis://:secret-pw@127.0.0.1:{_closed_port()}/0"):
        response = client.get("/health/ready")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["redis"]["status"] == "down"
    assert body["checks"]["redis"]["error"]
    assert "secret-pw" not in response.content.decode()


@pytest.mark.redis
@pytest.mark.django_db
def test_ready_pings_the_real_redis(client):
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["redis"]["status"] == "ok"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ready_on_postgresql_recovers_after_the_connection_is_killed(client):
    """A server-side disconnect marks the database down once, then the probe reconnects."""
    default = connections["default"]
    default.ensure_connection()
    pid = default.connection.info.backend_pid
    # Terminate our own backend from a second connection, as a server restart would.
    with connections["keys"].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    first = client.get("/health/ready")
    assert first.status_code == 503
    assert first.json()["checks"]["database"]["status"] == "down"
    second = client.get("/health/ready")
    assert second.status_code == 200, second.json()


@override_settings(HEALTH_CHECKS={"always_down": "tests.test_health.always_down"})
def test_checks_are_pluggable(client):
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"] == {"always_down": {"status": "down", "latency_ms": 0.0, "error": "Stale"}}


def always_down() -> health.CheckResult:
    return health.CheckResult("down", 0.0, "Stale")
