"""Her portal pages for the interest timeline. Thin: parse, call a selector or service, render.

Only ever the signed-in person's own interests: no person id is in any URL, and an
interest she has no evidence for gets a 404. Partner staff and auditors get the portal's
usual 403 for a person's page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import person_required
from insights import selectors, services
from insights.chart import timeline_chart
from insights.errors import InsightsError
from insights.taxonomy import get_taxonomy

CHART_TOPICS = 6
CHART_WEEKS = 26
CORRECTION_CHOICES = [
    ("stronger", "Stronger than this"),
    ("as_computed", "About right"),
    ("weaker", "Weaker than this"),
]


def _chart_context(points: selectors.Points, interests: list[dict[str, Any]]) -> dict[str, Any]:
    recent = points[-CHART_WEEKS:]
    shown = [item for item in interests if not item["hidden"]][:CHART_TOPICS] or interests[:CHART_TOPICS]
    weeks = [at for at, _ in recent]
    series = [(item["name"], [weights.get(item["topic"], 0.0) for _, weights in recent]) for item in shown]
    rows = [
        {"week": at, "values": [round(weights.get(item["topic"], 0.0), 2) for item in shown]} for at, weights in recent
    ]
    return {"chart": timeline_chart(weeks, series), "chart_topics": shown, "chart_rows": rows}


@require_GET
@person_required
def overview(request: HttpRequest) -> HttpResponse:
    person = request.user
    points = selectors.timeline_of(person)
    interests = selectors.interests_of(person, points=points)
    context = {
        "interests": interests,
        "shared": selectors.shareable_interests(person),
        "disclosures": selectors.disclosures_of(person, limit=50),
        "corrections": CORRECTION_CHOICES,
        **_chart_context(points, interests),
    }
    return render(request, "insights/overview.html", context)


@require_GET
@person_required
def interest_detail(request: HttpRequest, topic_id: str) -> HttpResponse:
    taxonomy = get_taxonomy()
    if topic_id not in taxonomy.topics:
        raise Http404
    evidence = selectors.evidence_for(request.user, topic_id)
    if not evidence:
        raise Http404
    current = next((i for i in selectors.interests_of(request.user) if i["topic"] == topic_id), None)
    context = {
        "topic": taxonomy.topics[topic_id],
        "interest": current,
        "evidence": evidence,
        "hidden": topic_id in selectors.preferences_of(request.user)["hidden"],
        "corrections": CORRECTION_CHOICES,
    }
    return render(request, "insights/interest_detail.html", context)


def _change(request: HttpRequest, topic_id: str, action: Callable[[], Any], done: str) -> HttpResponse:
    if topic_id not in get_taxonomy().topics:
        raise Http404
    try:
        action()
    except InsightsError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    if request.POST.get("back") == "detail":
        return redirect("insights:interest", topic_id=topic_id)
    return redirect("insights:overview")


@require_POST
@person_required
def hide(request: HttpRequest, topic_id: str) -> HttpResponse:
    return _change(
        request,
        topic_id,
        lambda: services.hide_interest(person=request.user, topic_id=topic_id),
        "Hidden: no partner will see this interest.",
    )


@require_POST
@person_required
def show(request: HttpRequest, topic_id: str) -> HttpResponse:
    return _change(
        request,
        topic_id,
        lambda: services.show_interest(person=request.user, topic_id=topic_id),
        "Shown again to partners you consented to.",
    )


@require_POST
@person_required
def correct(request: HttpRequest, topic_id: str) -> HttpResponse:
    correction = request.POST.get("correction", "")
    return _change(
        request,
        topic_id,
        lambda: services.correct_interest(person=request.user, topic_id=topic_id, correction=correction),
        "Thank you: your correction is applied.",
    )


@require_POST
@person_required
def rebuild(request: HttpRequest) -> HttpResponse:
    result = services.rebuild_interests(person=request.user)
    messages.success(request, f"Rebuilt from {result.records_read} records.")
    return redirect("insights:overview")
