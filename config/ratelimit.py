"""Rate limits: one counting engine for every limit, over the shared cache.

django-ratelimit's fixed windows count (``cache.add`` + atomic ``incr``; in production
the cache is Redis, so every web process shares the counters). On top of it:

- :class:`ClientRateThrottle`, the DRF default throttle: per OAuth application (bearer
  token or client credentials), else per signed-in user, else per client address, with
  the rates of ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` ("partner", "person", "anon");
- :class:`AddressRateThrottle`, per client address (the public auditor API);
- :func:`limited_view`, for plain Django views such as the OAuth token endpoint;
- :func:`peek` / :func:`hit`, for flows that count only failures (login).

Refusals are 429 with ``Retry-After``; API ones carry the house error body (code
``RateLimited``). If the cache cannot be reached the limits fail open
(``RATELIMIT_FAIL_OPEN``): serving without a limit beats refusing everyone.
A fixed window lets a client spend up to twice its rate across a window boundary; the
price of one atomic counter per request instead of a list of timestamps.
"""

from __future__ import annotations

import base64
import functools
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote_plus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_ratelimit.core import get_usage
from rest_framework.throttling import BaseThrottle

from config.api_errors import error_body

RATE_LIMITED_CODE = "RateLimited"


@dataclass(frozen=True)
class Usage:
    count: int
    limit: int
    retry_after: int  # seconds until the current window ends

    @property
    def exceeded(self) -> bool:
        """More requests than the limit were counted (the last one counted is refused)."""
        return self.count > self.limit

    @property
    def exhausted(self) -> bool:
        """The limit is used up: the next counted request would be refused."""
        return self.count >= self.limit


def client_ip(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or the entry ``RATE_LIMITS["TRUSTED_PROXIES"]``
    hops from the right of X-Forwarded-For (what our own proxies appended, not what the
    client wrote). IPv6 addresses count per /64, as one host usually holds a whole /64."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = int(settings.RATE_LIMITS.get("TRUSTED_PROXIES", 0))
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False).network_address)
    return str(parsed)


def _usage(request: HttpRequest, *, group: str, value: str, rate: str | None, increment: bool) -> Usage | None:
    if not rate:
        return None
    usage = get_usage(request, group=group, key=lambda _group, _request: value, rate=rate, increment=increment)
    if usage is None:  # limits disabled, or the cache is down and limits fail open
        return None
    return Usage(int(usage["count"]), int(usage["limit"]), max(int(usage["time_left"]), 1))


def hit(request: HttpRequest, *, group: str, value: str, rate: str | None) -> Usage | None:
    """Count one request of ``value`` in ``group``; None when there is no limit to apply."""
    return _usage(request, group=group, value=value, rate=rate, increment=True)


def peek(request: HttpRequest, *, group: str, value: str, rate: str | None) -> Usage | None:
    """The current count, without counting this request."""
    return _usage(request, group=group, value=value, rate=rate, increment=False)


def too_many_requests(retry_after: int, message: str = "Too many requests; try again later.") -> JsonResponse:
    response = JsonResponse(error_body(RATE_LIMITED_CODE, message), status=429)
    response["Retry-After"] = str(retry_after)
    return response


# --- DRF --------------------------------------------------------------------------------


def throttle_rate(scope: str) -> str | None:
    # Read per request, not at import as DRF's SimpleRateThrottle does, so settings changes apply.
    return settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get(scope)


class ClientRateThrottle(BaseThrottle):
    """Per OAuth application ("partner"), else per user ("person"), else per address ("anon")."""

    def allow_request(self, request, view) -> bool:
        scope, ident = self.identify(request)
        usage = hit(request, group=f"api:{scope}", value=ident, rate=throttle_rate(scope))
        self.retry_after = usage.retry_after if usage else None
        return usage is None or not usage.exceeded

    def wait(self) -> float | None:
        return self.retry_after

    def identify(self, request) -> tuple[str, str]:
        """(rate scope, who is counted). Called after authentication, as DRF throttles are."""
        # Bearer tokens (oauth2_provider AccessToken) and client credentials (PartnerClient)
        # both carry the OAuth application: a partner's limit is per client, not per person.
        application_id = getattr(request.auth, "application_id", None)
        if application_id is not None:
            return "partner", f"application:{application_id}"
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return "person", f"user:{user.pk}"
        return "anon", f"address:{client_ip(request)}"


class AddressRateThrottle(ClientRateThrottle):
    """Per client address, under the rate named by ``scope``."""

    scope = "anon"

    def identify(self, request) -> tuple[str, str]:
        return self.scope, f"address:{client_ip(request)}"


# --- plain Django views -------------------------------------------------------------------


def oauth_client_id(request: HttpRequest) -> str:
    """The client id of a token request (HTTP Basic, else the form field), else the address."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith("Basic "):
        try:
            return "client:" + unquote_plus(base64.b64decode(header[6:], validate=True).decode().split(":", 1)[0])
        except (ValueError, UnicodeDecodeError):
            pass  # malformed: the token endpoint refuses it; count it by address
    client_id = request.POST.get("client_id", "") if request.method == "POST" else ""
    return f"client:{client_id}" if client_id else f"address:{client_ip(request)}"


def limited_view(group: str, *, rate_setting: str, key: Callable[[HttpRequest], str]) -> Callable:
    """Decorator for a Django view: at most ``RATE_LIMITS[rate_setting]`` requests per ``key``."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            usage = hit(request, group=group, value=key(request), rate=settings.RATE_LIMITS.get(rate_setting))
            if usage is not None and usage.exceeded:
                return too_many_requests(usage.retry_after)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
