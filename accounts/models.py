from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """Anyone who logs in: a person with a vault, a partner's staff member, or an auditor.

    Only the login handle is kept in clear; names and e-mail addresses are not collected
    here (Django's first_name/last_name/email columns stay empty), so that the account
    table holds nothing personal beyond the handle the person chose.
    """

    class Role(models.TextChoices):
        PERSON = "person", "Person"
        PARTNER_STAFF = "partner_staff", "Partner staff"
        AUDITOR = "auditor", "Auditor"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.PERSON)
    # Set when the person erased their account: the row stays as a tombstone so that
    # foreign keys from consents and logs still resolve, but it holds nothing personal.
    erased_at = models.DateTimeField(null=True, blank=True)

    @property
    def is_person(self) -> bool:
        return self.role == self.Role.PERSON

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None
