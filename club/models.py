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
    # Club-view reads one member may make per UTC day (0 = no limit beyond each consent's frequency).
    daily_read_quota = models.PositiveIntegerField(default=0)
    # Segment statistics (club/segments.py): cells of fewer than k people are never released;
    # each query spends epsilon of the member's budget per period (differential privacy).
    segment_min_people = models.PositiveIntegerField(default=10)
    segment_epsilon_per_query = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("0.5"))
    segment_budget_per_period = models.DecimalField(max_digits=8, decimal_places=3, default=Decimal("5"))
    segment_budget_period_days = models.PositiveIntegerField(default=30)
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
            models.CheckConstraint(condition=Q(segment_min_people__gte=2), name="club_rule_k_at_least_two"),
            models.CheckConstraint(condition=Q(segment_epsilon_per_query__gt=0), name="club_rule_epsilon_positive"),
            models.CheckConstraint(condition=Q(segment_budget_period_days__gte=1), name="club_rule_budget_period"),
        ]

    def as_document(self) -> dict:
        """The rules as published on the ledger (integers and strings only)."""
        return {
            "version": self.version,
            "contribute_categories": sorted(self.contribute_categories),
            "consume_categories": sorted(self.consume_categories),
            "reciprocity": {"min_count": self.reciprocity_min_count, "period_days": self.reciprocity_period_days},
            "quotas": {"daily_contributions": self.daily_contribution_quota, "daily_reads": self.daily_read_quota},
            "value": {
                "price_per_item": f"{self.price_per_item:.2f}",
                "person_share_percent": self.person_share_percent,
            },
            "segments": {
                "min_people": self.segment_min_people,
                "epsilon_per_query": f"{self.segment_epsilon_per_query:.3f}",
                "budget_per_period": f"{self.segment_budget_per_period:.3f}",
                "budget_period_days": self.segment_budget_period_days,
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


# --- segment statistics (club/segments.py) ------------------------------------------------


class SegmentEnrolment(models.Model):
    """A person counted in the club's segment statistics under one consent (scope
    ``club.segments:aggregate``) to one member. Nothing here names her: the consent is
    a server-keyed tag of its uid (``segments.consent_tag``) and she is her per-club
    pseudonym, computable only with her key. Kept in step with the consent by
    ``segments.sync`` (a revoked, paused or erased consent stops counting at the next
    query; expiry is checked in SQL through ``counted_until``)."""

    club = models.ForeignKey(Club, on_delete=models.CASCADE, related_name="segment_enrolments")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    consent_tag = models.CharField(max_length=64)
    pseudonym = models.CharField(max_length=32)
    counted_from = models.DateTimeField()
    counted_until = models.DateTimeField()
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["club", "consent_tag"], name="club_enrolment_unique_consent"),
        ]
        indexes = [
            models.Index(fields=["club", "pseudonym"]),
            models.Index(fields=["club", "active", "counted_until"]),
        ]


class SegmentFact(models.Model):
    """One person (per-club pseudonym) seen in a category in a week, in a coarse cell
    (``""`` when no observation that week carried a place). What is in clear on purpose,
    so that SQL can count: category code, ISO week (its Monday), ~10 km cell id. No
    label, no precise time or place, no link to an observation or to the person."""

    club = models.ForeignKey(Club, on_delete=models.CASCADE, related_name="segment_facts")
    pseudonym = models.CharField(max_length=32)
    category = models.CharField(max_length=60)
    week = models.DateField()
    cell = models.CharField(max_length=24, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["club", "pseudonym", "week", "category"], name="club_fact_unique"),
        ]
        indexes = [models.Index(fields=["club", "week", "category"])]


class SegmentSync(models.Model):
    """How far ``segments.sync`` has followed the consents of a club's members."""

    club = models.OneToOneField(Club, on_delete=models.CASCADE, related_name="segment_sync")
    synced_at = models.DateTimeField()


class Violation(models.Model):
    """A member's calls refused for going past the club's rules or its sanction, per rule
    and UTC day. The first of each day goes on the ledger (``club.rule.violated``); the
    rest only raise ``count`` (the broker's access log has every call)."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="violations")
    rule = models.CharField(max_length=40)  # the refusal's error code, e.g. ReciprocityRequired
    day = models.DateField()
    count = models.PositiveIntegerField(default=1)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    ledger_entry_id = models.CharField(max_length=80, blank=True, default="")

    class Meta:
        ordering = ["-day", "rule"]
        constraints = [models.UniqueConstraint(fields=["membership", "rule", "day"], name="club_violation_per_day")]


class BudgetCharge(models.Model):
    """Privacy budget (epsilon) a member spent on one segment query or introduction.
    Also on the ledger as ``club.budget.charged``."""

    class Use(models.TextChoices):
        SEGMENTS = "segments", "Segment query"
        INTRODUCTION = "introduction", "Introduction"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="budget_charges")
    use = models.CharField(max_length=12, choices=Use.choices)
    epsilon = models.DecimalField(max_digits=6, decimal_places=3)
    period_start = models.DateTimeField()
    at = models.DateTimeField()
    ledger_entry_id = models.CharField(max_length=80, blank=True, default="")

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["membership", "period_start"])]
        constraints = [models.CheckConstraint(condition=Q(epsilon__gt=0), name="club_charge_epsilon_positive")]


# --- introductions (club/introductions.py) ---------------------------------------------


class IntroductionBatch(models.Model):
    """A member's request to be introduced to the people of a segment. The segment itself
    is not stored (it would say what each addressee bought): only how many were asked."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    club = models.ForeignKey(Club, on_delete=models.CASCADE, related_name="introduction_batches")
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="introduction_batches")
    requests_sent = models.PositiveIntegerField(default=0)  # the club's own record, never shown to the member
    # What the member (and the ledger) are told: the count with Laplace noise, so that two
    # introductions cannot be subtracted to an exact count of a segment.
    requests_sent_approx = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    ledger_entry_id = models.CharField(max_length=80, blank=True, default="")


class Introduction(models.Model):
    """A consent request the club sent to one person on a member's behalf; she answers it
    on the broker's consent screen, reached from her portal. Until she approves, the
    member knows nothing of her (not even this row)."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    batch = models.ForeignKey(IntroductionBatch, on_delete=models.CASCADE, related_name="introductions")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="club_introductions")
    consent = models.OneToOneField("broker.Consent", on_delete=models.CASCADE, related_name="club_introduction")
    # The member's OAuth parameters for the authorize link (redirect URI, PKCE challenge, state).
    authorize = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class SegmentCount(models.Model):
    """People per (category, cell, week): the roll-up of ``SegmentFact`` that segment
    queries read, kept in step by ``segments.facts_refresh`` (+1/-1 per fact) so that a
    query reads at most one row per cell instead of one per person."""

    club = models.ForeignKey(Club, on_delete=models.CASCADE, related_name="segment_counts")
    category = models.CharField(max_length=60)
    week = models.DateField()
    cell = models.CharField(max_length=24, blank=True, default="")
    people = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["club", "week", "category", "cell"], name="club_count_unique"),
            models.CheckConstraint(condition=Q(people__gte=0), name="club_count_not_negative"),
        ]
