"""Uploading through the portal: plain form posts and the JavaScript (JSON) variant."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from vault.models import ImportJob, Moment, SocialItem, Track, Trackpoint

pytestmark = pytest.mark.django_db

GPX = b"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1"
     xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">
<trk><name>Portal upload run</name><trkseg>
<trkpt lat="45.464211" lon="9.191383"><ele>120</ele><time>2026-10-01T07:00:00Z</time>
<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>101</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>
<trkpt lat="45.464811" lon="9.192383"><ele>121</ele><time>2026-10-01T07:00:05Z</time>
<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>104</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>
<trkpt lat="45.465411" lon="9.193383"><ele>122</ele><time>2026-10-01T07:00:10Z</time>
<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>108</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>
</trkseg></trk></gpx>
"""


def _stored_count(person) -> int:
    return sum(model.objects.filter(owner=person).count() for model in (Track, Trackpoint, Moment, SocialItem))


@pytest.fixture
def owner_client(client, person):
    client.force_login(person)
    return client


def test_upload_without_javascript_redirects_to_the_finished_job(
    owner_client, person, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("vault:upload"), {"file": SimpleUploadedFile("run.gpx", GPX)})
    job = ImportJob.objects.get(owner=person)
    assert response.status_code == 302
    assert response["Location"] == reverse("vault:import_detail", kwargs={"job_id": job.id})
    assert job.status == ImportJob.Status.DONE
    assert Trackpoint.objects.filter(owner=person).count() == 3
    page = owner_client.get(response["Location"]).content.decode()
    assert "3 of 3 records read; 3 new, 0 already in your vault." in page


def test_upload_with_javascript_answers_json_with_the_status_url(
    owner_client, person, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("vault:upload"),
            {"file": SimpleUploadedFile("run.gpx", GPX), "format": "gpx"},
            headers={"Accept": "application/json"},
        )
    assert response.status_code == 201
    body = response.json()
    job = ImportJob.objects.get(owner=person)
    assert body["status_url"] == reverse("vault:import_status", kwargs={"job_id": job.id})
    status = owner_client.get(body["status_url"]).json()
    assert status["status"] == "done"
    assert status["percent"] == 100
    assert status["created"] == 3
    assert status["error"] is None


def test_uploading_the_same_file_twice_stores_nothing_new(owner_client, person, django_capture_on_commit_callbacks):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            owner_client.post(reverse("vault:upload"), {"file": SimpleUploadedFile("run.gpx", GPX)})
    assert Trackpoint.objects.filter(owner=person).count() == 3
    second = ImportJob.objects.filter(owner=person).order_by("-created_at").first()
    assert second.duplicate_items == 3


def test_refused_file_shows_the_error_and_stores_nothing(owner_client, person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("vault:upload"), {"file": SimpleUploadedFile("holiday.png", b"\x89PNG\r\n\x1a\nnot an export")}
        )
    assert response.status_code == 400
    body = response.content.decode()
    assert "holiday.png was refused" in body
    assert 'role="alert"' in body
    assert _stored_count(person) == 0
    assert not ImportJob.objects.filter(owner=person).exists()


def test_refused_file_with_javascript_answers_a_json_error(owner_client, person):
    response = owner_client.post(
        reverse("vault:upload"),
        {"file": SimpleUploadedFile("empty.gpx", b"   ")},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "ImportRefused"
    assert "empty" in error["message"]
    assert not ImportJob.objects.filter(owner=person).exists()


def test_malformed_file_fails_its_job_with_a_position_and_stores_nothing(
    owner_client, person, django_capture_on_commit_callbacks
):
    truncated = GPX[: GPX.index(b'<trkpt lat="45.465411"') + 30]
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("vault:upload"), {"file": SimpleUploadedFile("cut.gpx", truncated)})
    job = ImportJob.objects.get(owner=person)
    assert job.status == ImportJob.Status.FAILED
    assert _stored_count(person) == 0
    page = owner_client.get(response["Location"]).content.decode()
    assert "cut.gpx was not imported; nothing from it was stored." in page
    assert job.error_detail
    assert job.error_detail in page
    status = owner_client.get(reverse("vault:import_status", kwargs={"job_id": job.id})).json()
    assert status["status"] == "failed"
    assert status["error"]["message"] == job.error_detail
    assert status["filename"] == "cut.gpx"


def test_upload_without_a_file_explains_what_is_missing(owner_client, person):
    response = owner_client.post(reverse("vault:upload"), {})
    assert response.status_code == 400
    assert b"This field is required" in response.content
    json_response = owner_client.post(reverse("vault:upload"), {}, headers={"Accept": "application/json"})
    assert json_response.json()["error"]["code"] == "InvalidUpload"


def test_upload_needs_the_csrf_token(person):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(person)
    response = csrf_client.post(reverse("vault:upload"), {"file": SimpleUploadedFile("run.gpx", GPX)})
    assert response.status_code == 403
    assert not ImportJob.objects.filter(owner=person).exists()
