from __future__ import annotations

import uuid

import factory
from django.utils import timezone

from accounts.models import User
from vault.keys import keys_for
from vault.models import Moment
from vault.services import provision_vault


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    role = User.Role.PERSON
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def vault(obj, create, extracted, **kwargs):
        if create:
            provision_vault(obj)


def sealed_moment(person, label: str, **payload) -> Moment:
    """A moment stored as the vault stores one: sealed under the person's key."""
    keys = keys_for(person)
    moment_id = uuid.uuid4()
    return Moment.objects.create(
        id=moment_id,
        owner=person,
        occurred_at=payload.pop("occurred_at", None) or timezone.now(),
        source="test",
        fingerprint=keys.fingerprint("moment", label, moment_id),
        sealed=keys.seal("moment", moment_id, {"label": label, **payload}),
    )
