"""Template helpers of the broker's pages: plain-language terms and state badges."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import timezone

from broker import charts, portal_queries
from broker.catalogue import PURPOSES, SCOPES
from broker.models import Consent

register = template.Library()

State = Consent.State

# Badge colours come from the portal's stylesheet (status-done / -pending / -failed).
STATE_BADGES = {
    State.REQUESTED: "status-pending",
    State.ACTIVE: "status-done",
    State.PAUSED: "status-pending",
    State.REVOKED: "status-failed",
    State.EXPIRED: "status-failed",
    State.REJECTED: "status-failed",
}

STATE_HINTS = {
    State.REQUESTED: "waiting for an answer",
    State.ACTIVE: "the partner may read what you agreed to",
    State.PAUSED: "nothing can be read until you resume",
    State.REVOKED: "ended by you, for good",
    State.EXPIRED: "ended on its expiry date",
    State.REJECTED: "you said no",
}


@register.filter
def state_badge(state: str) -> str:
    return STATE_BADGES.get(state, "")


@register.filter
def state_hint(state: str) -> str:
    return STATE_HINTS.get(state, "")


@register.filter
def scope_text(name: str) -> str:
    scope = SCOPES.get(name)
    return scope.description if scope else name


@register.filter
def purpose_title(code: str) -> str:
    purpose = PURPOSES.get(code)
    return purpose.title if purpose else code


@register.filter
def credits(amount: Decimal | None) -> str:
    value = amount or Decimal("0")
    return f"{value:,.2f} credit{'' if value == 1 else 's'}"


@register.filter
def frequency_text(consent: Consent) -> str:
    times = "once" if consent.frequency_value == 1 else f"{consent.frequency_value} times"
    return f"{times} {consent.get_frequency_unit_display()}"


@register.filter
def data_life_text(consent: Consent) -> str:
    if consent.data_life_unit == Consent.DataLifeUnit.INF:
        return "for as long as they like"
    if consent.data_life_value == 0:
        return "not at all (they must delete it once used)"
    unit = consent.get_data_life_unit_display()  # "days", "months", "years"
    return f"for {consent.data_life_value} {unit[:-1] if consent.data_life_value == 1 else unit}"


@register.filter
def price_text(consent: Consent) -> str:
    if not consent.is_priced:
        return "Nothing"
    return f"{credits(consent.price_amount)} {consent.get_price_basis_display()}"


@register.inclusion_tag("broker/_summary.html")
def broker_summary(person) -> dict:
    months = charts.month_series(portal_queries.earnings_by_month(person=person), until=timezone.localdate(), limit=6)
    return {
        "summary": portal_queries.summary_of_person(person=person),
        "months": months,
        "chart": charts.earnings_chart(months, width=480, height=180, title="Credits earned, last months"),
    }
