"""The partner data API: one view per data category, all under the same checks.

A call: OAuth2 bearer token -> its consent -> state, expiry, scope, range, frequency
(``broker.access.check``) -> the vault's sharing selectors (privacy zones applied,
location coarsened when the scope says so) -> log and pay (``record_allowed``).
Refused calls are logged too. Record ids are pairwise per partner, like the subject.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from broker import access
from broker.api import serializers as s
from broker.api.cursors import decode_cursor, encode_cursor
from broker.errors import BrokerError, InvalidDateRange
from broker.models import Consent
from vault import selectors as vault
from vault.keys import PersonKeys
from vault.models import SocialItem

PRECISE, COARSE = "lifelog.location:precise", "lifelog.location:coarse"

PAGE_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATETIME, description="Start (inclusive); default: the consent's."),
    OpenApiParameter("to", OpenApiTypes.DATETIME, description="End (exclusive); default: the consent's."),
    OpenApiParameter("cursor", OpenApiTypes.STR, description="`next_cursor` of the previous page."),
    OpenApiParameter("limit", OpenApiTypes.INT, description="Records per page (1-500, default 100)."),
]
ERROR_RESPONSES = {
    400: OpenApiResponse(s.ErrorSerializer, description="InvalidDateRange, InvalidCursor"),
    401: OpenApiResponse(s.ErrorSerializer, description="NotAuthenticated, AuthenticationFailed, InvalidToken"),
    403: OpenApiResponse(
        s.ErrorSerializer, description="ConsentPaused, ConsentRevoked, ConsentExpired, ScopeNotGranted"
    ),
    429: OpenApiResponse(s.ErrorSerializer, description="FrequencyExceeded (see the Retry-After header)"),
}
DENIED_EXAMPLE = OpenApiExample(
    "Consent paused",
    value={"error": {"code": "ConsentPaused", "message": "The person has paused this consent."}},
    status_codes=["403"],
    response_only=True,
)


def parse_time(value: str | None, default: datetime, name: str) -> datetime:
    if value in (None, ""):
        return default
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidDateRange(f"`{name}` must be an ISO 8601 date-time.")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, timezone.utc)


def _parse_limit(value: str | None) -> int:
    broker = settings.BROKER
    if value in (None, ""):
        return broker["PAGE_SIZE"]
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if not 1 <= limit <= broker["MAX_PAGE_SIZE"]:
        raise InvalidDateRange(f"`limit` must be between 1 and {broker['MAX_PAGE_SIZE']}.")
    return limit


class ConsentedDataView(APIView):
    """Base of the data endpoints; subclasses say which scopes open them and read."""

    authentication_classes = [OAuth2Authentication]
    permission_classes = [IsAuthenticated]
    category: ClassVar[str]
    # Scopes that open this endpoint, preferred first (e.g. precise before coarse).
    scopes: ClassVar[list[str]]

    def get(self, request):
        consent = access.consent_for_token(request.auth)
        now = access.clock()
        scope = self.scopes[0]
        try:
            start = parse_time(request.query_params.get("from"), consent.data_from, "from")
            end = parse_time(request.query_params.get("to"), consent.data_to, "to")
            limit = _parse_limit(request.query_params.get("limit"))
            scope = access.check(consent=consent, scopes=self.scopes, start=start, end=end, now=now)
            after = decode_cursor(request.query_params.get("cursor"), consent_uid=consent.uid, category=self.category)
            # One key-store read per call: the same keys open the records, give the pairwise
            # ids and the ledger pseudonym (the row is still read on every call, so an
            # erased person's keys stop working at once).
            keys = vault.person_keys(consent.person)
            page = self.read(consent, scope, start=start, end=end, after=after, limit=limit, keys=keys)
            access.record_allowed(consent=consent, scope=scope, record_count=len(page.items), now=now, keys=keys)
        except BrokerError as error:
            access.record_denied(consent=consent, scope=scope, error=error, now=now)
            raise
        audience = consent.partner.audience
        items = [self.present(item, pairwise_id=keys.fingerprint(audience, item["id"])) for item in page.items]
        return Response(
            {
                "subject": keys.pseudonym(audience),
                "consent": str(consent.uid),
                "scope": scope,
                "items": items,
                "next_cursor": encode_cursor(page.next_cursor, consent_uid=consent.uid, category=self.category),
            }
        )

    def read(
        self, consent: Consent, scope: str, *, start, end, after, limit, keys: PersonKeys | None = None
    ) -> vault.Page:
        raise NotImplementedError

    def present(self, item: dict[str, Any], *, pairwise_id: str) -> dict[str, Any]:
        return {**item, "id": pairwise_id}


def _location_precision(consent: Consent) -> vault.Precision | None:
    if consent.covers(PRECISE):
        return "precise"
    if consent.covers(COARSE):
        return "coarse"
    return None


class MomentsView(ConsentedDataView):
    category = "moments"
    scopes = ["lifelog.moments:read"]

    @extend_schema(
        operation_id="data_moments",
        summary="Moments (places only with a location scope, never inside privacy zones)",
        parameters=PAGE_PARAMETERS,
        responses={200: s.MomentPageSerializer, **ERROR_RESPONSES},
        examples=[DENIED_EXAMPLE],
        tags=["partner data"],
    )
    def get(self, request):
        return super().get(request)

    def read(self, consent, scope, *, start, end, after, limit, keys=None):
        precision = _location_precision(consent)
        return vault.moments_for_sharing(
            consent.person, start=start, end=end, after=after, limit=limit, precision=precision, keys=keys
        )

    def present(self, item, *, pairwise_id):
        fields = ("occurred_at", "kind", "label", "tags", "sentiment", "place", "hr")
        return {"id": pairwise_id, **{key: item.get(key) for key in fields}}


class LocationView(ConsentedDataView):
    category = "location"
    scopes = [PRECISE, COARSE]

    @extend_schema(
        operation_id="data_location",
        summary="Location points (coarse ~1 km or precise by scope; none inside privacy zones)",
        parameters=PAGE_PARAMETERS,
        responses={200: s.LocationPageSerializer, **ERROR_RESPONSES},
        tags=["partner data"],
    )
    def get(self, request):
        return super().get(request)

    def read(self, consent, scope, *, start, end, after, limit, keys=None):
        precision = "precise" if scope == PRECISE else "coarse"
        return vault.trackpoints_for_sharing(
            consent.person, start=start, end=end, precision=precision, after=after, limit=limit, keys=keys
        )


class HeartRateView(ConsentedDataView):
    category = "heartrate"
    scopes = ["lifelog.heartrate:read"]

    @extend_schema(
        operation_id="data_heartrate",
        summary="Heart-rate readings (times only, no location)",
        parameters=PAGE_PARAMETERS,
        responses={200: s.HeartRatePageSerializer, **ERROR_RESPONSES},
        tags=["partner data"],
    )
    def get(self, request):
        return super().get(request)

    def read(self, consent, scope, *, start, end, after, limit, keys=None):
        return vault.trackpoints_for_sharing(
            consent.person,
            start=start,
            end=end,
            after=after,
            limit=limit,
            include_heart_rate=True,
            include_location=False,
            keys=keys,
        )


class SocialView(ConsentedDataView):
    kinds: ClassVar[list[str]]

    def read(self, consent, scope, *, start, end, after, limit, keys=None):
        return vault.social_items_of(
            consent.person, kinds=self.kinds, start=start, end=end, after=after, limit=limit, keys=keys
        )

    def present(self, item, *, pairwise_id):
        # Handles name other people: they are never passed on.
        fields = ("kind", "network", "occurred_at", "text", "url", "topic")
        return {"id": pairwise_id, **{key: item.get(key) for key in fields}}


class SocialInterestsView(SocialView):
    category = "social_interests"
    scopes = ["social.interests:read"]
    kinds = [SocialItem.Kind.INTEREST, SocialItem.Kind.LIKE]

    @extend_schema(
        operation_id="data_social_interests",
        summary="Social interests and likes",
        parameters=PAGE_PARAMETERS,
        responses={200: s.SocialPageSerializer, **ERROR_RESPONSES},
        tags=["partner data"],
    )
    def get(self, request):
        return super().get(request)


class SocialPostsView(SocialView):
    category = "social_posts"
    scopes = ["social.posts:read"]
    kinds = [SocialItem.Kind.POST]

    @extend_schema(
        operation_id="data_social_posts",
        summary="Social posts the person wrote",
        parameters=PAGE_PARAMETERS,
        responses={200: s.SocialPageSerializer, **ERROR_RESPONSES},
        tags=["partner data"],
    )
    def get(self, request):
        return super().get(request)
