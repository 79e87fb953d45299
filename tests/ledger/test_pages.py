from __future__ import annotations

import json

import pytest

from ledger import note, services, verify


@pytest.fixture
def log(append_many):
    ids = append_many(60)
    services.sign_checkpoint()
    return ids


def test_the_index_shows_the_latest_checkpoint_and_key(client, log):
    response = client.get("/ledger/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "60 entries" in text
    assert "not anchored yet" in text
    assert 'href="/ledger/"' in text  # the nav link, for everyone (here: logged out)


def test_the_index_of_an_empty_ledger(client, db):
    response = client.get("/ledger/")
    assert response.status_code == 200
    assert "No checkpoint has been signed yet" in response.content.decode()


def test_browsing_entries(client, log):
    text = client.get("/ledger/entries/").content.decode()
    assert 'href="/ledger/entries/59/"' in text
    assert 'href="/ledger/entries/9/"' not in text  # the newest 50 first
    text = client.get("/ledger/entries/", {"start": 0}).content.decode()
    assert 'href="/ledger/entries/0/"' in text
    assert client.get("/ledger/entries/", {"start": "junk"}).status_code == 200
    detail = client.get("/ledger/entries/7/")
    assert detail.status_code == 200
    assert "data.accessed" in detail.content.decode()
    assert client.get("/ledger/entries/600/").status_code == 404


def test_checkpoint_history_and_how_to_verify(client, log):
    assert "<td>60</td>" in client.get("/ledger/checkpoints/").content.decode()
    assert "python -m ledger.verify" in client.get("/ledger/verify/").content.decode()


def test_a_receipt_downloads_and_verifies(client, log):
    from ledger import selectors

    response = client.get(f"/ledger/receipts/{log[3]}.json")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    receipt = json.loads(response.content)
    assert verify.verify_receipt(receipt, note.parse_verifier_key(selectors.verifier_key())) == []
    assert client.get("/ledger/receipts/00000000-0000-0000-0000-000000000000.json").status_code == 404


def test_the_admin_is_read_only(client, log, django_user_model):
    admin_user = django_user_model.objects.create_superuser(username="root", password="pw-for-tests-only")
    client.force_login(admin_user)
    response = client.get("/admin/ledger/entry/")
    assert response.status_code == 200
    assert "/admin/ledger/entry/add/" not in response.content.decode()
    assert client.get("/admin/ledger/entry/add/").status_code == 403
    assert client.post("/admin/ledger/entry/0/delete/", {"post": "yes"}).status_code == 403
