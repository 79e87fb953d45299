"""Rate limits: partner API per OAuth client, person API per person, anonymous and auditor
API per address, login failures per username and per address, the token endpoint per
client. Every refusal is 429 with Retry-After; API refusals carry the house error body."""

from __future__ import annotations

import socket
import uuid

import pytest
from django.core.cache import caches
from django.test import Client, override_settings

from tests.broker.conftest import grant

PASSWORD = "correct horse battery staple"


def assert_rate_limited(response, *, window: int = 60) -> None:
    assert response.status_code == 429
    assert response.json() == {"error": {"code": "RateLimited", "message": response.json()["error"]["message"]}}
    assert response.json()["error"]["message"]
    assert 1 <= int(response["Retry-After"]) <= window


# --- the APIs (DRF throttles) ---------------------------------------------------------------


@pytest.mark.django_db
def test_partner_api_is_limited_per_oauth_client(person, other_person, partner, other_partner, rates):
    first = grant(person, partner)
    same_client = grant(other_person, partner)
    other_client = grant(person, other_partner)
    rates(partner="3/minute")
    statuses = [first.get("/api/v1/data/moments").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert_rate_limited(first.get("/api/v1/data/moments"))
    # Per client, not per token or per person: her consent to the same partner shares the count.
    assert_rate_limited(same_client.get("/api/v1/data/moments"))
    assert other_client.get("/api/v1/data/moments").status_code == 200


@pytest.mark.django_db
def test_a_throttled_read_is_not_recorded_as_an_access(person, partner, rates):
    from broker.models import AccessLogEntry

    reads = grant(person, partner)
    rates(partner="1/minute")
    assert reads.get("/api/v1/data/moments").status_code == 200
    logged = AccessLogEntry.objects.count()
    assert_rate_limited(reads.get("/api/v1/data/moments"))
    assert AccessLogEntry.objects.count() == logged


@pytest.mark.django_db
def test_consent_requests_are_limited_per_client(partner, other_partner, rates):
    rates(partner="2/minute")

    def poll(world):
        return Client().get(f"/api/v1/consent-requests/{uuid.uuid4()}", HTTP_AUTHORIZATION=world.basic_auth())

    assert [poll(partner).status_code for _ in range(2)] == [404, 404]
    assert_rate_limited(poll(partner))
    assert poll(other_partner).status_code == 404


@pytest.mark.django_db
def test_person_api_is_limited_per_person(person, other_person, rates):
    rates(person="2/minute")
    hers, his = Client(), Client()
    hers.force_login(person)
    his.force_login(other_person)
    assert [hers.get("/api/v1/me/consents").status_code for _ in range(2)] == [200, 200]
    assert_rate_limited(hers.get("/api/v1/me/consents"))
    assert his.get("/api/v1/me/consents").status_code == 200


@pytest.mark.django_db
def test_anonymous_api_is_limited_per_address(rates):
    rates(anon="2/minute")
    client = Client()
    assert [client.get("/api/v1/scopes", REMOTE_ADDR="192.0.2.1").status_code for _ in range(2)] == [200, 200]
    assert_rate_limited(client.get("/api/v1/scopes", REMOTE_ADDR="192.0.2.1"))
    assert client.get("/api/v1/scopes", REMOTE_ADDR="192.0.2.2").status_code == 200


@pytest.mark.django_db
def test_ipv6_addresses_count_per_slash_64(rates):
    rates(anon="1/minute")
    client = Client()
    assert client.get("/api/v1/scopes", REMOTE_ADDR="2001:db8:1:2::1").status_code == 200
    assert_rate_limited(client.get("/api/v1/scopes", REMOTE_ADDR="2001:db8:1:2::ffff"))
    assert client.get("/api/v1/scopes", REMOTE_ADDR="2001:db8:1:3::1").status_code == 200


@pytest.mark.django_db
def test_auditor_api_counts_the_address_our_proxy_saw(rates, limits):
    rates(auditor="2/minute")
    limits(TRUSTED_PROXIES=1)
    client = Client()

    def get(forwarded: str):
        return client.get("/api/v1/ledger/key", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert get("203.0.113.5").status_code == 200
    # What the client wrote in front of our proxy's entry changes nothing.
    assert get("198.51.100.77, 203.0.113.5").status_code == 200
    assert_rate_limited(get("10.9.9.9, 203.0.113.5"))
    assert get("203.0.113.6").status_code == 200


@pytest.mark.django_db
def test_without_trusted_proxies_forwarded_for_is_ignored(rates):
    rates(auditor="1/minute")
    client = Client()
    assert client.get("/api/v1/ledger/key", HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 200
    assert_rate_limited(client.get("/api/v1/ledger/key", HTTP_X_FORWARDED_FOR="203.0.113.2"))


# --- login ---------------------------------------------------------------------------------


def login(client: Client, username: str, password: str, address: str = "192.0.2.10"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
def test_login_failures_are_limited_per_username(person, other_person, limits):
    limits(LOGIN_PER_USERNAME="3/15m")
    client = Client()
    for _ in range(3):
        assert login(client, "alice", "wrong guess").status_code == 200
    # At the limit even the right password is refused, unchecked.
    refused = login(client, "ALICE ", PASSWORD, address="192.0.2.99")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 15 * 60
    assert "Too many failed logins" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account, same address: not affected.
    assert login(client, "bob", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_successful_logins_are_not_counted(person, limits):
    limits(LOGIN_PER_USERNAME="2/15m", LOGIN_PER_IP="2/15m")
    for _ in range(4):
        client = Client()
        assert login(client, "alice", PASSWORD).status_code == 302
        assert client.session["_auth_user_id"] == str(person.pk)


@pytest.mark.django_db
def test_login_failures_are_limited_per_address(person, limits):
    limits(LOGIN_PER_IP="3/15m")
    client = Client()
    for name in ("carol", "dave", "erin"):
        assert login(client, name, "guess").status_code == 200
    assert login(client, "alice", PASSWORD).status_code == 429
    assert login(Client(), "alice", PASSWORD, address="192.0.2.11").status_code == 302


@pytest.mark.django_db
def test_login_page_still_renders_for_get(limits):
    limits(LOGIN_PER_IP="1/15m")
    client = Client()
    login(client, "x", "y")
    login(client, "x", "y")
    assert client.get("/accounts/login/", REMOTE_ADDR="192.0.2.10").status_code == 200


# --- the OAuth token endpoint -----------------------------------------------------------------


@pytest.mark.django_db
def test_token_endpoint_is_limited_per_client(partner, other_partner, limits):
    limits(OAUTH_TOKEN_PER_CLIENT="2/m")

    def token(world):
        return Client().post(
            "/oauth/token/",
            {"grant_type": "authorization_code", "code": "nope", "redirect_uri": "https://x.example/cb"},
            HTTP_AUTHORIZATION=world.basic_auth(),
        )

    assert [token(partner).status_code for _ in range(2)] == [400, 400]
    assert_rate_limited(token(partner))
    assert token(other_partner).status_code == 400


@pytest.mark.django_db
def test_token_endpoint_counts_form_client_ids_too(limits):
    limits(OAUTH_TOKEN_PER_CLIENT="1/m")
    client = Client()
    form = {"grant_type": "authorization_code", "code": "nope", "client_id": "public-app"}
    assert client.post("/oauth/token/", form).status_code in (400, 401)
    assert_rate_limited(client.post("/oauth/token/", form))
    assert client.post("/oauth/token/", {**form, "client_id": "another-app"}).status_code in (400, 401)


# --- the shared cache ---------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_cache(location: str) -> dict:
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": f"ops-test-{uuid.uuid4().hex[:8]}",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }


@pytest.mark.django_db
def test_limits_fail_open_when_the_cache_is_down(rates):
    rates(anon="1/minute")
    with override_settings(CACHES=redis_cache(f"redis://127.0.0.1:{_closed_port()}/0")):
        statuses = [Client().get("/api/v1/scopes").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]


@pytest.mark.redis
@pytest.mark.django_db
def test_limits_are_counted_in_redis_across_connections(rates, settings):
    rates(anon="2/minute")
    with override_settings(CACHES=redis_cache(settings.REDIS_URL)):
        try:
            assert [Client().get("/api/v1/scopes").status_code for _ in range(2)] == [200, 200]
            # A fresh connection (as another web process would have) sees the same count.
            caches.close_all()
            caches["default"].client.get_client().connection_pool.disconnect()
            assert_rate_limited(Client().get("/api/v1/scopes"))
        finally:
            # Only this test's keys: clear() would flush the whole shared Redis database.
            caches["default"].delete_pattern("*")


def test_every_api_operation_documents_its_429():
    paths = Client().get("/api/schema/?format=json").json()["paths"]
    operations = [operation for path in paths.values() for operation in path.values()]
    assert len(operations) > 20
    for operation in operations:
        assert "429" in operation["responses"], operation["operationId"]
    # Where a view documents no 429 of its own (FrequencyExceeded, ...), ours says RateLimited.
    ours = paths["/api/v1/scopes"]["get"]["responses"]["429"]
    assert ours["description"].startswith("RateLimited")
    assert "Retry-After" in ours["headers"]
