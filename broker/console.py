"""Writes of the partner console that ``broker.services`` does not (yet) offer: the
partner's webhook settings. Clients are created with ``services.client_create``.

Kept apart from ``services.py`` only because another engineer owns that file; the
functions follow its conventions (keyword-only, typed, ``full_clean`` before save).
"""

from __future__ import annotations

from django.db import transaction

from broker.models import Partner, new_webhook_secret


@transaction.atomic
def webhook_secret_rotate(*, partner: Partner) -> str:
    """A new signing secret; deliveries signed from now on use it. Returns it."""
    locked = Partner.objects.select_for_update().get(pk=partner.pk)
    secret = new_webhook_secret()
    locked.seal_webhook_secret(secret)
    locked.save(update_fields=["sealed_webhook_secret", "updated_at"])
    partner.sealed_webhook_secret = locked.sealed_webhook_secret
    return secret


@transaction.atomic
def webhook_url_set(*, partner: Partner, url: str) -> Partner:
    """Where status changes are sent (empty: no webhooks). Must be https (or loopback
    http, checked by the form) so signed events never travel in clear."""
    locked = Partner.objects.select_for_update().get(pk=partner.pk)
    locked.webhook_url = url
    locked.full_clean()
    locked.save(update_fields=["webhook_url", "updated_at"])
    partner.webhook_url = locked.webhook_url
    return locked
