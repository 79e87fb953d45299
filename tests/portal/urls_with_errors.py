"""The site's URLs plus views that fail on purpose, to test the error pages (DEBUG=False)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500
from config.urls import urlpatterns as site_urlpatterns


def explode(request):
    # A message that must never reach the visitor: internals of the failure.
    raise RuntimeError("secret internals: /srv/eidetic/settings.py line 42, password=hunter2")


def forbid(request):
    raise PermissionDenied("internal reason: staff-only flag missing on row 17")


urlpatterns = [
    path("boom/", explode),
    path("api/v1/boom/", explode),
    path("forbidden/", forbid),
    *site_urlpatterns,
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
