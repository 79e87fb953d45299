"""A dependency that is down (PostgreSQL restarting, Redis unreachable) is a 503 with
Retry-After, never a 500 with a traceback: the request may simply be tried again.

Used in the two places where errors become responses: ``config.api_errors`` (DRF views)
and ``config.error_views.server_error`` (everything else, middleware included). The answer
is JSON ``{"error": {"code": "ServiceUnavailable", ...}}`` for API paths and clients that
accept JSON, else a small HTML page that needs neither the database nor a session.
Broken database connections need no handling here: Django closes a connection that saw
an error and is no longer usable when the request ends, and production settings check
persistent connections before reuse (CONN_HEALTH_CHECKS).
"""

from __future__ import annotations

import logging

import kombu.exceptions
import redis.exceptions
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger("eidetic.outages")

CODE = "ServiceUnavailable"
MESSAGE = "A service Eidetic depends on is briefly unavailable. Nothing was changed; please try again shortly."
RETRY_AFTER_SECONDS = 5

# Connection-level failures of the databases and of Redis (cache or Celery broker).
# Django's OperationalError also covers deadlocks and lock timeouts: retrying is right there too.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Briefly unavailable</title>
<link rel="stylesheet" href="/static/css/eidetic.css"></head>
<body><main><section class="card error-page"><p class="badge">503</p><h1>Briefly unavailable</h1>
<p>{message}</p><p><a class="button secondary" href="">Try again</a></p></section></main></body></html>
"""


def is_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, OUTAGE_ERRORS)


def outage_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    # The class only: a driver's message can name hosts, users or database names.
    logger.warning("dependency unavailable: %s", type(exc).__name__, extra={"path": request.path})
    if _wants_json(request):
        response: HttpResponse = JsonResponse({"error": {"code": CODE, "message": MESSAGE}}, status=503)
    else:
        response = HttpResponse(PAGE.format(message=MESSAGE), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _wants_json(request: HttpRequest) -> bool:
    if request.path.startswith(("/api/", "/oauth/", "/.well-known/", "/health/")):
        return True
    return "application/json" in request.headers.get("Accept", "")
