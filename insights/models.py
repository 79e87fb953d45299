"""The interest timeline's records. Which topics a person cares about is personal: every
weight, every piece of evidence and every preference is sealed with her own key (so
crypto-shredding her vault key erases these too). Only owner and times are in clear.

Like the vault's records, each row has a UUID primary key generated in Python before it
is sealed, and the seal's associated data binds the ciphertext to (owner, type, id).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    from vault.keys import PersonKeys


class SealedInsight(models.Model):
    RECORD_TYPE: ClassVar[str]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sealed = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def open(self, keys: PersonKeys) -> Any:
        return keys.unseal(self.RECORD_TYPE, self.id, bytes(self.sealed))

    @classmethod
    def sealed_for(cls, keys: PersonKeys, payload: Any, **fields: Any):
        """A new, unsaved row with ``payload`` sealed under its own fresh id."""
        row_id = uuid.uuid4()
        return cls(id=row_id, sealed=keys.seal(cls.RECORD_TYPE, row_id, payload), **fields)


class InterestProfile(SealedInsight):
    """One per person: her choices, sealed ``{"hidden": [topic], "corrections": {topic: c}}``,
    and the bookkeeping of the last build (in clear: times only)."""

    RECORD_TYPE = "interest_profile"
    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)


class WeeklyEvidence(SealedInsight):
    """The evidence of one week (Monday 00:00 UTC): sealed ``[{"record_type", "record_id",
    "occurred_at", "contributions": {topic: float}, "reasons": {...}}]``, one item per
    vault record that mentioned a topic. Never shown to partners.

    One row per week rather than per record: a year is ~52 rows to seal and write
    instead of ~10,000, which is what keeps a full rebuild within seconds.
    """

    RECORD_TYPE = "interest_evidence_week"
    week = models.DateTimeField()

    class Meta:
        ordering = ["week"]
        constraints = [models.UniqueConstraint(fields=["owner", "week"], name="interest_evidence_unique_week")]


class TimelinePoint(SealedInsight):
    """Her topic weights at one week boundary (Monday 00:00 UTC): sealed ``{topic: weight}``."""

    RECORD_TYPE = "interest_point"
    at = models.DateTimeField()

    class Meta:
        ordering = ["at"]
        constraints = [models.UniqueConstraint(fields=["owner", "at"], name="interest_point_unique_week")]


class InsightDisclosure(SealedInsight):
    """Which interests a partner received, when: sealed ``{"interests": [{topic, weight, trend}]}``.

    The partner is referred to by its public uid (no foreign key, so that this app does not
    depend on the broker's migrations); ``access_log_uid`` links the broker's log entry.
    """

    RECORD_TYPE = "insight_disclosure"
    partner_uid = models.UUIDField()
    access_log_uid = models.UUIDField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["owner", "at"])]
