"""The broker's records: partners, consents (the artefact a person agrees to), the links
between OAuth tokens and consents, the access log, the webhook outbox and idempotency.

django-oauth-toolkit's models are NOT swapped: a consent is tied to the tokens issued
under it by ``AuthorizationCode`` (code hash -> consent, and the refresh-token family
the code started) and ``TokenBinding`` (access token -> consent), written by the
validator hooks in ``broker/oauth.py``.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from oauth2_provider.models import AccessToken, Application

from broker.catalogue import PURPOSES, SCOPES
from vault.keys import create_vault_key, keys_for_uid

WEBHOOK_SIGNING_RECORD = "partner.webhook_secret"


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class Partner(models.Model):
    """A firm that asks people for data. Its OAuth clients are ``PartnerClient`` rows."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120, unique=True)
    webhook_url = models.URLField(blank=True, default="")
    # The HMAC key of its webhook deliveries, sealed with the partner's own data key in the
    # key store, as a person's records are: a copy of this database alone can neither read
    # it nor forge a delivery, and a master-key rotation rewraps it with everything else.
    sealed_webhook_secret = models.BinaryField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.sealed_webhook_secret:
            self.seal_webhook_secret(new_webhook_secret())
        super().save(*args, **kwargs)

    @property
    def webhook_secret(self) -> str:
        """The signing secret, opened (one read of the key store)."""
        blob = bytes(self.sealed_webhook_secret)
        return keys_for_uid(self.uid).unseal_raw(WEBHOOK_SIGNING_RECORD, self.uid, blob).decode()

    def seal_webhook_secret(self, secret: str) -> None:
        """Set the signing secret (sealed; saved by the caller)."""
        create_vault_key(self.uid)
        self.sealed_webhook_secret = keys_for_uid(self.uid).seal_raw(WEBHOOK_SIGNING_RECORD, self.uid, secret.encode())

    @property
    def audience(self) -> str:
        """The audience string of this partner's pairwise pseudonyms and ledger ids."""
        return f"partner:{self.uid}"


class PartnerMembership(models.Model):
    """A staff account (role ``partner_staff``) working for a partner."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner", "user"], name="partner_membership_unique")]


class PartnerClient(models.Model):
    """An OAuth2 confidential client (django-oauth-toolkit Application) owned by a partner."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="clients")
    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="partner_client")
    created_at = models.DateTimeField(auto_now_add=True)


