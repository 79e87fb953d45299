"""The club's records: clubs, their member firms, versioned rules, sanctions, and the
observations members contribute about a person (sealed in her vault, under her key).

What is in clear: club names, rules, standings and sanction reasons (about firms, not
people); per member and category, how many observations it contributed each day
(``ContributionTally``, no person in it). An observation's category, kind and label
are sealed: only its owner, its contributing member and its time are in clear.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from broker.models import Partner
from vault.models import SealedRecord


class Club(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120, unique=True)
    # Eidetic staff who admit members, publish rules and sanction.
    admins = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="administered_clubs", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name

    @property
    def ledger_id(self) -> str:
        return f"club:{self.uid}"

    def is_admin(self, user) -> bool:
        return bool(getattr(user, "pk", None)) and self.admins.filter(pk=user.pk).exists()

    def current_rules(self) -> RuleVersion | None:
        return self.rule_versions.order_by("-version").first()


class RuleVersion(models.Model):
    """One published version of a club's rules. Never edited: a change is a new version."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    club = models.ForeignKey(Club, on_delete=models.CASCADE, related_name="rule_versions")
    version = models.PositiveIntegerField()
    contribute_categories = models.JSONField()
    consume_categories = models.JSONField()
    # Reciprocity: consuming a category needs >= min_count contributions in it within period_days.
    reciprocity_min_count = models.PositiveIntegerField(default=1)
    reciprocity_period_days = models.PositiveIntegerField(default=90)
    # Observations one member may contribute per day (0 = no limit).
    daily_contribution_quota = models.PositiveIntegerField(default=0)
    # Value of a club read: the reader pays this per observation contributed by another
    # member; the person gets person_share_percent of it, its contributor the rest.
    price_per_item = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    person_share_percent = models.PositiveIntegerField(default=50)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(auto_now_add=True)
    ledger_entry_id = models.CharField(max_length=80, blank=True, default="")

    class Meta:
        ordering = ["club", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["club", "version"], name="club_rule_version_unique"),
            models.CheckConstraint(condition=Q(version__gte=1), name="club_rule_version_positive"),
            models.CheckConstraint(condition=Q(reciprocity_period_days__gte=1), name="club_rule_period_positive"),
            models.CheckConstraint(condition=Q(price_per_item__gte=0), name="club_rule_price_not_negative"),
            models.CheckConstraint(condition=Q(person_share_percent__lte=100), name="club_rule_share_at_most_all"),
        ]

    def as_document(self) -> dict:
        """The rules as published on the ledger (integers and strings only)."""
        return {
            "version": self.version,
            "contribute_categories": sorted(self.contribute_categories),
            "consume_categories": sorted(self.consume_categories),
            "reciprocity": {"min_count": self.reciprocity_min_count, "period_days": self.reciprocity_period_days},
            "quotas": {"daily_contributions": self.daily_contribution_quota},
            "value": {
                "price_per_item": f"{self.price_per_item:.2f}",
                "person_share_percent": self.person_share_percent,
            },
        }

    def allows_contribution(self, category: str) -> bool:
        return category in self.contribute_categories

    def allows_consumption(self, category: str) -> bool:
        return category in self.consume_categories


class Standing(models.TextChoices):
    GOOD = "good", "In good standing"
    WARNED = "warned", "Warned"
    SUSPENDED = "suspended", "Suspended"
    EXPELLED = "expelled", "Expelled"


class Membership(models.Model):
    """A partner firm's membership of a club, admitted by a club admin."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    club = models.ForeignKey(Club, on_delete=models.CASCADE, related_name="memberships")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="club_memberships")
    standing = models.CharField(max_length=10, choices=Standing.choices, default=Standing.GOOD)
    # Whether readers of the club view see this firm's name on its contributions.
    reveal_name = models.BooleanField(default=False)
    admitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    admitted_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["club", "partner"], name="club_membership_unique")]

    def __str__(self) -> str:
        return f"{self.partner} in {self.club} ({self.standing})"

    @property
    def may_act(self) -> bool:
        return self.standing in (Standing.GOOD, Standing.WARNED)


class Sanction(models.Model):
    """A change of a member's standing, with its reason; every one is on the ledger."""

    class Reason(models.TextChoices):
        QUOTA_ABUSE = "quota_abuse", "Abused the quotas"
        FALSE_CONTRIBUTIONS = "false_contributions", "Contributed false observations"
        RULE_BREACH = "rule_breach", "Broke the club rules"
        REINSTATED = "reinstated", "Reinstated"
        OTHER = "other", "Other"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="sanctions")
    standing = models.CharField(max_length=10, choices=Standing.choices)
    reason_code = models.CharField(max_length=30, choices=Reason.choices)
    # The admin's words about the firm; only their hash goes on the public ledger.
    reason_text = models.CharField(max_length=500)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)
    ledger_entry_id = models.CharField(max_length=80, blank=True, default="")

    class Meta:
        ordering = ["-decided_at"]


class ContributionTally(models.Model):
    """How many observations a member contributed in a category on one day (reciprocity
    and quotas). No person in it. A person deleting an observation does not lower the
    tally: the member did contribute it (a trade-off accepted on purpose)."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="tallies")
    category = models.CharField(max_length=60)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "category", "day"], name="club_tally_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.category} {date.isoformat(self.day)}: {self.count}"


class Observation(SealedRecord):
    """Sealed ``{"category", "kind", "label"}``; the time is in clear for range queries.

    A member's observation about the person, now her data: ``source`` is
    ``"partner:<uid>"`` of the contributor; she can delete it at any time.
    """

    RECORD_TYPE = "club_observation"
    KINDS = ("purchase", "product_interest", "life_event")

    club = models.ForeignKey(Club, on_delete=models.CASCADE, related_name="observations")
    contributor = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="observations")
    observed_at = models.DateTimeField()

    class Meta(SealedRecord.Meta):
        ordering = ["-observed_at"]
        indexes = [models.Index(fields=["owner", "club", "observed_at"])]
