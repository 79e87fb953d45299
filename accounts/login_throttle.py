"""Slowing down password guessing: failed logins counted per username and per address.

Only failures count (a person who types her password right is never slowed), over the
fixed windows of ``RATE_LIMITS["LOGIN_PER_USERNAME"]`` and ``["LOGIN_PER_IP"]``. Once
either count reaches its limit, every login attempt for that username or from that
address is refused with 429 until the window ends, right password or not, so a guesser
gets a handful of tries per window instead of thousands. The username is a counter key
only (hashed into the cache key, never logged).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from config.ratelimit import client_ip, hit, peek


def _counters(request: HttpRequest) -> list[tuple[str, str, str]]:
    """(group, counted value, rate) for each counter this attempt falls under."""
    limits = settings.RATE_LIMITS
    counters = [("login:ip", client_ip(request), limits.get("LOGIN_PER_IP"))]
    username = request.POST.get("username", "").strip().lower()[:150]
    if username:
        counters.append(("login:username", username, limits.get("LOGIN_PER_USERNAME")))
    return counters


def retry_after(request: HttpRequest) -> int | None:
    """Seconds to wait when this attempt must be refused unseen, else None."""
    waits = []
    for group, value, rate in _counters(request):
        usage = peek(request, group=group, value=value, rate=rate)
        if usage is not None and usage.exhausted:
            waits.append(usage.retry_after)
    return max(waits) if waits else None


def count_failure(request: HttpRequest) -> None:
    for group, value, rate in _counters(request):
        hit(request, group=group, value=value, rate=rate)
