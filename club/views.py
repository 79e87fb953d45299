"""The club's portal pages. People: what members contributed about them (correct,
delete), their club consents and the introductions waiting for an answer. Partner
staff: per membership, the rules, standing, contributions, budget, spend and earnings.
Thin views: selectors decide what the caller may see (else 404), services change."""

from __future__ import annotations

from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import person_required
from broker import access
from broker.views import staff_required
from club import introductions, portal_queries, selectors, services
from club.errors import ClubError
from club.forms import ObservationCorrectForm


@require_GET
@person_required
def person_home(request: HttpRequest) -> HttpResponse:
    waiting = [
        {
            "introduction": item,
            "url": reverse("oauth2_provider:authorize") + "?" + urlencode(introductions.authorize_query(item)),
        }
        for item in portal_queries.open_introductions_of(request.user)
    ]
    context = {
        "observations": selectors.observations_about(request.user),
        "consents": portal_queries.club_consents_of(request.user),
        "introductions": waiting,
    }
    return render(request, "club/person_home.html", context)


def _own_observation(request: HttpRequest, observation_id: UUID) -> dict:
    found = next((item for item in selectors.observations_about(request.user) if item["id"] == observation_id), None)
    if found is None:
        raise Http404
    return found


@require_http_methods(["GET", "POST"])
@person_required
def observation_correct(request: HttpRequest, observation_id: UUID) -> HttpResponse:
    observation = _own_observation(request, observation_id)
    form = ObservationCorrectForm(request.POST or None, initial=observation)
    if request.method == "POST" and form.is_valid():
        try:
            services.observation_correct(person=request.user, observation_id=observation_id, **form.cleaned_data)
        except ClubError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Corrected. Every later read by club members sees your version.")
            return redirect("club:person_home")
    status = 400 if request.method == "POST" else 200
    return render(request, "club/observation_correct.html", {"form": form, "observation": observation}, status=status)


@require_http_methods(["GET", "POST"])
@person_required
def observation_delete(request: HttpRequest, observation_id: UUID) -> HttpResponse:
    """GET: ask first (a destructive action); POST: delete."""
    if request.method == "GET":
        observation = _own_observation(request, observation_id)
        return render(request, "club/observation_delete.html", {"observation": observation})
    try:
        services.observation_delete(person=request.user, observation_id=observation_id)
    except ClubError:
        raise Http404 from None
    messages.success(request, "Deleted. No club member will read it again, and it no longer counts in statistics.")
    return redirect("club:person_home")


@require_GET
@staff_required
def member_home(request: HttpRequest) -> HttpResponse:
    memberships = portal_queries.memberships_of_staff(request.user)
    if len(memberships) == 1:
        return redirect("club:member_detail", membership_id=memberships[0].uid)
    return render(request, "club/member_home.html", {"memberships": memberships})


@require_GET
@staff_required
def member_detail(request: HttpRequest, membership_id: UUID) -> HttpResponse:
    membership = portal_queries.membership_of_staff(user=request.user, membership_uid=membership_id)
    if membership is None:
        raise Http404
    return render(request, "club/member_detail.html", portal_queries.member_page(membership, access.clock()))
