"""The portal's actors beyond the person: partner staff, an auditor, and Eidetic staff."""

from __future__ import annotations

import pytest

from accounts.models import User


@pytest.fixture
def auditor(db) -> User:
    return User.objects.create_user(username="audra", password="x", role=User.Role.AUDITOR)


@pytest.fixture
def operator(db) -> User:
    """Eidetic's own staff (is_staff): the operations pages."""
    return User.objects.create_user(username="ops", password="x", role=User.Role.AUDITOR, is_staff=True)


@pytest.fixture
def staff_user(db) -> User:
    return User.objects.create_user(username="sam", password="x", role=User.Role.PARTNER_STAFF)


@pytest.fixture(autouse=True)
def webhook_sender(memory_webhooks):
    return memory_webhooks


@pytest.fixture
def partner(db):
    from tests.broker.conftest import make_partner

    return make_partner("Cosy Chairs")


@pytest.fixture
def partner_staff(partner) -> User:
    from broker import services

    user = User.objects.create_user(username="casa", password="x", role=User.Role.PARTNER_STAFF)
    services.partner_staff_add(partner=partner.partner, user=user)
    return user
