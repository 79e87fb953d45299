"""View decorators shared by the portal apps."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def person_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, and a person with a vault (partner staff and auditors have none)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_person:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
