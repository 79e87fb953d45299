"""The partner endpoint: a person's current top interests under ``insights.interests:read``.

Enforced by ``insights.partner.serve_interests`` with the broker's own checks, so paused,
revoked and expired consents, a missing scope and an exhausted frequency limit are
refused exactly as on the broker's data endpoints, and every call, allowed or denied,
lands in her access log (with the ledger's value entry for priced consents).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from broker import access
from broker.api.serializers import ErrorSerializer
from insights.api.serializers import InterestsSerializer
from insights.partner import serve_interests

DEFAULT_LIMIT = 10


def _parse_limit(value: str | None) -> int:
    """The requested limit; 0 (refused by the read, and logged) when not a number."""
    if value in (None, ""):
        return DEFAULT_LIMIT
    try:
        return int(value)
    except ValueError:
        return 0


class InterestsView(APIView):
    authentication_classes = [OAuth2Authentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="insights_interests",
        summary="The person's current top interests and their trend (never the records beneath)",
        parameters=[OpenApiParameter("limit", OpenApiTypes.INT, description="How many (1-50, default 10).")],
        responses={
            200: InterestsSerializer,
            400: OpenApiResponse(ErrorSerializer, description="InvalidLimit"),
            401: OpenApiResponse(ErrorSerializer, description="NotAuthenticated, InvalidToken"),
            403: OpenApiResponse(
                ErrorSerializer, description="ConsentPaused, ConsentRevoked, ConsentExpired, ScopeNotGranted"
            ),
            429: OpenApiResponse(ErrorSerializer, description="FrequencyExceeded (see the Retry-After header)"),
        },
        tags=["partner data"],
    )
    def get(self, request):
        consent = access.consent_for_token(request.auth)
        limit = _parse_limit(request.query_params.get("limit"))
        return Response(serve_interests(consent=consent, limit=limit, now=access.clock()))
