"""The privacy-zone editor: preview, create, validation, delete with confirmation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from vault import selectors, services
from vault.models import PrivacyZone

pytestmark = pytest.mark.django_db

HOME = {"label": "Flat on Via Garibaldi", "lat": "41.8891", "lon": "12.4671", "radius_m": "300"}


@pytest.fixture
def owner_client(client, person):
    client.force_login(person)
    return client


def test_creating_a_zone_stores_it_sealed_and_lists_it(owner_client, person):
    response = owner_client.post(reverse("vault:zones"), HOME, follow=True)
    assert response.status_code == 200
    zones = selectors.zones_of(person)
    assert [(z["label"], z["lat"], z["lon"], z["radius_m"]) for z in zones] == [
        ("Flat on Via Garibaldi", 41.8891, 12.4671, 300.0)
    ]
    assert b"Flat on Via Garibaldi" in response.content
    assert b"Privacy zone saved" in response.content
    assert b"Via Garibaldi" not in bytes(PrivacyZone.objects.get(owner=person).sealed)


def test_preview_draws_the_zone_and_stores_nothing(owner_client, person):
    response = owner_client.post(reverse("vault:zones"), {**HOME, "preview": "1"})
    assert response.status_code == 200
    assert response.context["preview_svg"] is not None
    assert 'class="svg-zone"' in str(response.context["preview_svg"])
    assert not PrivacyZone.objects.filter(owner=person).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("radius_m", "10", "greater than or equal to 50"),
        ("radius_m", "99999", "less than or equal to 5000"),
        ("lat", "91", "less than or equal to 90"),
        ("lon", "east", "Enter a number"),
        ("label", "", "This field is required"),
    ],
)
def test_invalid_zone_is_explained_and_not_stored(owner_client, person, field, value, message):
    response = owner_client.post(reverse("vault:zones"), {**HOME, field: value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not PrivacyZone.objects.filter(owner=person).exists()


def test_delete_asks_for_confirmation_first(owner_client, person):
    zone = services.zone_create(person=person, label="Office", lat=45.0, lon=9.0, radius_m=200)
    page = owner_client.get(reverse("vault:zone_delete", kwargs={"zone_id": zone.id}))
    assert page.status_code == 200
    assert b"Delete the privacy zone" in page.content
    assert PrivacyZone.objects.filter(id=zone.id).exists()


def test_delete_removes_the_zone_on_post(owner_client, person):
    zone = services.zone_create(person=person, label="Office", lat=45.0, lon=9.0, radius_m=200)
    response = owner_client.post(reverse("vault:zone_delete", kwargs={"zone_id": zone.id}))
    assert response.status_code == 302
    assert not PrivacyZone.objects.filter(id=zone.id).exists()


def test_another_persons_zone_cannot_be_deleted(client, person, other_person):
    zone = services.zone_create(person=person, label="Office", lat=45.0, lon=9.0, radius_m=200)
    client.force_login(other_person)
    assert client.post(reverse("vault:zone_delete", kwargs={"zone_id": zone.id})).status_code == 404
    assert PrivacyZone.objects.filter(id=zone.id).exists()