class Consent(models.Model):
    """The consent artefact (modelled on the Account Aggregator ConsentDetail).

    The partner creates it in state ``requested`` with all terms; the person approves
    (``active``) or rejects it on Eidetic's consent screen. Once it leaves ``requested``
    its terms never change (``save`` refuses): a change is a new consent.
    """

    class State(models.TextChoices):
        REQUESTED = "requested", "Requested"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"
        REJECTED = "rejected", "Rejected"

    class FrequencyUnit(models.TextChoices):
        HOUR = "HOUR", "per hour"
        DAY = "DAY", "per day"
        MONTH = "MONTH", "per month"

    class DataLifeUnit(models.TextChoices):
        DAY = "DAY", "days"
        MONTH = "MONTH", "months"
        YEAR = "YEAR", "years"
        INF = "INF", "indefinitely"

    class PriceBasis(models.TextChoices):
        NONE = "none", "nothing"
        PER_ACCESS = "per_access", "per access"
        PER_MONTH = "per_month", "per month"

    FREQUENCY_WINDOWS = {
        FrequencyUnit.HOUR: timedelta(hours=1),
        FrequencyUnit.DAY: timedelta(days=1),
        FrequencyUnit.MONTH: timedelta(days=30),
    }
    TERMS = (
        "partner_id",
        "application_id",
        "scopes",
        "purpose_code",
        "purpose_text",
        "data_from",
        "data_to",
        "frequency_value",
        "frequency_unit",
        "data_life_value",
        "data_life_unit",
        "valid_from",
        "expires_at",
        "price_amount",
        "price_basis",
    )

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="consents")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="+")
    # Set when the person answers the request (approve or reject).
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="consents"
    )
    scopes = models.JSONField()
    purpose_code = models.CharField(max_length=60)
    purpose_text = models.CharField(max_length=500)
    data_from = models.DateTimeField()
    data_to = models.DateTimeField()
    frequency_value = models.PositiveIntegerField()
    frequency_unit = models.CharField(max_length=5, choices=FrequencyUnit.choices)
    data_life_value = models.PositiveIntegerField(default=0)
    data_life_unit = models.CharField(max_length=5, choices=DataLifeUnit.choices)
    valid_from = models.DateTimeField()
    expires_at = models.DateTimeField()
    price_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    price_basis = models.CharField(max_length=10, choices=PriceBasis.choices, default=PriceBasis.NONE)

    # A request sent to one named person (a club introduction): only she may answer it.
    # None: any person the partner sends to the consent screen (the usual OAuth flow).
    addressee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.REQUESTED)
    state_changed_at = models.DateTimeField(auto_now_add=True)
    granted_at = models.DateTimeField(null=True, blank=True)
    # The id of the `consent.granted` ledger entry: the person's receipt.
    receipt_entry_id = models.CharField(max_length=80, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["person", "state"]), models.Index(fields=["state", "expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="requested") | Q(person__isnull=False), name="consent_answered_has_person"
            ),
            models.CheckConstraint(condition=Q(data_from__lt=models.F("data_to")), name="consent_data_range_order"),
            models.CheckConstraint(condition=Q(valid_from__lt=models.F("expires_at")), name="consent_validity_order"),
            models.CheckConstraint(condition=Q(frequency_value__gte=1), name="consent_frequency_positive"),
            models.CheckConstraint(condition=Q(price_amount__gte=0), name="consent_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"consent {self.uid} ({self.state})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            self._refuse_changed_terms(kwargs.get("update_fields"))
        super().save(*args, **kwargs)

    def _refuse_changed_terms(self, update_fields) -> None:
        """What the person agreed to is immutable: only state bookkeeping may be written."""
        stored = Consent.objects.filter(pk=self.pk).values("state", *self.TERMS).first()
        if stored is None or stored["state"] == self.State.REQUESTED:
            return
        fields = self.TERMS if update_fields is None else [f for f in update_fields if f in self.TERMS]
        changed = [field for field in fields if getattr(self, field) != stored[field]]
        if changed:
            from broker.errors import ConsentTermsImmutable

            raise ConsentTermsImmutable()

    # --- rules about one consent -------------------------------------------------------

    def covers(self, scope: str) -> bool:
        return scope in self.scopes

    def may_be_answered_by(self, person) -> bool:
        return self.addressee_id is None or self.addressee_id == person.pk

    @property
    def request_lapses_at(self) -> datetime:
        """When an unanswered request can no longer be granted: after REQUEST_TTL_DAYS,
        or at the consent's expiry if that comes first."""
        ttl = timedelta(days=settings.BROKER["REQUEST_TTL_DAYS"])
        return min(self.created_at + ttl, self.expires_at)

    def is_expired_at(self, when: datetime) -> bool:
        return when >= self.expires_at

    def is_active_at(self, when: datetime) -> bool:
        return self.state == self.State.ACTIVE and self.valid_from <= when < self.expires_at

    def range_covers(self, start: datetime, end: datetime) -> bool:
        return self.data_from <= start < end <= self.data_to

    @property
    def frequency_window(self) -> timedelta:
        return self.FREQUENCY_WINDOWS[self.frequency_unit]

    @property
    def is_priced(self) -> bool:
        return self.price_basis != self.PriceBasis.NONE and self.price_amount > 0

    @property
    def purpose(self):
        return PURPOSES.get(self.purpose_code)

    def scope_descriptions(self) -> list[dict[str, str]]:
        return [{"name": name, "description": SCOPES[name].description} for name in self.scopes if name in SCOPES]


class ConsentEvent(models.Model):
    """One status change of a consent: the timeline shown to the person and the partner."""

    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="events")
    state = models.CharField(max_length=10, choices=Consent.State.choices)
    # "person", "partner" or "eidetic" (the expiry task): a role, never a name.
    actor = models.CharField(max_length=20)
    ledger_entry_id = models.CharField(max_length=80, blank=True, default="")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]


class AuthorizationCode(models.Model):
    """An authorization code issued under a consent, remembered after its use so that a
    replay can be recognised and the tokens issued from it revoked (RFC 6749 §4.1.2)."""

    code_hash = models.CharField(max_length=64, unique=True)
    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="authorization_codes")
    token_family = models.UUIDField(null=True, blank=True, unique=True)
    redeemed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class TokenBinding(models.Model):
    """Which consent an access token was issued under (one lookup per API call)."""

    access_token = models.OneToOneField(AccessToken, on_delete=models.CASCADE, related_name="consent_binding")
    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="token_bindings")
    code = models.ForeignKey(AuthorizationCode, on_delete=models.CASCADE, related_name="token_bindings")


class AccessLogEntry(models.Model):
    """One partner call, allowed or denied. Holds ids, codes and counts: no personal data."""

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", "Allowed"
        DENIED = "denied", "Denied"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="access_log")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="access_log")
    purpose_code = models.CharField(max_length=60)
    scope = models.CharField(max_length=60)
    record_count = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error_code = models.CharField(max_length=40, blank=True, default="")
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["consent", "outcome", "at"]),
            models.Index(fields=["person", "at"]),
        ]


class WebhookDelivery(models.Model):
    """The outbox: one event for one partner, written in the transaction of the change it
    reports; delivered at least once by ``broker.tasks`` (event id for de-duplication)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Gave up"

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="webhook_deliveries")
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]


class IdempotencyRecord(models.Model):
    """The first response to a POST carrying an Idempotency-Key, replayed on a retry."""

    # Whose key it is ("user:<uid>" or "client:<client_id>"): keys are per caller.
    owner = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique")]
