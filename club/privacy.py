"""The privacy mechanism of segment statistics: k-suppression, Laplace noise and the
per-member privacy budget.

Mechanism (documented in docs/club.md): a query counts people per (category, coarse
cell, week). One person adds at most 1 to at most ``sensitivity`` cells of a query
(``min(categories, MAX_CATEGORIES_PER_WEEK) x weeks``: facts are capped per person and
week, and each fact has one cell), so the L1 sensitivity of the whole answer is
``sensitivity`` and adding Laplace(sensitivity / epsilon) noise to every cell makes the
released counts epsilon-differentially private; the member's budget adds the epsilons
of its queries (sequential composition) and refuses a query once the period's budget
would be exceeded. On top of that, a cell is released only if its true count is at
least k AND its noisy count is at least k: nothing ever describes fewer than k people.
The true-count threshold is a k-anonymity rule the club promised, and strictly it costs
some of the pure epsilon-DP guarantee at the k boundary (a trade-off accepted on
purpose: the noisy threshold keeps the boundary random, see ``release``).

Noise comes from ``os.urandom`` (the OS CSPRNG ``secrets`` uses too), 53 random bits per draw; released counts
are rounded to integers (this also blurs the floating-point artefacts of textbook
Laplace sampling, though it is not a formal fix for them).
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Callable, Hashable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from club.errors import PrivacyBudgetExhausted
from club.models import BudgetCharge, Membership, RuleVersion
from ledger import services as ledger_services

BUDGET_EPOCH = datetime(2020, 1, 6, tzinfo=UTC)  # a Monday: periods start on fixed dates for everyone

Noise = Callable[[float, int], list[float]]  # (scale, how many draws) -> draws


def laplace(scale: float, count: int) -> list[float]:
    """``count`` draws of Laplace(0, scale), by inverting its distribution function on
    uniforms from the OS CSPRNG (53 random bits each, one system call for the batch:
    a query may release tens of thousands of cells)."""
    words = struct.unpack(f">{count}Q", os.urandom(8 * count))
    draws = []
    for word in words:
        u = ((word >> 11) + 0.5) / 2**53 - 0.5  # uniform in the open interval (-1/2, 1/2)
        draws.append(-scale * math.copysign(1.0, u) * math.log(1 - 2 * abs(u)))
    return draws


def release(
    counts: Iterable[tuple[Hashable, int]], *, k: int, scale: float, noise: Noise = laplace
) -> list[tuple[Hashable, int]]:
    """The cells that may be released, with noisy counts.

    A cell whose true count is below k is dropped before any noise is drawn; one whose
    noisy count falls below k is dropped too, so that a member cannot tell "exactly k"
    from "k - 1" by whether a cell appears (the boundary is random)."""
    eligible = [(key, people) for key, people in counts if people >= k]
    draws = noise(scale, len(eligible))
    released = []
    for (key, people), draw in zip(eligible, draws, strict=True):
        noisy = round(people + draw)
        if noisy >= k:
            released.append((key, noisy))
    return released


def budget_period(rules: RuleVersion, now: datetime) -> tuple[datetime, datetime]:
    """The budget period holding ``now``: fixed windows of ``segment_budget_period_days``."""
    length = timedelta(days=rules.segment_budget_period_days)
    index = (now - BUDGET_EPOCH) // length
    start = BUDGET_EPOCH + index * length
    return start, start + length


def budget_spent(*, membership: Membership, period_start: datetime) -> Decimal:
    rows = BudgetCharge.objects.filter(membership=membership, period_start=period_start)
    return rows.aggregate(total=Sum("epsilon"))["total"] or Decimal("0")


def budget_left(*, membership: Membership, rules: RuleVersion, now: datetime) -> Decimal:
    start, _ = budget_period(rules, now)
    return max(Decimal("0"), rules.segment_budget_per_period - budget_spent(membership=membership, period_start=start))


@transaction.atomic
def budget_charge(
    *, membership: Membership, rules: RuleVersion, epsilon: Decimal, use: str, now: datetime
) -> BudgetCharge:
    """Spend ``epsilon`` of the member's budget, or refuse (429 with Retry-After until the
    next period). Recorded on the ledger (public ids and numbers only) in the same
    transaction; call it before anything is released, inside the release's transaction."""
    # Serialise one member's charges so that two concurrent queries cannot overspend.
    Membership.objects.select_for_update().filter(pk=membership.pk).first()
    start, end = budget_period(rules, now)
    spent = budget_spent(membership=membership, period_start=start)
    if spent + epsilon > rules.segment_budget_per_period:
        retry_after = max(1, math.ceil((end - now).total_seconds()))
        raise PrivacyBudgetExhausted(
            f"This query needs epsilon {epsilon}; {rules.segment_budget_per_period - spent} is left "
            f"until {end.date().isoformat()}.",
            headers={"Retry-After": str(retry_after)},
        )
    charge = BudgetCharge.objects.create(membership=membership, use=use, epsilon=epsilon, period_start=start, at=now)
    entry_id = ledger_services.append(
        kind="club.budget.charged",
        actor=membership.partner.audience,
        subject=membership.club.ledger_id,
        body={
            "club": str(membership.club.uid),
            "membership": str(membership.uid),
            "charge": str(charge.uid),
            "use": use,
            "epsilon": f"{epsilon:.3f}",
            "period_start": start.isoformat(),
            "spent_in_period": f"{spent + epsilon:.3f}",
            "budget_per_period": f"{rules.segment_budget_per_period:.3f}",
        },
    )
    charge.ledger_entry_id = "" if entry_id is None else str(entry_id)
    charge.save(update_fields=["ledger_entry_id"])
    return charge
