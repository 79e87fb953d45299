from __future__ import annotations

import base64

import pytest
from rest_framework.test import APIClient

from ledger import merkle, note, selectors, services, verify
from ledger.models import Entry

BASE = "/api/v1/ledger/"


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def log(append_many):
    append_many(6)
    services.sign_checkpoint()
    append_many(4)
    return services.sign_checkpoint()


def test_latest_checkpoint_is_a_signed_note(client, log):
    response = client.get(BASE + "checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    key = note.parse_verifier_key(client.get(BASE + "key").content.decode())
    assert note.open_note(response.content.decode(), key).size == 10


def test_checkpoint_by_size(client, log):
    assert client.get(BASE + "checkpoints/6").content.decode().split("\n")[1] == "6"
    response = client.get(BASE + "checkpoints/7")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "CheckpointNotFound"
    assert client.get(BASE + "checkpoints/0").status_code == 400


def test_no_checkpoint_yet(client, db):
    response = client.get(BASE + "checkpoint")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "CheckpointNotFound"


def test_entries_are_paged(client, log, settings):
    settings.LEDGER = {**settings.LEDGER, "PAGE_SIZE": 4}
    page = client.get(BASE + "entries", {"start": 2, "end": 10}).json()["entries"]
    assert [item["seq"] for item in page] == [2, 3, 4, 5]
    data = base64.b64decode(page[0]["entry"])
    assert data == bytes(Entry.objects.get(seq=2).data)
    assert page[0]["leaf_hash"] == merkle.leaf_hash(data).hex()


def test_proofs_verify(client, log):
    latest = selectors.latest_checkpoint()
    body = client.get(BASE + "proof/inclusion", {"index": 3, "size": 10}).json()
    proof = [base64.b64decode(value) for value in body["proof"]]
    merkle.verify_inclusion(3, 10, bytes.fromhex(body["leaf_hash"]), proof, bytes(latest.root_hash))
    body = client.get(BASE + "proof/consistency", {"old": 6, "new": 10}).json()
    old = selectors.checkpoint_of_size(6)
    merkle.verify_consistency(
        6, 10, bytes(old.root_hash), bytes(latest.root_hash), [base64.b64decode(value) for value in body["proof"]]
    )


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("entries", {"start": -1}, "start"),
        ("entries", {"start": 10}, "below the log size"),
        ("entries", {"start": 5, "end": 5}, "greater than start"),
        ("entries", {}, "required"),
        ("entries", {"start": "x"}, "integer"),
        ("proof/inclusion", {"index": -1, "size": 5}, "index"),
        ("proof/inclusion", {"index": 5, "size": 5}, "index"),
        ("proof/inclusion", {"index": 0, "size": 0}, "size"),
        ("proof/inclusion", {"index": 0, "size": 11}, "beyond the log size"),
        ("proof/consistency", {"old": 0, "new": 5}, "old size"),
        ("proof/consistency", {"old": 6, "new": 5}, "must not exceed"),
        ("proof/consistency", {"old": 1, "new": 99}, "beyond the log size"),
    ],
)
def test_bad_parameters_get_a_clear_400(client, log, path, params, message):
    response = client.get(BASE + path, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "InvalidParameter"
    assert message in error["message"]


def test_it_is_read_only(client, log):
    assert client.post(BASE + "entries", {}).status_code == 405
    assert client.delete(BASE + "checkpoint").status_code == 405


def test_it_is_rate_limited(client, log, settings):
    from django.core.cache import cache

    cache.clear()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auditor": "3/minute"}}
    from ledger.api import views

    views.AuditorThrottle.THROTTLE_RATES = {"auditor": "3/minute"}
    try:
        statuses = [client.get(BASE + "key").status_code for _ in range(4)]
    finally:
        del views.AuditorThrottle.THROTTLE_RATES
        cache.clear()
    assert statuses == [200, 200, 200, 429]


def test_it_is_in_the_openapi_schema(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"] if response["Content-Type"].endswith("json") else response.content.decode()
    for path in ("checkpoint", "checkpoints/{size}", "entries", "proof/inclusion", "proof/consistency", "key"):
        assert f"/api/v1/ledger/{path}" in paths


def test_the_verifier_reads_the_api(client, log):
    kept = selectors.checkpoint_of_size(6).note
    api = verify.ApiClient("http://testserver", get=lambda url, params=None, timeout=None: client.get(url, params))
    key = note.parse_verifier_key(selectors.verifier_key())
    report = verify.verify_api(api, key, kept=[kept])
    assert report.ok, report.summary()
    assert report.size == 10
    assert report.checkpoints_checked == 2
