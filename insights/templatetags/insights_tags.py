"""``{% top_interests as items %}``: her three strongest interests, for the dashboard panel."""

from __future__ import annotations

from typing import Any

from django import template

from insights import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def top_interests(context: dict[str, Any], limit: int = 3) -> list[dict[str, Any]]:
    user = context["request"].user
    if not getattr(user, "is_person", False):
        return []
    return selectors.interests_of(user)[:limit]
