"""Auditor pages in the portal: public, read-only, thin (parse, call a selector, render)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from ledger import entries, selectors, verification
from ledger.errors import CheckpointNotFound, EntryNotFound, EntryNotSequenced
from ledger.models import VerificationRun

BROWSE_PAGE = 50


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    try:
        checkpoint = selectors.latest_checkpoint()
    except CheckpointNotFound:
        checkpoint = None
    context = {
        "checkpoint": checkpoint,
        "anchor": selectors.latest_anchor_of(checkpoint) if checkpoint else None,
        "size": selectors.sequenced_size(),
        "key": selectors.verifier_key(),
        "last_anchor": selectors.latest_anchor(),
    }
    return render(request, "ledger/index.html", context)


def _start_of(request: HttpRequest, size: int) -> int:
    try:
        start = int(request.GET.get("start", max(size - BROWSE_PAGE, 0)))
    except ValueError:
        start = 0
    return min(max(start, 0), max(size - 1, 0))


@require_GET
def entry_list(request: HttpRequest) -> HttpResponse:
    size = selectors.sequenced_size()
    start = _start_of(request, size)
    rows = []
    if size:
        for entry in selectors.entries_page(start=start, end=start + BROWSE_PAGE):
            document = entries.decode(bytes(entry.data))
            rows.append(
                {
                    "seq": entry.seq,
                    "ts": document.get("ts"),
                    "kind": entry.kind,
                    "actor": entry.actor,
                    "subject": entry.subject,
                    "leaf_hash": bytes(entry.leaf_hash).hex(),
                }
            )
    context = {
        "rows": rows,
        "size": size,
        "newer": start + BROWSE_PAGE if start + BROWSE_PAGE < size else None,
        "older": max(start - BROWSE_PAGE, 0) if start > 0 else None,
    }
    return render(request, "ledger/entries.html", context)


@require_GET
def entry_detail(request: HttpRequest, seq: int) -> HttpResponse:
    page = selectors.entries_page(start=seq, end=seq + 1) if seq < selectors.sequenced_size() else []
    if not page:
        raise Http404("no such entry")
    entry = page[0]
    data = bytes(entry.data)
    context = {
        "entry": entry,
        "pretty": json.dumps(entries.decode(data), indent=2, sort_keys=True, ensure_ascii=False),
        "canonical": data.decode(),
        "leaf_hash": bytes(entry.leaf_hash).hex(),
    }
    return render(request, "ledger/entry.html", context)


@require_GET
def checkpoint_list(request: HttpRequest) -> HttpResponse:
    rows = [
        {"checkpoint": checkpoint, "anchor": selectors.latest_anchor_of(checkpoint)}
        for checkpoint in selectors.checkpoints()
    ]
    return render(request, "ledger/checkpoints.html", {"rows": rows})


@require_GET
def how_to_verify(request: HttpRequest) -> HttpResponse:
    context = {
        "key": selectors.verifier_key(),
        "origin": settings.LEDGER["ORIGIN"],
        "base_url": request.build_absolute_uri("/").rstrip("/"),
    }
    return render(request, "ledger/verify.html", context)


@require_GET
def receipt(request: HttpRequest, entry_id: uuid.UUID) -> HttpResponse:
    """A self-contained receipt. Public: entries are publishable as is and ids are unguessable."""
    try:
        document = selectors.receipt_for(entry_id)
    except EntryNotFound as error:
        raise Http404("no such entry") from error
    except EntryNotSequenced:
        return render(request, "ledger/receipt_pending.html", status=409)
    response = JsonResponse(document, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="eidetic-receipt-{entry_id}.json"'
    return response


# --- verification runs (auditors and Eidetic staff) ------------------------------------------


def auditor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in as an auditor or as Eidetic staff: a full run reads the whole log, so it is
    not offered to anonymous visitors (who can verify with the public API instead)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (request.user.role == request.user.Role.AUDITOR or request.user.is_staff):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _run_or_404(run_id: uuid.UUID) -> VerificationRun:
    try:
        return verification.verification_run(run_id)
    except VerificationRun.DoesNotExist:
        raise Http404("no such run") from None


@require_http_methods(["GET", "POST"])
@auditor_required
def verification_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        run = verification.verification_start()
        return redirect("ledger:verification", run_id=run.id)
    return render(request, "ledger/verification_list.html", {"runs": verification.verification_runs()})


@require_GET
@auditor_required
def verification_detail(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    run = _run_or_404(run_id)
    status_url = reverse("ledger:verification_status", kwargs={"run_id": run.id})
    return render(request, "ledger/verification_detail.html", {"job": run, "status_url": status_url})


@never_cache
@require_GET
@auditor_required
def verification_status(request: HttpRequest, run_id: uuid.UUID) -> JsonResponse:
    run = _run_or_404(run_id)
    return JsonResponse(
        {
            "id": str(run.id),
            "status": run.status,
            "status_label": run.get_status_display(),
            "processed": run.processed_items,
            "total": run.total_items,
            "percent": run.progress_percent,
            "finished": run.finished,
            "verified": run.verified,
        }
    )
