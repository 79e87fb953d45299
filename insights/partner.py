"""The partner's read of a person's interests, under the broker's consent rules.

Same order as the broker's data endpoints (``broker.access``): state, expiry, scope and
frequency checks -> the shareable selector -> access log and value entry (re-checked
under the consent's row lock) together with the disclosure record, in one transaction.
A refused read is logged as denied and re-raised. Used by the API view and the demo.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from broker import access
from broker.errors import BrokerError
from insights import selectors, services
from insights.errors import InsightsError, InvalidLimit
from vault.selectors import pairwise_pseudonym

SCOPE = "insights.interests:read"


def serve_interests(*, consent, limit: int, now: datetime) -> dict[str, Any]:
    try:
        scope = access.check(consent=consent, scopes=[SCOPE], start=consent.data_from, end=consent.data_to, now=now)
        if not 1 <= limit <= selectors.MAX_LIMIT:
            raise InvalidLimit()
        person = consent.person
        window = {"now": now, "data_from": consent.data_from, "data_to": consent.data_to}
        interests = selectors.shareable_interests(person, limit=limit, **window)
        with transaction.atomic():
            entry = access.record_allowed(consent=consent, scope=scope, record_count=len(interests), now=now)
            services.record_disclosure(
                person=person, partner_uid=consent.partner.uid, interests=interests, access_log_uid=entry.uid, at=now
            )
    except (BrokerError, InsightsError) as error:
        access.record_denied(consent=consent, scope=SCOPE, error=error, now=now)
        raise
    return {
        "subject": pairwise_pseudonym(person, consent.partner.audience),
        "consent": str(consent.uid),
        "scope": scope,
        "as_of": selectors.as_of(now=now, data_to=consent.data_to),
        "interests": interests,
    }
