"""The OAuth endpoints Eidetic adds to django-oauth-toolkit's: its own consent screen
(the authorize step) and an introspection endpoint that knows about consents."""

from __future__ import annotations

import base64
import calendar
from urllib.parse import unquote_plus

from django import forms
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from oauth2_provider.forms import AllowForm
from oauth2_provider.views import AuthorizationView, IntrospectTokenView

from broker import services
from broker.errors import BrokerError
from broker.models import Consent, TokenBinding
from broker.oauth import checksum
from vault.selectors import pairwise_pseudonym


class ConsentAllowForm(AllowForm):
    consent_request = forms.UUIDField(widget=forms.HiddenInput())


class ConsentScreenView(AuthorizationView):
    """Who asks, why, which data, which dates, how often, how long, what they pay.

    The partner first creates a consent request (``POST /api/v1/consent-requests``) and
    sends the person here with ``consent_request=<uuid>``; the scopes in the URL must be
    the request's. Approve and deny are equal buttons; either answer is recorded.
    """

    template_name = "broker/consent_screen.html"
    form_class = ConsentAllowForm

    def get(self, request, *args, **kwargs):
        problem = self._check_person(request)
        if problem is None:
            self.consent = self._requested_consent(
                request.user,
                request.GET.get("consent_request"),
                request.GET.get("client_id"),
                request.GET.get("scope", "").split(),
            )
            if self.consent is None:
                problem = "This link does not point to an open consent request from this partner."
        if problem:
            return self._refuse(request, problem)
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        problem = self._check_person(request)
        if problem is None:
            self.consent = self._requested_consent(
                request.user,
                request.POST.get("consent_request"),
                request.POST.get("client_id"),
                request.POST.get("scope", "").split(),
            )
            if self.consent is None:
                problem = "This consent request is no longer open."
        if problem:
            return self._refuse(request, problem)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        allow = bool(form.cleaned_data.get("allow"))
        with transaction.atomic():
            try:
                if allow:
                    self.consent = services.consent_grant(consent=self.consent, person=self.request.user)
                else:
                    self.consent = services.consent_reject(consent=self.consent, person=self.request.user)
            except BrokerError as error:
                return self._refuse(self.request, error.message)
            response = super().form_valid(form)
            if allow and "code=" not in response.get("Location", ""):
                # The toolkit refused to issue a code: the grant must not stand alone.
                transaction.set_rollback(True)
        return response

    def create_authorization_response(self, request, scopes, credentials, allow):
        credentials["eidetic_consent"] = self.consent
        return super().create_authorization_response(request, " ".join(self.consent.scopes), credentials, allow)

    def get_initial(self):
        return {**super().get_initial(), "consent_request": self.consent.uid}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["consent"] = self.consent
        context["scope_items"] = self.consent.scope_descriptions()
        context["purpose"] = self.consent.purpose
        return context

    @staticmethod
    def _check_person(request) -> str | None:
        # The toolkit's LoginRequiredMixin has already sent anonymous visitors to log in.
        if not request.user.is_person:
            return "Only a person with a vault can answer a consent request. Log in with your own account."
        return None

    @staticmethod
    def _requested_consent(person, consent_id: str | None, client_id: str | None, scopes: list[str]) -> Consent | None:
        if not consent_id or not client_id:
            return None
        try:
            consent = Consent.objects.select_related("partner", "application").get(
                uid=consent_id, state=Consent.State.REQUESTED, application__client_id=client_id
            )
        except (Consent.DoesNotExist, ValueError, forms.ValidationError):
            return None
        if not consent.may_be_answered_by(person):
            return None  # a request addressed to someone else looks like no request at all
        return consent if sorted(set(scopes)) == consent.scopes else None

    @staticmethod
    def _refuse(request, message: str) -> HttpResponse:
        return render(request, "broker/consent_screen.html", {"problem": message}, status=400)


class ConsentIntrospectView(IntrospectTokenView):
    """RFC 7662 for partners: a client learns about its own tokens only; a token under a
    consent that is not active is inactive; the subject is the pairwise pseudonym."""

    def get(self, request, *args, **kwargs):
        return JsonResponse({"error": "invalid_request", "error_description": "Use POST."}, status=405)

    def post(self, request, *args, **kwargs):
        token_value = request.POST.get("token")
        if not token_value:
            return JsonResponse({"error": "invalid_request", "error_description": "Token parameter is missing."}, 400)
        binding = (
            TokenBinding.objects.select_related("access_token__application", "consent__partner", "consent__person")
            .filter(access_token__token_checksum=checksum(token_value))
            .first()
        )
        inactive = JsonResponse({"active": False})
        if binding is None or binding.access_token.application.client_id != _client_id_of(request):
            return inactive
        token, consent = binding.access_token, binding.consent
        if not token.is_valid() or not consent.is_active_at(timezone.now()):
            return inactive
        return JsonResponse(
            {
                "active": True,
                "scope": token.scope,
                "client_id": token.application.client_id,
                "exp": int(calendar.timegm(token.expires.utctimetuple())),
                "sub": pairwise_pseudonym(consent.person, consent.partner.audience),
                "consent": str(consent.uid),
                "token_type": "Bearer",
            }
        )


def _client_id_of(request) -> str:
    """The (already authenticated) caller's client id, from Basic auth or the form body."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except (ValueError, UnicodeDecodeError):
            return ""
        return unquote_plus(decoded.split(":", 1)[0])
    return request.POST.get("client_id", "")
