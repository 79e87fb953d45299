"""The person's portal pages: each renders for its owner, needs login, and is 404 for others."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from accounts.models import User
from tests.factories import PersonFactory
from vault import services
from vault.keys import keys_for
from vault.models import ImportJob, Moment, SocialItem, Track, Trackpoint

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 2, 7, 30, tzinfo=UTC)


def _sealed(model, person, payload, **fields):
    keys = keys_for(person)
    record_id = uuid.uuid4()
    return model.objects.create(
        id=record_id,
        owner=person,
        sealed=keys.seal(model.RECORD_TYPE, record_id, payload),
        fingerprint=keys.fingerprint(model.RECORD_TYPE, record_id),
        source="test",
        **fields,
    )


def seed_vault(person, *, points: int = 40) -> dict:
    """A small vault written the way the importer writes it: one track, moments, social items, a job."""
    job = ImportJob.objects.create(owner=person, format=ImportJob.Format.GPX, status=ImportJob.Status.DONE)
    track = _sealed(
        Track,
        person,
        {"name": "Gianicolo hill walk", "device": "Test watch", "activity": "walking"},
        started_at=START,
        ended_at=START + timedelta(seconds=5 * (points - 1)),
        point_count=points,
        import_job=job,
    )
    for i in range(points):
        _sealed(
            Trackpoint,
            person,
            {"lat": 41.8890 + i * 0.0003, "lon": 12.4690 + i * 0.0002, "ele": 40.0, "hr": 90 + i, "dev": "Test watch"},
            track=track,
            recorded_at=START + timedelta(seconds=5 * i),
        )
    moment = _sealed(
        Moment,
        person,
        {
            "kind": "place",
            "label": "Fontana dell'Acqua Paola",
            "tags": ["fountain", "baroque"],
            "sentiment": "loves",
            "place": {"name": "Fontana dell'Acqua Paola", "lat": 41.8885, "lon": 12.4660},
            "hr": 118,
        },
        occurred_at=START + timedelta(minutes=10),
    )
    loathed = _sealed(
        Moment,
        person,
        {"kind": "product", "label": "Lukewarm cappuccino", "tags": [], "sentiment": "loathes", "place": None},
        occurred_at=START + timedelta(days=1),
    )
    post = _sealed(
        SocialItem,
        person,
        {"text": "The view from the Gianicolo never gets old."},
        kind=SocialItem.Kind.POST,
        network="x",
        occurred_at=START + timedelta(hours=2),
    )
    interest = _sealed(
        SocialItem,
        person,
        {"topic": "Roman fountains"},
        kind=SocialItem.Kind.INTEREST,
        network="eidetic",
        occurred_at=START,
    )
    zone = services.zone_create(person=person, label="Home on the hill", lat=41.8890, lon=12.4690, radius_m=200)
    return {
        "job": job,
        "track": track,
        "moment": moment,
        "loathed": loathed,
        "post": post,
        "interest": interest,
        "zone": zone,
    }


@pytest.fixture
def seeded(person):
    return seed_vault(person)


@pytest.fixture
def owner_client(client, person):
    client.force_login(person)
    return client


PAGES = [
    ("vault:dashboard", {}),
    ("vault:upload", {}),
    ("vault:track_list", {}),
    ("vault:timeline", {}),
    ("vault:social_list", {}),
    ("vault:zones", {}),
    ("vault:export", {}),
    ("accounts:delete", {}),
]


def _object_pages(objects):
    return [
        reverse("vault:import_detail", kwargs={"job_id": objects["job"].id}),
        reverse("vault:import_status", kwargs={"job_id": objects["job"].id}),
        reverse("vault:track_detail", kwargs={"track_id": objects["track"].id}),
        reverse("vault:zone_delete", kwargs={"zone_id": objects["zone"].id}),
    ]


def test_landing_page_explains_and_offers_sign_up(client, db):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "sealed with your own key" in body
    assert reverse("accounts:signup") in body
    assert reverse("accounts:login") in body


def test_landing_page_sends_a_signed_in_person_to_her_dashboard(owner_client):
    response = owner_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("vault:dashboard")


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_every_page_requires_login(client, db, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_object_pages_require_login(client, seeded):
    for url in _object_pages(seeded):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_every_page_renders_for_its_owner(owner_client, seeded, name, kwargs):
    response = owner_client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200
    assert b'class="skip-link"' in response.content


def test_every_page_renders_with_an_empty_vault(owner_client):
    for name, kwargs in PAGES:
        response = owner_client.get(reverse(name, kwargs=kwargs))
        assert response.status_code == 200, name


def test_object_pages_render_for_their_owner(owner_client, seeded):
    for url in _object_pages(seeded):
        assert owner_client.get(url).status_code == 200, url


def test_object_pages_are_404_for_another_person(client, seeded, other_person):
    client.force_login(other_person)
    for url in _object_pages(seeded):
        assert client.get(url).status_code == 404, url


def test_unknown_ids_are_404(owner_client):
    for name, key in [
        ("vault:track_detail", "track_id"),
        ("vault:import_detail", "job_id"),
        ("vault:zone_delete", "zone_id"),
    ]:
        assert owner_client.get(reverse(name, kwargs={key: uuid.uuid4()})).status_code == 404


def test_partner_staff_have_no_vault_pages(client, db):
    staff = User.objects.create_user(username="acme-staff", password="x" * 12, role=User.Role.PARTNER_STAFF)
    client.force_login(staff)
    assert client.get(reverse("vault:dashboard")).status_code == 403
    assert client.get(reverse("vault:track_list")).status_code == 403


def test_dashboard_counts_only_her_own_records(owner_client, seeded, other_person):
    seed_vault(other_person, points=7)
    response = owner_client.get(reverse("vault:dashboard"))
    counts = response.context["counts"]
    assert counts == {"tracks": 1, "points": 40, "moments": 2, "social_items": 2, "zones": 1}
    assert b"Your vault is empty" not in response.content


def test_dashboard_of_an_empty_vault_invites_an_upload(owner_client):
    response = owner_client.get(reverse("vault:dashboard"))
    assert b"Your vault is empty" in response.content
    assert reverse("vault:upload").encode() in response.content


def test_track_list_draws_each_track_with_its_zone(owner_client, seeded):
    body = owner_client.get(reverse("vault:track_list")).content.decode()
    assert "Gianicolo hill walk" in body
    assert body.count('class="svg-track"') == 1
    assert 'class="svg-zone"' in body
    assert reverse("vault:track_detail", kwargs={"track_id": seeded["track"].id}) in body


def test_track_detail_shows_heart_rate_chart_and_stats(owner_client, seeded):
    response = owner_client.get(reverse("vault:track_detail", kwargs={"track_id": seeded["track"].id}))
    body = response.content.decode()
    assert 'class="svg-hr"' in body
    assert response.context["hr_max"] == 129
    assert response.context["hr_avg"] == round(sum(range(90, 130)) / 40)
    assert response.context["distance_km"] > 1


def test_timeline_groups_by_day_and_says_sentiment_in_words(owner_client, seeded):
    response = owner_client.get(reverse("vault:timeline"))
    days = response.context["days"]
    assert [len(day["moments"]) for day in days] == [1, 1]
    assert days[0]["day"] > days[1]["day"]  # newest day first
    body = response.content.decode()
    assert "Fontana dell&#x27;Acqua Paola" in body
    assert "You loved it" in body
    assert "You loathed it" in body
    assert "#baroque" in body


def test_social_list_shows_items_and_filters_by_kind(owner_client, seeded):
    body = owner_client.get(reverse("vault:social_list")).content.decode()
    assert "The view from the Gianicolo never gets old." in body
    assert "Roman fountains" in body
    filtered = owner_client.get(reverse("vault:social_list"), {"kind": "interest"}).content.decode()
    assert "Roman fountains" in filtered
    assert "The view from the Gianicolo" not in filtered


def test_import_status_is_json_with_progress(owner_client, seeded):
    response = owner_client.get(reverse("vault:import_status", kwargs={"job_id": seeded["job"].id}))
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["status"] == "done"
    assert data["percent"] == 100
    assert data["finished"] is True
    assert data["error"] is None


def test_failed_job_page_shows_the_error(owner_client, person):
    job = ImportJob.objects.create(
        owner=person,
        format=ImportJob.Format.GPX,
        status=ImportJob.Status.FAILED,
        error_code="ImportMalformed",
        error_detail="line 12, column 4: mismatched tag",
    )
    page = owner_client.get(reverse("vault:import_detail", kwargs={"job_id": job.id})).content.decode()
    assert "line 12, column 4: mismatched tag" in page
    assert "nothing from it was stored" in page
    status = owner_client.get(reverse("vault:import_status", kwargs={"job_id": job.id})).json()
    assert status["error"] == {"code": "ImportMalformed", "message": "line 12, column 4: mismatched tag"}


def test_running_job_page_refreshes_without_javascript(owner_client, person):
    job = ImportJob.objects.create(
        owner=person, format=ImportJob.Format.GPX, status=ImportJob.Status.RUNNING, total_items=200, processed_items=50
    )
    response = owner_client.get(reverse("vault:import_detail", kwargs={"job_id": job.id}))
    assert b'http-equiv="refresh"' in response.content
    assert response.context["state"]["percent"] == 25


def test_pages_load_no_third_party_assets(owner_client, seeded):
    for name, kwargs in PAGES:
        body = owner_client.get(reverse(name, kwargs=kwargs)).content.decode()
        assert "http://" not in body.replace('xmlns="http://www.w3.org/2000/svg"', ""), name
        assert "https://" not in body, name


def test_another_persons_data_never_shows(client, seeded, db):
    stranger = PersonFactory(username="carol")
    client.force_login(stranger)
    for name, kwargs in PAGES:
        body = client.get(reverse(name, kwargs=kwargs)).content.decode()
        assert "Gianicolo" not in body, name
        assert "Acqua Paola" not in body, name


def test_timeline_pages_by_month_skipping_empty_months(owner_client, person, seeded):
    _sealed(
        Moment,
        person,
        {"kind": "activity", "label": "Summer swim at Ostia", "tags": [], "sentiment": "likes", "place": None},
        occurred_at=datetime(2026, 7, 14, 9, 0, tzinfo=UTC),
    )
    latest = owner_client.get(reverse("vault:timeline"))
    assert latest.context["month"].start == datetime(2026, 11, 1, tzinfo=UTC)
    assert latest.context["month"].previous == "2026-07"
    assert latest.context["month"].next is None
    assert b"Summer swim" not in latest.content
    assert b"?month=2026-07" in latest.content
    july = owner_client.get(reverse("vault:timeline"), {"month": "2026-07"})
    assert b"Summer swim" in july.content
    assert b"Acqua Paola" not in july.content
    assert july.context["month"].next == "2026-11"
    empty = owner_client.get(reverse("vault:timeline"), {"month": "2026-09"})
    assert b"No moments this month." in empty.content


def test_social_list_pages_by_month_and_keeps_the_filter(owner_client, person, seeded):
    _sealed(
        SocialItem,
        person,
        {"topic": "Etruscan pottery"},
        kind=SocialItem.Kind.INTEREST,
        network="eidetic",
        occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    latest = owner_client.get(reverse("vault:social_list"), {"kind": "interest"})
    assert b"Roman fountains" in latest.content
    assert b"Etruscan pottery" not in latest.content
    assert b"?month=2026-03&amp;kind=interest" in latest.content
    march = owner_client.get(reverse("vault:social_list"), {"kind": "interest", "month": "2026-03"})
    assert b"Etruscan pottery" in march.content
