"""BOLA matrix: people x partners x endpoints. Nothing outside the caller's consent is
reachable; partner A's token never reaches what was consented to partner B."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from tests.broker.conftest import ALL_SCOPES, grant, make_partner
from tests.broker.vaultdata import add_moments, add_points, add_social
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db
BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RANGE = {"data_from": BASE - timedelta(days=1), "data_to": BASE + timedelta(days=1)}
ENDPOINTS = {
    "/api/v1/data/moments": "lifelog.moments:read",
    "/api/v1/data/location": "lifelog.location:precise",
    "/api/v1/data/heartrate": "lifelog.heartrate:read",
    "/api/v1/data/social/interests": "social.interests:read",
    "/api/v1/data/social/posts": "social.posts:read",
}


def seed(person, marker: str) -> None:
    """Records whose labels and texts carry the owner's marker, so leaks are visible."""
    from vault.keys import keys_for
    from vault.models import Moment

    add_moments(person, BASE, 2)
    keys = keys_for(person)
    for moment in Moment.objects.filter(owner=person):
        moment.sealed = keys.seal("moment", moment.id, {"kind": "place", "label": marker, "tags": [], "hr": None})
        moment.save(update_fields=["sealed"])
    add_points(person, BASE, [(10.0 + len(marker), 20.0)] * 2)
    add_social(person, BASE, "interest", 1)
    add_social(person, BASE, "post", 1)


@pytest.fixture
def world(db):
    people = {name: PersonFactory(username=name) for name in ("ana", "ben")}
    partners = {name: make_partner(name) for name in ("Alpha", "Beta")}
    for name, person in people.items():
        seed(person, f"owner-{name}")
    grants = {
        # ana consents everything to Alpha and only moments to Beta; ben only posts to Beta.
        ("ana", "Alpha"): grant(people["ana"], partners["Alpha"], scopes=ALL_SCOPES, **RANGE),
        ("ana", "Beta"): grant(people["ana"], partners["Beta"], scopes=["lifelog.moments:read"], **RANGE),
        ("ben", "Beta"): grant(people["ben"], partners["Beta"], scopes=["social.posts:read"], **RANGE),
    }
    return people, partners, grants


def test_the_matrix(world):
    people, _, grants = world
    for (owner, _partner), result in grants.items():
        for path, scope in ENDPOINTS.items():
            response = result.get(path)
            if scope in result.consent.scopes:
                assert response.status_code == 200, (owner, _partner, path)
                body = response.content.decode()
                other = next(name for name in people if name != owner)
                assert f"owner-{other}" not in body
                assert response.json()["consent"] == str(result.consent.uid)
            else:
                assert response.status_code == 403, (owner, _partner, path)
                assert response.json()["error"]["code"] == "ScopeNotGranted"
                assert "items" not in response.json()


def test_a_token_is_bound_to_its_own_consent_only(world):
    _people, _partners, grants = world
    alpha = grants[("ana", "Alpha")]
    beta_for_ben = grants[("ben", "Beta")]
    # Beta's token for ben cannot read ana's moments, whatever it asks.
    response = beta_for_ben.get("/api/v1/data/moments")
    assert response.status_code == 403
    # Alpha's pseudonym for ana is not Beta's.
    alpha_subject = alpha.get("/api/v1/data/moments").json()["subject"]
    beta_subject = grants[("ana", "Beta")].get("/api/v1/data/moments").json()["subject"]
    assert alpha_subject != beta_subject


def test_a_partner_cannot_read_or_exchange_another_partners_grants(world):
    _, partners, grants = world
    ana_alpha = grants[("ana", "Alpha")]
    # Beta presenting Alpha's refresh token with Beta's own credentials is refused.
    response = Client().post(
        "/oauth/token/",
        {"grant_type": "refresh_token", "refresh_token": ana_alpha.refresh_token},
        HTTP_AUTHORIZATION=partners["Beta"].basic_auth(),
    )
    assert response.status_code in (400, 401)
    # Beta cannot look at Alpha's consent through the partner API.
    response = Client().get(
        f"/api/v1/consent-requests/{ana_alpha.consent.uid}", HTTP_AUTHORIZATION=partners["Beta"].basic_auth()
    )
    assert response.status_code == 404
    own = Client().get(
        f"/api/v1/consent-requests/{ana_alpha.consent.uid}", HTTP_AUTHORIZATION=partners["Alpha"].basic_auth()
    )
    assert own.status_code == 200
    assert own.json()["state"] == "active"


def test_people_cannot_touch_each_others_consents(world):
    people, _, grants = world
    browser = Client()
    browser.force_login(people["ben"])
    for (owner, _partner), result in grants.items():
        response = browser.post(f"/api/v1/me/consents/{result.consent.uid}/revoke")
        assert response.status_code == (200 if owner == "ben" else 404)
    listing = browser.get("/api/v1/me/consents").json()
    assert {row["id"] for row in listing} == {str(grants[("ben", "Beta")].consent.uid)}
