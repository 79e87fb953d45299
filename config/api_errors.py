"""One place where errors become JSON: ``{"error": {"code": "...", "message": "..."}}``.

Each app raises its own exceptions with a stable ``code`` (and ``status``); DRF's own
exceptions keep their status and get a code from their class name. No traceback, no
internals, ever: an unexpected exception is logged (without request data) and answered
with a plain 500 code.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config import outages

logger = logging.getLogger("eidetic.api")

DRF_CODES = {
    exceptions.ParseError: "MalformedRequest",
    exceptions.AuthenticationFailed: "AuthenticationFailed",
    exceptions.NotAuthenticated: "NotAuthenticated",
    exceptions.PermissionDenied: "PermissionDenied",
    exceptions.NotFound: "NotFound",
    exceptions.MethodNotAllowed: "MethodNotAllowed",
    exceptions.NotAcceptable: "NotAcceptable",
    exceptions.UnsupportedMediaType: "UnsupportedMediaType",
    exceptions.Throttled: "RateLimited",
    exceptions.ValidationError: "InvalidRequest",
}


def error_body(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


def exception_handler(exc, context):
    if outages.is_outage(exc):  # a database or Redis that is down: 503, try again
        return outages.outage_response(context["request"], exc)
    code = getattr(exc, "code", None)
    status = getattr(exc, "status", None)
    if isinstance(code, str) and isinstance(status, int) and not isinstance(exc, exceptions.APIException):
        response = Response(error_body(code, getattr(exc, "message", str(exc))), status=status)
        for header, value in getattr(exc, "headers", {}).items():
            response[header] = value
        return response

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled API error", extra={"view": type(context.get("view")).__name__})
        return Response(error_body("InternalError", "Something went wrong on our side."), status=500)

    api_code = next((name for cls, name in DRF_CODES.items() if isinstance(exc, cls)), "Error")
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(api_code, "The request is not valid.", fields=exc.detail)
    else:
        response.data = error_body(api_code, str(exc.detail))
    return response
