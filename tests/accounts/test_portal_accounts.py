"""Sign up, log in, log out, and deleting an account with confirmation."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user
from django.urls import reverse

from accounts.models import User
from tests.vault.test_portal_pages import seed_vault
from vault import selectors
from vault.errors import VaultKeyMissing
from vault.keys import keys_for
from vault.models import ImportJob, Moment, PrivacyZone, SocialItem, Track, Trackpoint, VaultKey

pytestmark = pytest.mark.django_db
PASSWORD = "a long enough passphrase"


def test_signup_creates_a_person_with_a_vault_and_logs_her_in(client):
    response = client.post(
        reverse("accounts:signup"), {"username": "dora", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("vault:dashboard")
    dora = User.objects.get(username="dora")
    assert dora.role == User.Role.PERSON
    assert VaultKey.objects.filter(owner_uid=dora.uid).exists()
    assert get_user(client).pk == dora.pk
    assert client.get(reverse("vault:dashboard")).status_code == 200


def test_signup_explains_a_weak_password_and_creates_nothing(client):
    response = client.post(reverse("accounts:signup"), {"username": "dora", "password1": "123", "password2": "123"})
    assert response.status_code == 400
    assert b"too short" in response.content
    assert not User.objects.filter(username="dora").exists()


def test_signup_refuses_a_taken_username(client, person):
    response = client.post(
        reverse("accounts:signup"), {"username": "alice", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 400
    assert b"already exists" in response.content


def test_login_and_logout(client, person):
    response = client.post(
        reverse("accounts:login"), {"username": "alice", "password": "correct horse battery staple"}, follow=True
    )
    assert response.redirect_chain[-1] == (reverse("vault:dashboard"), 302)
    assert get_user(client).is_authenticated
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert not get_user(client).is_authenticated


def test_login_with_a_wrong_password_is_refused(client, person):
    response = client.post(reverse("accounts:login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content
    assert not get_user(client).is_authenticated


def test_delete_page_requires_login(client):
    response = client.get(reverse("accounts:delete"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_delete_refuses_without_the_right_username(client, person):
    seed_vault(person, points=3)
    client.force_login(person)
    response = client.post(reverse("accounts:delete"), {"confirm_username": "bob"})
    assert response.status_code == 400
    assert b"nothing was deleted" in response.content
    person.refresh_from_db()
    assert person.erased_at is None
    assert Trackpoint.objects.filter(owner=person).count() == 3
    assert selectors.zones_of(person)


def test_delete_with_confirmation_erases_everything_and_logs_out(client, person, other_person):
    seed_vault(person, points=3)
    seed_vault(other_person, points=2)
    client.force_login(person)
    response = client.post(reverse("accounts:delete"), {"confirm_username": "alice"})
    assert response.status_code == 302
    assert response["Location"] == reverse("vault:home")
    assert not get_user(client).is_authenticated
    person.refresh_from_db()
    assert person.erased_at is not None
    assert not person.is_active
    assert person.username != "alice"
    with pytest.raises(VaultKeyMissing):
        keys_for(person)
    for model in (Track, Trackpoint, Moment, SocialItem, PrivacyZone, ImportJob):
        assert not model.objects.filter(owner=person).exists(), model.__name__
    # Her neighbour's vault is untouched.
    assert Trackpoint.objects.filter(owner=other_person).count() == 2
    assert selectors.zones_of(other_person)
    # The old credentials no longer log in.
    assert not client.login(username="alice", password="correct horse battery staple")


@pytest.mark.parametrize(("role", "home"), [("partner_staff", "broker:partner_home"), ("auditor", "ledger:index")])
def test_after_login_each_role_lands_on_its_own_home(client, role, home):
    from tests.factories import PersonFactory

    PersonFactory(username="someone", role=role)
    response = client.post(
        reverse("accounts:login"), {"username": "someone", "password": "correct horse battery staple"}
    )
    assert response["Location"] == reverse("vault:home")
    assert client.get(reverse("vault:home"))["Location"] == reverse(home)
