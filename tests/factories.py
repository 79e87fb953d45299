from __future__ import annotations

import factory

from accounts.models import User
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
