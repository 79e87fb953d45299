"""Portal pages for the vault's long work: her export, and the staff's master key rotation.

Each job has a page (progress bar, survives a reload) and a small JSON status that
``static/js/progress.js`` polls; without JavaScript the page refreshes itself until done.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import person_required
from vault import exporting, rotation
from vault.models import BackgroundJob, ExportJob, KeyRotation


def operator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in as Eidetic's own staff (``is_staff``): operations on the whole service."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def job_state(job: BackgroundJob, **extra: Any) -> dict[str, Any]:
    """The JSON a job page polls: counts, codes and links only."""
    return {
        "id": str(job.id),
        "status": job.status,
        "status_label": job.get_status_display(),
        "processed": job.processed_items,
        "total": job.total_items,
        "percent": job.progress_percent,
        "finished": job.finished,
        "error": {"code": job.error_code, "message": job.error_detail} if job.status == job.Status.FAILED else None,
        **extra,
    }


# --- her export ---------------------------------------------------------------------------


def _export_or_404(request: HttpRequest, job_id: UUID) -> ExportJob:
    try:
        return exporting.export_job_of(request.user, job_id)
    except ExportJob.DoesNotExist:
        raise Http404 from None


@require_GET
@person_required
def export(request: HttpRequest) -> HttpResponse:
    return render(request, "vault/export.html", {"exports": exporting.exports_of(request.user)})


@require_POST
@person_required
def export_start(request: HttpRequest) -> HttpResponse:
    job = exporting.export_start(person=request.user)
    return redirect("vault:export_job", job_id=job.id)


@require_GET
@person_required
def export_job(request: HttpRequest, job_id: UUID) -> HttpResponse:
    job = _export_or_404(request, job_id)
    status_url = reverse("vault:export_job_status", kwargs={"job_id": job.id})
    return render(request, "vault/export_job.html", {"job": job, "status_url": status_url})


@never_cache
@require_GET
@person_required
def export_job_status(request: HttpRequest, job_id: UUID) -> JsonResponse:
    job = _export_or_404(request, job_id)
    done = job.status == job.Status.DONE
    download = reverse("vault:export_job_download", kwargs={"job_id": job.id}) if done else None
    return JsonResponse(job_state(job, download_url=download))


@never_cache
@require_GET
@person_required
def export_job_download(request: HttpRequest, job_id: UUID) -> HttpResponse:
    job = _export_or_404(request, job_id)
    if job.status != job.Status.DONE:
        messages.info(request, "Your export is not ready yet.")
        return redirect("vault:export_job", job_id=job.id)
    response = HttpResponse(exporting.export_document(request.user, job), content_type="application/json")
    filename = f"eidetic-export-{(job.finished_at or datetime.now(UTC)):%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- operations: master key rotation ----------------------------------------------------------


@require_http_methods(["GET", "POST"])
@operator_required
def key_rotation(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        rotation.rotation_start(user=request.user, generate_new_key=request.POST.get("generate") == "on")
        messages.success(request, "Rotation started: every data key is re-wrapped; everything stays readable.")
        return redirect("vault:key_rotation")
    jobs = rotation.rotations()
    context = {
        "jobs": jobs,
        "current": jobs[0] if jobs else None,
        "key_counts": sorted(rotation.key_counts().items()),
        "status_url": reverse("vault:key_rotation_status", kwargs={"job_id": jobs[0].id}) if jobs else None,
    }
    return render(request, "vault/key_rotation.html", context)


@never_cache
@require_GET
@operator_required
def key_rotation_status(request: HttpRequest, job_id: UUID) -> JsonResponse:
    try:
        job = KeyRotation.objects.get(id=job_id)
    except KeyRotation.DoesNotExist:
        raise Http404 from None
    return JsonResponse(job_state(job, kek_id=job.kek_id))
