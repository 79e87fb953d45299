from __future__ import annotations

from django.contrib import admin
from django.db import models

from broker.models import AccessLogEntry, Consent, Partner, WebhookDelivery


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    # The sealed webhook secret is not editable, so the form never shows it.
    list_display = ("name", "uid", "webhook_url", "created_at")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # webhooks are https


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    # Terms are immutable once answered; the admin only looks.
    list_display = ("uid", "partner", "state", "purpose_code", "expires_at")
    list_filter = ("state", "partner")
    readonly_fields = [field.name for field in Consent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "partner", "scope", "outcome", "error_code", "record_count", "amount")
    list_filter = ("outcome", "partner")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("event_id", "partner", "event_type", "status", "attempts", "next_attempt_at")
    list_filter = ("status",)
