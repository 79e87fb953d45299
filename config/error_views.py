"""Error pages for the portal: friendly, and never showing internals."""

from __future__ import annotations

import sys

from django.http import JsonResponse
from django.shortcuts import render

from config import outages
from config.api_errors import error_body


def _wants_json(request) -> bool:
    return request.path.startswith(("/api/", "/oauth/", "/.well-known/"))


def _render(request, status: int, code: str, title: str, message: str):
    if _wants_json(request):
        return JsonResponse(error_body(code, message), status=status)
    return render(request, "error.html", {"status": status, "title": title, "message": message}, status=status)


def bad_request(request, exception=None):
    return _render(request, 400, "BadRequest", "Bad request", "The request could not be understood.")


def permission_denied(request, exception=None):
    return _render(request, 403, "PermissionDenied", "Not allowed", "You do not have access to this page.")


def page_not_found(request, exception=None):
    return _render(request, 404, "NotFound", "Not found", "There is nothing here. It may have been deleted.")


def server_error(request):
    # Django calls this while handling the exception: a dependency outage becomes a 503.
    exc = sys.exc_info()[1]
    if outages.is_outage(exc):
        return outages.outage_response(request, exc)
    return _render(
        request,
        500,
        "InternalError",
        "Something went wrong",
        "Something went wrong on our side. Nothing you sent was lost; please try again.",
    )
