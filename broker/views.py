"""The broker's portal pages: a person's consents, access log and earnings, and the
partner console. Thin views: the selectors decide what the caller may see (anything
else is a 404), the services make every change (and record it on the ledger)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import person_required
from broker import charts, console, portal_queries, selectors, services
from broker.errors import BrokerError, ConsentNotFound
from broker.forms import ClientCreateForm, WebhookForm
from broker.models import AccessLogEntry, Consent, Partner
from ledger.errors import LedgerError
from vault.errors import VaultKeyMissing
from vault.selectors import pairwise_pseudonym

T = TypeVar("T")
State = Consent.State
LIVE_STATES = {State.ACTIVE, State.PAUSED}
ACCESS_LOG_PAGE_SIZE = 50
TIMELINE_CALLS = 1000
ALLOWED = AccessLogEntry.Outcome.ALLOWED


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in as partner staff; which partner is checked per request (404 otherwise)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.role != request.user.Role.PARTNER_STAFF:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _or_404(lookup: Callable[[], T]) -> T:
    try:
        return lookup()
    except ConsentNotFound:
        raise Http404 from None


# --- the person's consents ------------------------------------------------------------


@require_GET
@person_required
def consent_list(request: HttpRequest) -> HttpResponse:
    consents = list(selectors.consents_of_person(person=request.user))
    context = {
        "live": [consent for consent in consents if consent.state in LIVE_STATES],
        "ended": [consent for consent in consents if consent.state not in LIVE_STATES],
    }
    return render(request, "broker/consent_list.html", context)


@require_GET
@person_required
def consent_detail(request: HttpRequest, consent_id: UUID) -> HttpResponse:
    detail = _or_404(lambda: selectors.consent_detail(person=request.user, consent_id=consent_id))
    accesses = selectors.access_log_of_person(person=request.user, consent_id=consent_id)
    context = {
        "detail": detail,
        "consent": detail.consent,
        "accesses": accesses[:ACCESS_LOG_PAGE_SIZE],
        "access_total": accesses.count(),
        "is_live": detail.consent.state in LIVE_STATES,
        "life_svg": _consent_life(detail, accesses),
    }
    return render(request, "broker/consent_detail.html", context)


def _consent_life(detail: selectors.ConsentDetail, accesses) -> Any:
    return _life_svg(detail.timeline, accesses, detail.consent)


def _life_svg(events: list, accesses, consent: Consent) -> Any:
    # Times and outcomes only, of the most recent calls: enough to draw, bounded in cost.
    calls = list(accesses.values_list("at", "outcome")[:TIMELINE_CALLS])
    return charts.consent_timeline(
        [charts.Event(event.state, event.at) for event in events],
        [(at, outcome == ALLOWED) for at, outcome in calls],
        now=timezone.now(),
        expires_at=consent.expires_at,
    )


CHANGES: dict[str, tuple[Callable[..., Consent], str]] = {
    "pause": (services.consent_pause, "Paused. {partner} cannot read anything until you resume."),
    "resume": (services.consent_resume, "Resumed. {partner} can read again, within what you agreed."),
    "revoke": (services.consent_revoke, "Revoked. {partner} can never read under this consent again."),
}


def _change(request: HttpRequest, consent_id: UUID, action: str) -> HttpResponse:
    consent = _or_404(lambda: selectors.own_consent(person=request.user, consent_id=consent_id))
    service, success = CHANGES[action]
    try:
        service(consent=consent, person=request.user)
    except ConsentNotFound:
        raise Http404 from None
    except BrokerError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success.format(partner=consent.partner.name))
    return redirect("broker:consent_detail", consent_id=consent.uid)


@require_POST
@person_required
def consent_pause(request: HttpRequest, consent_id: UUID) -> HttpResponse:
    return _change(request, consent_id, "pause")


@require_POST
@person_required
def consent_resume(request: HttpRequest, consent_id: UUID) -> HttpResponse:
    return _change(request, consent_id, "resume")


@require_http_methods(["GET", "POST"])
@person_required
def consent_revoke(request: HttpRequest, consent_id: UUID) -> HttpResponse:
    """GET asks for confirmation (revoking cannot be undone); POST revokes."""
    if request.method == "POST":
        return _change(request, consent_id, "revoke")
    consent = _or_404(lambda: selectors.consent_of_person(person=request.user, consent_id=consent_id))
    if consent.state not in LIVE_STATES:
        messages.info(request, f"This consent is {consent.get_state_display().lower()}: there is nothing to revoke.")
        return redirect("broker:consent_detail", consent_id=consent.uid)
    return render(request, "broker/consent_revoke.html", {"consent": consent})


@require_GET
@person_required
def consent_receipt(request: HttpRequest, consent_id: UUID) -> HttpResponse:
    """The ledger receipt of the grant, as a JSON file anyone can verify offline."""
    try:
        receipt = portal_queries.receipt_of_consent(person=request.user, consent_id=consent_id)
    except ConsentNotFound:
        raise Http404 from None
    except LedgerError as error:
        return JsonResponse({"error": {"code": error.code, "message": error.message}}, status=error.status)
    response = JsonResponse(receipt, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="eidetic-consent-{consent_id}-receipt.json"'
    return response


# --- access log and earnings ------------------------------------------------------------


@require_GET
@person_required
def access_log(request: HttpRequest) -> HttpResponse:
    consent_filter = _consent_filter(request)
    entries = selectors.access_log_of_person(person=request.user, consent_id=consent_filter)
    page = Paginator(entries, ACCESS_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    filtered_consent = None
    if consent_filter is not None:
        filtered_consent = _or_404(lambda: selectors.consent_of_person(person=request.user, consent_id=consent_filter))
    return render(request, "broker/access_log.html", {"page": page, "filtered_consent": filtered_consent})


def _consent_filter(request: HttpRequest) -> UUID | None:
    value = request.GET.get("consent")
    if not value:
        return None
    try:
        return UUID(value)
    except ValueError:
        raise Http404 from None


@require_GET
@person_required
def earnings(request: HttpRequest) -> HttpResponse:
    person = request.user
    consents = [consent for consent in selectors.consents_of_person(person=person) if consent.earned]
    by_month = portal_queries.earnings_by_month(person=person)
    context = {
        "balance": portal_queries.ledger_balance_of_person(person=person),
        "logged_total": selectors.earnings_of_person(person=person),
        "by_month": by_month,
        "by_consent": consents,
        "chart": charts.earnings_chart(charts.month_series(by_month, until=timezone.localdate())),
    }
    return render(request, "broker/earnings.html", context)


# --- the partner console --------------------------------------------------------------


@require_GET
@staff_required
def partner_home(request: HttpRequest) -> HttpResponse:
    partners = list(selectors.partners_of_staff(user=request.user))
    if len(partners) == 1:
        return redirect("broker:partner_console", partner_id=partners[0].uid)
    return render(request, "broker/partner_home.html", {"partners": partners})


def _staff_partner(request: HttpRequest, partner_id: UUID) -> Partner:
    return _or_404(lambda: selectors.partner_of_staff(user=request.user, partner_id=partner_id))


def _console(request: HttpRequest, partner: Partner, *, status: int = 200, **extra: Any) -> HttpResponse:
    try:
        consents = selectors.consents_of_partner(partner=partner)
        consents_problem = ""
    except VaultKeyMissing:
        # A consenting person erased her account: the selector cannot name her pseudonym.
        consents, consents_problem = [], "The list of consents cannot be shown right now."
    context = {
        "partner": partner,
        "clients": portal_queries.clients_of_partner(partner=partner),
        "client_form": ClientCreateForm(),
        "webhook_form": WebhookForm(initial={"webhook_url": partner.webhook_url}),
        "consents": consents,
        "consents_problem": consents_problem,
        "summary": portal_queries.summary_of_partner(partner=partner),
        "spend": selectors.spend_of_partner(partner=partner),
        "ledger_spend": portal_queries.ledger_spend_of_partner(partner=partner),
        "spend_by_month": portal_queries.spend_by_month_of_partner(partner=partner),
        **extra,
    }
    response = render(request, "broker/partner_console.html", context, status=status)
    # The page may show a client secret once and always holds the webhook secret.
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@staff_required
def partner_console(request: HttpRequest, partner_id: UUID) -> HttpResponse:
    return _console(request, _staff_partner(request, partner_id))


@require_GET
@staff_required
def partner_consent(request: HttpRequest, partner_id: UUID, consent_id: UUID) -> HttpResponse:
    """One consent as its partner sees it: terms, timeline, its own calls; the person
    only as her pairwise pseudonym."""
    partner = _staff_partner(request, partner_id)
    consent = _or_404(lambda: selectors.consent_of_partner(partner=partner, consent_id=consent_id))
    try:
        subject = None if consent.person is None else pairwise_pseudonym(consent.person, partner.audience)
    except VaultKeyMissing:
        subject = None  # she erased her account: there is no one left to name
    calls = portal_queries.access_log_of_partner(partner=partner, consent=consent)
    timeline = list(consent.events.all())
    context = {
        "partner": partner,
        "consent": consent,
        "subject": subject,
        "timeline": timeline,
        "life_svg": _life_svg(timeline, calls, consent),
        "calls": calls[:ACCESS_LOG_PAGE_SIZE],
        "call_total": calls.count(),
    }
    return render(request, "broker/partner_consent.html", context)


@require_POST
@staff_required
def partner_client_create(request: HttpRequest, partner_id: UUID) -> HttpResponse:
    partner = _staff_partner(request, partner_id)
    form = ClientCreateForm(request.POST)
    if form.is_valid():
        try:
            application = services.client_create(
                partner=partner, redirect_uri=form.cleaned_data["redirect_uri"], name=form.cleaned_data["name"]
            )
        except BrokerError as error:
            form.add_error("redirect_uri", error.message)
        except ValidationError as error:
            for message in error.messages:
                form.add_error("redirect_uri", message)
        else:
            # Shown in this response only: the stored secret is hashed.
            new_client = {"client_id": application.client_id, "client_secret": application.raw_client_secret}
            return _console(request, partner, status=201, new_client=new_client)
    return _console(request, partner, status=400, client_form=form)


@require_POST
@staff_required
def partner_webhook(request: HttpRequest, partner_id: UUID) -> HttpResponse:
    partner = _staff_partner(request, partner_id)
    form = WebhookForm(request.POST)
    if not form.is_valid():
        return _console(request, partner, status=400, webhook_form=form)
    console.webhook_url_set(partner=partner, url=form.cleaned_data["webhook_url"])
    messages.success(request, "Webhook address saved.")
    return redirect(reverse("broker:partner_console", kwargs={"partner_id": partner.uid}) + "#webhook")


@require_http_methods(["GET", "POST"])
@staff_required
def partner_webhook_rotate(request: HttpRequest, partner_id: UUID) -> HttpResponse:
    """GET asks for confirmation (the old secret stops working at once); POST makes the new one."""
    partner = _staff_partner(request, partner_id)
    if request.method == "GET":
        return render(request, "broker/partner_webhook_rotate.html", {"partner": partner})
    console.webhook_secret_rotate(partner=partner)
    messages.success(request, "New webhook secret made. Deliveries from now on are signed with it.")
    return redirect(reverse("broker:partner_console", kwargs={"partner_id": partner.uid}) + "#webhook")
