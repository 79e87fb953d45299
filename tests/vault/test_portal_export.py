"""Export: one action downloads everything the person holds, opened, as a JSON attachment."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.vault.test_portal_pages import seed_vault

pytestmark = pytest.mark.django_db


def test_export_downloads_her_data_as_a_json_attachment(client, person, other_person):
    seed_vault(person, points=5)
    seed_vault(other_person, points=3)
    client.force_login(person)
    response = client.post(reverse("vault:export_download"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="eidetic-export-')
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    document = json.loads(response.content)
    assert document["format"] == "eidetic-export/1"
    assert document["account"]["username"] == "alice"
    assert [track["name"] for track in document["tracks"]] == ["Gianicolo hill walk"]
    assert len(document["tracks"][0]["points"]) == 5
    assert document["tracks"][0]["points"][0]["lat"] == pytest.approx(41.8890)
    assert {m["label"] for m in document["moments"]} == {"Fontana dell'Acqua Paola", "Lukewarm cappuccino"}
    assert {s.get("text") or s.get("topic") for s in document["social_items"]} == {
        "The view from the Gianicolo never gets old.",
        "Roman fountains",
    }
    assert [z["label"] for z in document["privacy_zones"]] == ["Home on the hill"]


def test_export_is_a_post_so_nothing_prefetches_it(client, person):
    client.force_login(person)
    assert client.get(reverse("vault:export_download")).status_code == 405
    page = client.get(reverse("vault:export"))
    assert b'method="post"' in page.content


def test_export_needs_login(client, db):
    response = client.post(reverse("vault:export_download"))
    assert response.status_code == 302
