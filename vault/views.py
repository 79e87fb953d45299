"""The person's portal pages for her vault. Thin: parse, call a selector or service, render.

Every view is for the signed-in person's own data only; another person's UUID is a 404
(the selectors filter by owner), never a 403 that would confirm the object exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import groupby, pairwise
from typing import Any, TypeVar
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import person_required
from vault import selectors, services
from vault.errors import VaultError
from vault.forms import UploadForm, ZoneForm
from vault.models import ImportJob, Moment, SocialItem, Track, Trackpoint
from vault.privacy import offset_metres
from vault.svg import Circle, LatLon, heart_rate_chart, track_outline, zone_preview

T = TypeVar("T")
TRACKS_PER_PAGE = 9
# How many points are opened to draw: a track card, a track's own page, the zone previews.
OUTLINE_POINTS = 80
DETAIL_POINTS = 3000
ZONE_CONTEXT_POINTS = 600  # enough dots to recognise her places in a 240-pixel preview
# Other apps add their own cards to the dashboard by shipping one of these templates
# (they render with the dashboard's context; use your own template tags for your data).
DASHBOARD_PANELS = (
    "broker/_dashboard_panel.html",
    "insights/_dashboard_panel.html",
    "ledger/_dashboard_panel.html",
    "club/_dashboard_panel.html",
)


def _own_or_404(lookup: Callable[[], T]) -> T:
    try:
        return lookup()
    except (ImportJob.DoesNotExist, Track.DoesNotExist):
        raise Http404 from None


# --- landing and dashboard --------------------------------------------------------------


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_authenticated:
        if user.is_person:
            return redirect("vault:dashboard")
        if user.role == user.Role.PARTNER_STAFF:
            return redirect("broker:partner_home")
        return redirect("ledger:index")
    return render(request, "vault/home.html")


@require_GET
@person_required
def dashboard(request: HttpRequest) -> HttpResponse:
    person = request.user
    counts = {
        "tracks": Track.objects.filter(owner=person).count(),
        "points": Trackpoint.objects.filter(owner=person).count(),
        "moments": Moment.objects.filter(owner=person).count(),
        "social_items": SocialItem.objects.filter(owner=person).count(),
        "zones": len(selectors.zones_of(person)),
    }
    context = {
        "counts": counts,
        "recent_imports": selectors.import_jobs_of(person)[:5],
        "panels": [name for name in DASHBOARD_PANELS if _template_exists(name)],
    }
    return render(request, "vault/dashboard.html", context)


def _template_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


# --- uploads and import jobs ------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_http_methods(["GET", "POST"])
@person_required
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if request.method == "POST":
        if form.is_valid():
            try:
                job = _start_import(request, form)
            except VaultError as error:
                form.add_error("file", error.message)
                if _wants_json(request):
                    return JsonResponse({"error": {"code": error.code, "message": error.message}}, status=400)
            else:
                if _wants_json(request):
                    return JsonResponse(_job_links(job), status=201)
                return redirect("vault:import_detail", job_id=job.id)
        elif _wants_json(request):
            message = " ".join(str(e) for errors in form.errors.values() for e in errors)
            return JsonResponse({"error": {"code": "InvalidUpload", "message": message}}, status=400)
    context = {"form": form, "jobs": selectors.import_jobs_of(request.user)[:10]}
    return render(request, "vault/upload.html", context, status=400 if form.errors else 200)


def _start_import(request: HttpRequest, form: UploadForm) -> ImportJob:
    # Imported here: the importer pulls in parsers the rest of the portal does not need.
    from vault.importing import start_import

    upload_file = form.cleaned_data["file"]
    return start_import(
        person=request.user,
        upload=upload_file,
        filename=upload_file.name,
        format=form.cleaned_data["format"] or None,
    )


def _job_links(job: ImportJob) -> dict[str, Any]:
    return {
        "id": str(job.id),
        "status_url": reverse("vault:import_status", kwargs={"job_id": job.id}),
        "job_url": reverse("vault:import_detail", kwargs={"job_id": job.id}),
        **_job_status(job),
    }


def _job_status(job: ImportJob) -> dict[str, Any]:
    from vault.importing import import_job_filename  # see _start_import

    failed = job.status == ImportJob.Status.FAILED
    return {
        # Her own file's name, opened for her (it is sealed in the job row).
        "filename": import_job_filename(job),
        "status": job.status,
        "status_label": job.get_status_display(),
        "processed": job.processed_items,
        "total": job.total_items,
        "percent": job.progress_percent,
        "created": job.created_items,
        "duplicates": job.duplicate_items,
        "finished": job.finished,
        # error_detail holds codes and positions only, never content from the file.
        "error": {"code": job.error_code, "message": job.error_detail} if failed else None,
    }


@require_GET
@person_required
def import_detail(request: HttpRequest, job_id: UUID) -> HttpResponse:
    job = _own_or_404(lambda: selectors.import_job_of(request.user, job_id))
    return render(request, "vault/import_detail.html", {"job": job, "state": _job_status(job)})


@never_cache
@require_GET
@person_required
def import_status(request: HttpRequest, job_id: UUID) -> JsonResponse:
    job = _own_or_404(lambda: selectors.import_job_of(request.user, job_id))
    return JsonResponse({"id": str(job.id), **_job_status(job)})


# --- tracks -------------------------------------------------------------------------------


def _circles(person) -> list[Circle]:
    return [Circle(zone["lat"], zone["lon"], zone["radius_m"]) for zone in selectors.zones_of(person)]


@require_GET
@person_required
def track_list(request: HttpRequest) -> HttpResponse:
    person = request.user
    page = Paginator(selectors.tracks_of(person), TRACKS_PER_PAGE).get_page(request.GET.get("page"))
    zones = _circles(person) if page.object_list else []
    outlines = selectors.sampled_outlines_of(person, list(page.object_list), limit=OUTLINE_POINTS)
    tracks = []
    for track in page.object_list:
        opened = selectors.open_track(person, track)
        outline = track_outline(outlines[track.id], zones, title=f"Outline of {opened.get('name') or 'the track'}")
        tracks.append({**opened, "svg": outline, "duration": _duration_text(track)})
    return render(request, "vault/track_list.html", {"page": page, "tracks": tracks})


@require_GET
@person_required
def track_detail(request: HttpRequest, track_id: UUID) -> HttpResponse:
    person = request.user
    track = _own_or_404(lambda: selectors.tracks_of(person).get(id=track_id))
    # Long tracks are sampled: a few thousand points draw and measure the track faithfully.
    points = selectors.sampled_trackpoints_of(person, track=track, limit=DETAIL_POINTS)
    heart_rates = [(p.recorded_at, p.hr) for p in points if p.hr is not None]
    zones = selectors.zones_of(person)
    zone_rows = [{**zone, "inside": _points_inside(points, zone)} for zone in zones]
    description = (
        f"{len(points)} points from {track.started_at:%H:%M} to {track.ended_at:%H:%M} UTC; "
        f"{len(zones)} privacy zone{'s' * (len(zones) != 1)} drawn as dashed circles, "
        f"{sum(row['inside'] for row in zone_rows)} of the points inside them."
    )
    circles = [Circle(zone["lat"], zone["lon"], zone["radius_m"]) for zone in zones]
    context = {
        "track": {**selectors.open_track(person, track), "duration": _duration_text(track)},
        "map_svg": track_outline(
            points, circles, width=640, height=400, title="Map of the track", description=description
        ),
        "map_description": description,
        "zone_rows": zone_rows,
        "hr_svg": heart_rate_chart(heart_rates, title="Heart rate over the track"),
        "distance_km": _distance_m(points) / 1000,
        "hr_avg": round(sum(hr for _, hr in heart_rates) / len(heart_rates)) if heart_rates else None,
        "hr_max": max((hr for _, hr in heart_rates), default=None),
        "devices": sorted({p.device for p in points if p.device}),
    }
    return render(request, "vault/track_detail.html", context)


def _points_inside(points: list[selectors.OpenedPoint], zone: dict[str, Any]) -> int:
    """How many of the drawn points fall in the zone's circle (as drawn: the shared cut-off
    has randomised edges, so this is what she sees, not the exact filter)."""
    count = 0
    for point in points:
        east, north = offset_metres(zone["lat"], zone["lon"], point.lat, point.lon)
        count += east * east + north * north <= zone["radius_m"] ** 2
    return count


def _duration_text(track: Track) -> str:
    minutes = round((track.ended_at - track.started_at).total_seconds() / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _distance_m(points: list[selectors.OpenedPoint]) -> float:
    total = 0.0
    for previous, current in pairwise(points):
        east, north = offset_metres(previous.lat, previous.lon, current.lat, current.lon)
        total += (east * east + north * north) ** 0.5
    return total


# --- moments and social items -------------------------------------------------------------

# Sentiment is said in words with a symbol beside it, never by colour alone.
SENTIMENTS = {
    "loves": ("♥♥", "You loved it"),
    "likes": ("♥", "You liked it"),
    "neutral": ("○", "You felt neutral about it"),
    "dislikes": ("✕", "You disliked it"),
    "loathes": ("✕✕", "You loathed it"),
}


@dataclass(frozen=True)
class MonthWindow:
    """One calendar month (UTC) of a person's records, with the nearest months that have any.

    Pages are months so that a page opens a bounded number of sealed records however long
    the history is; empty months are skipped by the previous/next links.
    """

    start: datetime
    end: datetime
    previous: str | None
    next: str | None

    @classmethod
    def of(cls, request: HttpRequest, times: QuerySet, field: str) -> MonthWindow:
        start = _parse_month(request.GET.get("month", ""))
        if start is None:
            latest = times.order_by(f"-{field}").values_list(field, flat=True).first()
            start = _month_start(latest or datetime.now(UTC))
        end = _month_start(start + timedelta(days=32))
        before = times.filter(**{f"{field}__lt": start}).order_by(f"-{field}").values_list(field, flat=True).first()
        after = times.filter(**{f"{field}__gte": end}).order_by(field).values_list(field, flat=True).first()
        return cls(start, end, f"{before:%Y-%m}" if before else None, f"{after:%Y-%m}" if after else None)


def _month_start(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _parse_month(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        return None


@require_GET
@person_required
def timeline(request: HttpRequest) -> HttpResponse:
    person = request.user
    # Only clear timestamps of her own moments are read here, to find the month to show.
    month = MonthWindow.of(request, Moment.objects.filter(owner=person), "occurred_at")
    page = selectors.moments_of(person, start=month.start, end=month.end)
    moments = sorted(page.items, key=lambda m: m["occurred_at"], reverse=True)
    for moment in moments:
        moment["sentiment_symbol"], moment["sentiment_text"] = SENTIMENTS.get(moment.get("sentiment") or "", ("", ""))
    days = [
        {"day": day, "moments": sorted(items, key=lambda m: m["occurred_at"])}
        for day, items in groupby(moments, key=lambda m: _day_of(m["occurred_at"]))
    ]
    return render(request, "vault/timeline.html", {"days": days, "count": len(moments), "month": month})


def _day_of(when: datetime) -> date:
    return when.astimezone(UTC).date()


@require_GET
@person_required
def social_list(request: HttpRequest) -> HttpResponse:
    person = request.user
    kind = request.GET.get("kind", "")
    kinds = [kind] if kind in SocialItem.Kind.values else None
    times = SocialItem.objects.filter(owner=person, **({"kind__in": kinds} if kinds else {}))
    month = MonthWindow.of(request, times, "occurred_at")
    page = selectors.social_items_of(person, kinds=kinds, start=month.start, end=month.end)
    items = sorted(page.items, key=lambda item: item["occurred_at"], reverse=True)
    context = {"items": items, "kind": kind if kinds else "", "kinds": SocialItem.Kind.choices, "month": month}
    return render(request, "vault/social_list.html", context)


# --- privacy zones --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@person_required
def zones(request: HttpRequest) -> HttpResponse:
    person = request.user
    form = ZoneForm(request.POST) if request.method == "POST" else ZoneForm()
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "preview" not in request.POST:
            try:
                services.zone_create(
                    person=person, label=data["label"], lat=data["lat"], lon=data["lon"], radius_m=data["radius_m"]
                )
            except services.ZoneInvalid as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "Privacy zone saved. Points inside it are never shared.")
                return redirect("vault:zones")
        if not form.errors:
            preview = Circle(data["lat"], data["lon"], data["radius_m"])
    points = _own_points(person)
    existing = [
        {**zone, "svg": zone_preview(Circle(zone["lat"], zone["lon"], zone["radius_m"]), points)}
        for zone in selectors.zones_of(person)
    ]
    context = {
        "form": form,
        "zones": existing,
        "preview_svg": zone_preview(preview, points, size=240) if preview else None,
    }
    return render(request, "vault/zones.html", context, status=400 if form.errors else 200)


def _own_points(person) -> list[LatLon]:
    """Her own points, for drawing zones over them (opened for her eyes only)."""
    return [LatLon(p.lat, p.lon) for p in selectors.sampled_trackpoints_of(person, limit=ZONE_CONTEXT_POINTS)]


@require_http_methods(["GET", "POST"])
@person_required
def zone_delete(request: HttpRequest, zone_id: UUID) -> HttpResponse:
    person = request.user
    zone = next((z for z in selectors.zones_of(person) if z["id"] == zone_id), None)
    if zone is None:
        raise Http404
    if request.method == "POST":
        services.zone_delete(person=person, zone_id=zone_id)
        messages.success(request, "Privacy zone deleted.")
        return redirect("vault:zones")
    return render(request, "vault/zone_delete.html", {"zone": zone})


# --- export -------------------------------------------------------------------------------------


@never_cache
@require_POST
@person_required
def export_download(request: HttpRequest) -> HttpResponse:
    document = services.export_person_data(request.user)
    response = JsonResponse(document, encoder=DjangoJSONEncoder, json_dumps_params={"indent": 2, "ensure_ascii": False})
    filename = f"eidetic-export-{datetime.now(UTC):%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
