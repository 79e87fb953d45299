"""404, 403 and 500 pages: friendly, in the site's layout, and never showing internals
(DEBUG is False in the test settings, as in production)."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.portal.urls_with_errors")]


@pytest.fixture
def visitor() -> Client:
    # The real handler runs instead of the test client re-raising the view's exception.
    return Client(raise_request_exception=False)


def test_debug_is_off_as_in_production(settings):
    assert settings.DEBUG is False


def test_404_is_friendly_and_in_the_layout(visitor):
    response = visitor.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Not found</h1>" in html
    assert '<a class="skip-link" href="#main">' in html
    assert "Back to the start page" in html
    assert "Traceback" not in html
    assert "urlpatterns" not in html
    assert "Using the URLconf" not in html


def test_a_missing_object_is_the_same_404(client, person):
    client.force_login(person)
    response = client.get("/tracks/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.content.decode()


def test_403_says_not_allowed_without_the_reason(visitor, db):
    response = visitor.get("/forbidden/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "<h1>Not allowed</h1>" in html
    assert "row 17" not in html


def test_a_person_page_for_partner_staff_is_the_403_page(client, partner_staff):
    client.force_login(partner_staff)
    response = client.get("/dashboard/")
    assert response.status_code == 403
    assert "<h1>Not allowed</h1>" in response.content.decode()


def test_500_hides_internals_and_says_nothing_was_lost(visitor):
    response = visitor.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html
    assert "Nothing you sent was lost" in html
    for leak in ("secret internals", "hunter2", "settings.py", "Traceback", "RuntimeError"):
        assert leak not in html


def test_500_on_the_api_is_json_with_a_code(visitor):
    response = visitor.get("/api/v1/boom/")
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "InternalError", "message": response.json()["error"]["message"]}}
    assert "hunter2" not in response.content.decode()


@override_settings(DEBUG=False)
def test_error_pages_load_nothing_from_other_sites(visitor):
    for url in ("/no-such-page/", "/boom/"):
        html = visitor.get(url).content.decode()
        assert "https://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
