"""Idempotency-Key for POSTs that change consents or move value.

Same key and same request: the first response is replayed (``Idempotent-Replayed:
true``). Same key, different request: ``IdempotencyError`` (409). Keys are per caller.
Only completed responses below 500 are remembered; an error raised as an exception is
not, so a retry after a failure runs again. A record is replayed for
``BROKER["IDEMPOTENCY_TTL_HOURS"]``; after that the key is free again and the periodic
``prune_expired`` removes the record.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from functools import wraps

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from broker.errors import IdempotencyError
from broker.models import IdempotencyRecord

HEADER = "Idempotency-Key"


def _owner(request) -> str:
    user = request.user
    if getattr(user, "is_authenticated", False):
        return f"user:{user.uid}"
    client = getattr(request.auth, "application", None)
    return f"client:{client.client_id}" if client is not None else "anonymous"


def _request_hash(request) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    digest.update(request.body or b"")
    return digest.hexdigest()


def idempotent(method):
    @wraps(method)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if not key:
            return method(view, request, *args, **kwargs)
        owner, request_hash = _owner(request), _request_hash(request)
        if len(key) > 255:
            raise IdempotencyError("The Idempotency-Key is too long (255 characters at most).")
        existing = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
        if existing is not None and existing.created_at > _oldest_kept(timezone.now()):
            return _replay(existing, request_hash)
        if existing is not None:  # expired: the key is free again
            existing.delete()
        response = method(view, request, *args, **kwargs)
        if response.status_code < 500:
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.create(
                        owner=owner,
                        key=key,
                        request_hash=request_hash,
                        status_code=response.status_code,
                        body=response.data,
                    )
            except IntegrityError:  # A concurrent twin got there first: answer as it did.
                return _replay(IdempotencyRecord.objects.get(owner=owner, key=key), request_hash)
        return response

    return wrapper


def _replay(record: IdempotencyRecord, request_hash: str) -> Response:
    if record.request_hash != request_hash:
        raise IdempotencyError()
    return Response(record.body, status=record.status_code, headers={"Idempotent-Replayed": "true"})


def _oldest_kept(now: datetime) -> datetime:
    return now - timedelta(hours=settings.BROKER["IDEMPOTENCY_TTL_HOURS"])


def prune_expired(*, now: datetime | None = None) -> int:
    """Delete the records no longer replayed; returns how many."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lte=_oldest_kept(now or timezone.now())).delete()
    return deleted
