"""Catalogue, consent requests (partners' servers) and the person's own consent API."""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from broker import selectors, services
from broker.api import serializers as s
from broker.api.authentication import IsPartnerClient, PartnerClientAuthentication
from broker.api.idempotency import idempotent
from broker.catalogue import PURPOSES, SCOPES

IDEMPOTENCY_NOTE = (
    "Send an `Idempotency-Key` header to make retries safe: the same key with the same body replays the "
    "first response; the same key with a different body is refused with 409 IdempotencyError."
)


class ScopesView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="scopes_list", responses={200: s.ScopeSerializer(many=True)}, tags=["catalogue"])
    def get(self, request):
        """The data scopes a partner can ask for, in plain language."""
        return Response([asdict(scope) for scope in SCOPES.values()])


class PurposesView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="purposes_list", responses={200: s.PurposeSerializer(many=True)}, tags=["catalogue"])
    def get(self, request):
        """Purpose codes (modelled on W3C DPV) a consent request must use."""
        return Response([asdict(purpose) for purpose in PURPOSES.values()])


class ConsentRequestsView(APIView):
    authentication_classes = [PartnerClientAuthentication]
    permission_classes = [IsPartnerClient]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="consent_requests_create",
        description="Create the consent request a person will see on the consent screen; then send her to "
        "`/oauth/authorize/?response_type=code&client_id=...&redirect_uri=...&scope=<the same scopes>"
        "&code_challenge=...&code_challenge_method=S256&state=...&consent_request=<id>`. HTTP Basic with "
        "your client id and secret. " + IDEMPOTENCY_NOTE,
        request=s.ConsentRequestInputSerializer,
        responses={201: s.ConsentRequestCreatedSerializer, 400: s.ErrorSerializer, 401: s.ErrorSerializer},
        examples=[
            OpenApiExample(
                "Coffee chain, loyalty programme",
                request_only=True,
                value={
                    "scopes": ["lifelog.moments:read", "lifelog.location:coarse"],
                    "purpose_code": "LoyaltyProgramme",
                    "purpose_text": "Suggest a drink when you pass one of our cafés.",
                    "data_from": "2026-01-01T00:00:00Z",
                    "data_to": "2026-12-31T00:00:00Z",
                    "frequency_value": 24,
                    "frequency_unit": "DAY",
                    "data_life_value": 30,
                    "data_life_unit": "DAY",
                    "valid_from": "2026-01-01T00:00:00Z",
                    "expires_at": "2027-01-01T00:00:00Z",
                    "price_amount": "0.10",
                    "price_basis": "per_access",
                },
            )
        ],
        tags=["consents (partner)"],
    )
    @idempotent
    def post(self, request):
        data = s.ConsentRequestInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        client = request.auth
        consent = services.consent_request(
            partner=client.partner, application=client.application, **data.validated_data
        )
        body = s.ConsentOutputSerializer(consent).data
        body["authorize_hint"] = f"consent_request={consent.uid}"
        return Response(body, status=201)


class PartnerConsentView(APIView):
    authentication_classes = [PartnerClientAuthentication]
    permission_classes = [IsPartnerClient]

    @extend_schema(
        operation_id="consent_requests_retrieve",
        responses={200: s.ConsentOutputSerializer, 401: s.ErrorSerializer, 404: s.ErrorSerializer},
        tags=["consents (partner)"],
    )
    def get(self, request, consent_id):
        """A consent of yours (any state): poll it, or rely on the webhooks."""
        consent = selectors.consent_of_partner(partner=request.auth.partner, consent_id=consent_id)
        return Response(s.ConsentOutputSerializer(consent).data)


class PersonAPIView(APIView):
    """The person's own API: her browser session (CSRF enforced), never an OAuth token."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]


class MyConsentsView(PersonAPIView):
    @extend_schema(
        operation_id="me_consents_list",
        responses={200: s.PersonConsentSerializer(many=True), 403: s.ErrorSerializer},
        tags=["me"],
    )
    def get(self, request):
        """Your consents with last access and earnings."""
        consents = selectors.consents_of_person(person=request.user)
        return Response(s.PersonConsentSerializer(consents, many=True).data)


class MyConsentActionView(PersonAPIView):
    action: str = ""
    ACTIONS = {"pause": services.consent_pause, "resume": services.consent_resume, "revoke": services.consent_revoke}

    @extend_schema(
        request=None,
        description="Takes effect on the partner's very next call. " + IDEMPOTENCY_NOTE,
        responses={
            200: s.PersonConsentSerializer,
            403: OpenApiResponse(s.ErrorSerializer, description="NotAuthenticated, PermissionDenied (CSRF)"),
            404: OpenApiResponse(s.ErrorSerializer, description="ConsentNotFound"),
            409: OpenApiResponse(s.ErrorSerializer, description="InvalidConsentStatus, IdempotencyError"),
        },
        tags=["me"],
    )
    @idempotent
    def post(self, request, consent_id):
        consent = selectors.own_consent(person=request.user, consent_id=consent_id)
        self.ACTIONS[self.action](consent=consent, person=request.user)
        return Response(
            s.PersonConsentSerializer(selectors.consent_of_person(person=request.user, consent_id=consent_id)).data
        )


def action_view(action: str):
    return MyConsentActionView.as_view(action=action)
