"""The partner's read path: which consent a token stands for, whether this call is
allowed under it, and the record of the call (access log, and value on the ledger).

Order of a read (``broker.api.data``): ``consent_for_token`` -> ``check`` (state,
expiry, scope, range, frequency) -> the vault selectors open the records ->
``record_allowed`` re-checks state and frequency under a row lock and writes the log
entry and the ledger entry in one short transaction. A refused call is recorded by
``record_denied``. Reading before the locked write keeps the lock short; the re-check
makes sure nothing is returned if the consent changed meanwhile.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken

from broker.errors import (
    STATE_ERRORS,
    BrokerError,
    ConsentExpired,
    ConsentNotActive,
    ConsentRevoked,
    FrequencyExceeded,
    InvalidDateRange,
    ScopeNotGranted,
    TokenNotBound,
)
from broker.models import AccessLogEntry, Consent, TokenBinding
from config import prepared
from config.prepared import PreparedQuery
from ledger import services as ledger_services
from vault.keys import PersonKeys
from vault.selectors import ledger_pseudonym

Outcome = AccessLogEntry.Outcome

# The read path's own queries, compiled once (config.prepared): only their values change.
_allowed_reads_since = PreparedQuery(
    lambda consent, since, offset, count: (
        AccessLogEntry.objects.filter(consent_id=consent, outcome=Outcome.ALLOWED, at__gt=since)
        .order_by("-at")
        .values_list("at")[offset : offset + count]
    ),
    consent=AccessLogEntry._meta.get_field("consent"),
    since=AccessLogEntry._meta.get_field("at"),
)
_consent_state = PreparedQuery(
    lambda pk, lock: (
        Consent.objects.filter(pk=pk).select_for_update(of=("self",)) if lock else Consent.objects.filter(pk=pk)
    ).values_list("state"),
    pk=Consent._meta.get_field("id"),
)


def clock() -> datetime:
    """The clock of the read path (one place, so boundary tests can set it)."""
    return timezone.now()


def consent_for_token(access_token) -> Consent:
    """The consent an access token was issued under; ``TokenNotBound`` otherwise."""
    if access_token is not None and AccessToken.consent_binding.is_cached(access_token):
        # Joined by broker.oauth.ConsentValidator when it loaded the token: no query.
        binding = getattr(access_token, "consent_binding", None)
        if binding is None:
            raise TokenNotBound()
        return binding.consent
    binding = (
        TokenBinding.objects.select_related("consent__partner", "consent__person")
        .filter(access_token_id=getattr(access_token, "pk", None))
        .first()
    )
    if binding is None:
        raise TokenNotBound()
    return binding.consent


def check_state(consent: Consent, now: datetime) -> None:
    if consent.person.is_erased:
        # Her key is shredded: nothing of hers can be opened, and her consents end with her.
        raise ConsentRevoked("The person has left Eidetic.")
    if consent.state in STATE_ERRORS:
        raise STATE_ERRORS[consent.state]()
    if consent.is_expired_at(now):
        raise ConsentExpired()
    if not consent.is_active_at(now):
        raise ConsentNotActive()


def check(*, consent: Consent, scopes: list[str], start: datetime, end: datetime, now: datetime) -> str:
    """Every rule of a read, in the order a partner can fix them. Returns the scope used
    (the first of ``scopes`` the consent covers, e.g. precise before coarse)."""
    check_state(consent, now)
    scope = next((name for name in scopes if consent.covers(name)), None)
    if scope is None:
        raise ScopeNotGranted()
    if not consent.range_covers(start, end):
        raise InvalidDateRange()
    check_frequency(consent, now)
    return scope


def check_frequency(consent: Consent, now: datetime) -> None:
    """At most N allowed reads in any sliding window of the consent's unit.

    Remembers on ``consent`` whether this read comes within FREQUENCY_LOCK_MARGIN of the
    limit, so that ``record_allowed`` at the same ``now`` knows without asking again."""
    nth, near_limit = _frequency_position(consent, now)
    consent._near_limit_at = (now, near_limit)
    if nth is not None:
        # The call becomes possible when that read leaves the window.
        frees_at = nth + consent.frequency_window
        retry_after = max(1, math.ceil((frees_at - now).total_seconds()))
        raise FrequencyExceeded(headers={"Retry-After": str(retry_after)})


def _frequency_position(consent: Consent, now: datetime) -> tuple[datetime | None, bool]:
    """One indexed query for both frequency questions: the time of the N-th most recent
    allowed read in the window (None: the limit is not reached), and whether at least
    N - margin reads are in the window (this read is near the limit)."""
    window_start = now - consent.frequency_window
    limit = consent.frequency_value
    threshold = max(1, limit - settings.BROKER["FREQUENCY_LOCK_MARGIN"])
    # The threshold-th .. N-th most recent reads: at most margin + 1 rows.
    rows = _allowed_reads_since.rows(
        consent=consent.pk, since=window_start, shape={"offset": threshold - 1, "count": limit - threshold + 1}
    )
    found = [at for (at,) in rows]
    nth = found[-1] if len(found) == limit - threshold + 1 else None
    return nth, bool(found) and threshold < limit


def price_of_access(consent: Consent, now: datetime) -> Decimal:
    """What this allowed read earns the person: the price per access, or the monthly
    price on the first read of each calendar month."""
    if not consent.is_priced:
        return Decimal("0")
    if consent.price_basis == Consent.PriceBasis.PER_ACCESS:
        return consent.price_amount
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    already = AccessLogEntry.objects.filter(consent=consent, at__gte=month_start, amount__gt=0).exists()
    return Decimal("0") if already else consent.price_amount


def _always_locks(consent: Consent) -> bool:
    """Consents every read of which takes the row lock: a limit within the margin, or a
    monthly price (the first paid read of a month must be exactly one)."""
    margin = settings.BROKER["FREQUENCY_LOCK_MARGIN"]
    return consent.frequency_value <= margin or consent.price_basis == Consent.PriceBasis.PER_MONTH


def _needs_lock(consent: Consent, now: datetime) -> bool:
    """Whether this read could be the one that crosses the frequency limit (or the first
    paid read of a month). Only such reads take the consent's row lock: far from the
    limit, concurrent reads of one consent must not queue behind each other's commits.
    Exact as long as fewer than FREQUENCY_LOCK_MARGIN reads of one consent are in flight
    at once (a trade-off accepted on purpose; the margin is a setting). Known from
    ``check_frequency`` at the same ``now`` without a query; asked otherwise."""
    if _always_locks(consent):
        return True
    remembered = getattr(consent, "_near_limit_at", None)
    if remembered is not None and remembered[0] == now:
        return remembered[1]
    return _frequency_position(consent, now)[1]


def _current_state(consent: Consent, *, lock: bool) -> str:
    """The consent's state as committed now (its terms never change once granted),
    under its row lock when ``lock``."""
    rows = _consent_state.rows(pk=consent.pk, shape={"lock": lock})
    if not rows:
        raise Consent.DoesNotExist()
    return rows[0][0]


def record_allowed(
    *,
    consent: Consent,
    scope: str,
    record_count: int,
    now: datetime | None = None,
    keys: PersonKeys | None = None,
) -> AccessLogEntry:
    """Log the read and pay for it, after re-checking state (and, near the limit, the
    frequency under the consent's row lock), in one short transaction.

    Anything that can run before the transaction (the person's ledger id, a read of the
    key store) does, to keep concurrent reads of one consent flowing. ``keys``: the
    person's keys when the caller already read them for this call.
    """
    now = now or clock()
    person_id = ""
    if consent.is_priced:
        person_id = f"person:{keys.pseudonym('ledger') if keys else ledger_pseudonym(consent.person)}"
    needs_lock = _needs_lock(consent, now)
    with transaction.atomic():
        # Re-check what may have changed since ``check`` (a pause or revoke meanwhile).
        consent.state = _current_state(consent, lock=needs_lock)
        check_state(consent, now)
        if needs_lock:
            check_frequency(consent, now)
        # Otherwise ``check`` has just counted fewer than (limit - margin) allowed reads
        # in the window, which already proves this read is within the limit.
        amount = price_of_access(consent, now)
        entry = prepared.insert(
            AccessLogEntry(
                consent=consent,
                person=consent.person,
                partner=consent.partner,
                purpose_code=consent.purpose_code,
                scope=scope,
                record_count=record_count,
                outcome=Outcome.ALLOWED,
                amount=amount,
                at=now,
            )
        )
        if amount > 0:
            ledger_services.append(
                kind="value.transferred",
                actor=f"partner:{consent.partner.uid}",
                subject=person_id,
                body={
                    "from": f"partner:{consent.partner.uid}",
                    "to": person_id,
                    "amount": f"{amount:.2f}",
                    "currency": "credits",
                    "consent": str(consent.uid),
                },
            )
    return entry


def record_denied(*, consent: Consent, scope: str, error: BrokerError, now: datetime | None = None) -> AccessLogEntry:
    return AccessLogEntry.objects.create(
        consent=consent,
        person=consent.person,
        partner=consent.partner,
        purpose_code=consent.purpose_code,
        scope=scope,
        record_count=0,
        outcome=Outcome.DENIED,
        error_code=error.code,
        at=now or clock(),
    )
