"""The club API. Partner calls go through the broker's read path (``broker.access``):
token -> consent -> state, scope, range, frequency -> club membership and rules ->
log (and pay, if the consent is priced). Refusals are logged like any partner call.
The person's own endpoints use her browser session, like ``/api/v1/me/consents``."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from broker import access
from broker.api.authentication import IsPartnerClient, PartnerClientAuthentication
from broker.api.data import parse_time
from broker.api.serializers import ErrorSerializer
from broker.api.views import PersonAPIView
from broker.errors import BrokerError
from club import introductions, segments, selectors, services
from club.api import serializers as s
from club.errors import ClubError, InvalidIntroduction, InvalidObservation, InvalidSegmentQuery
from vault.selectors import person_keys

CONTRIBUTE = "vault.contribute:write"
VIEW = "club.view:read"
# A time range must be non-empty; an observation is an instant.
INSTANT = timedelta(microseconds=1)


def _observation_input(data) -> dict:
    serializer = s.ObservationInputSerializer(data=data)
    if not serializer.is_valid():
        # Field names only: the values may be personal data.
        raise InvalidObservation(f"Invalid fields: {', '.join(sorted(serializer.errors))}.")
    return serializer.validated_data


def _note_violation(club, partner, error, now) -> None:
    """A refusal for breaking the club's rules is a violation on the member's record."""
    if club is not None and isinstance(error, ClubError):
        services.violation_record(club=club, partner=partner, error=error, now=now)


class ObservationsView(APIView):
    authentication_classes = [OAuth2Authentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="club_observation_contribute",
        summary="Contribute an observation about the person into her vault",
        request=s.ObservationInputSerializer,
        responses={
            201: s.ObservationOutputSerializer,
            200: s.ObservationOutputSerializer,
            400: OpenApiResponse(ErrorSerializer, description="InvalidObservation, InvalidDateRange"),
            401: OpenApiResponse(ErrorSerializer, description="InvalidToken"),
            403: OpenApiResponse(
                ErrorSerializer,
                description="ScopeNotGranted, ConsentRevoked, NotClubMember, MemberSuspended, CategoryNotAllowed",
            ),
            404: OpenApiResponse(ErrorSerializer, description="ClubNotFound"),
            429: OpenApiResponse(ErrorSerializer, description="FrequencyExceeded, QuotaExceeded"),
        },
        tags=["club"],
    )
    def post(self, request):
        consent = access.consent_for_token(request.auth)
        now = access.clock()
        club = None
        try:
            data = _observation_input(request.data)
            club = selectors.club_by_uid(data["club"])
            observed_at = data["observed_at"]
            access.check(consent=consent, scopes=[CONTRIBUTE], start=observed_at, end=observed_at + INSTANT, now=now)
            with transaction.atomic():
                observation, created = services.observation_contribute(
                    consent=consent,
                    club=club,
                    category=data["category"],
                    kind=data["kind"],
                    label=data["label"],
                    observed_at=observed_at,
                    now=now,
                    place=(data["lat"], data["lon"]) if "lat" in data else None,
                )
                access.record_allowed(consent=consent, scope=CONTRIBUTE, record_count=int(created), now=now)
        except BrokerError as error:
            access.record_denied(consent=consent, scope=CONTRIBUTE, error=error, now=now)
            _note_violation(club, consent.partner, error, now)
            raise
        keys = person_keys(consent.person)
        audience = consent.partner.audience
        body = {
            "id": keys.fingerprint(audience, observation.id),
            "subject": keys.pseudonym(audience),
            "club": str(club.uid),
            "created": created,
        }
        return Response(body, status=201 if created else 200)


class ClubView(APIView):
    authentication_classes = [OAuth2Authentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="club_view",
        summary="The combined observations of all club members about the person",
        parameters=[
            OpenApiParameter("club", OpenApiTypes.UUID, required=True),
            OpenApiParameter(
                "category", OpenApiTypes.STR, many=True, description="Default: every category you qualify for."
            ),
            OpenApiParameter("from", OpenApiTypes.DATETIME, description="Default: the consent's start."),
            OpenApiParameter("to", OpenApiTypes.DATETIME, description="Default: the consent's end."),
        ],
        responses={
            200: s.ClubViewSerializer,
            400: OpenApiResponse(ErrorSerializer, description="InvalidDateRange"),
            401: OpenApiResponse(ErrorSerializer, description="InvalidToken"),
            403: OpenApiResponse(
                ErrorSerializer,
                description="ScopeNotGranted, ConsentRevoked, NotClubMember, MemberSuspended, MemberExpelled, "
                "CategoryNotAllowed, ReciprocityRequired",
            ),
            404: OpenApiResponse(ErrorSerializer, description="ClubNotFound"),
            409: OpenApiResponse(ErrorSerializer, description="NoRules"),
            429: OpenApiResponse(ErrorSerializer, description="FrequencyExceeded, ReadQuotaExceeded (Retry-After)"),
        },
        tags=["club"],
    )
    def get(self, request):
        consent = access.consent_for_token(request.auth)
        now = access.clock()
        params = request.query_params
        club = None
        try:
            club = selectors.club_by_uid(params.get("club"))
            start = parse_time(params.get("from"), consent.data_from, "from")
            end = parse_time(params.get("to"), consent.data_to, "to")
            scope = access.check(consent=consent, scopes=[VIEW], start=start, end=end, now=now)
            membership = selectors.membership_for(club=club, partner=consent.partner)
            rules = selectors.rules_of(club)
            selectors.check_read_quota(membership=membership, rules=rules, now=now)
            categories = selectors.consumable_categories(
                membership=membership, rules=rules, requested=params.getlist("category"), now=now
            )
            items = selectors.club_view(
                person=consent.person,
                club=club,
                categories=categories,
                start=start,
                end=end,
                audience=consent.partner.audience,
            )
            with transaction.atomic():
                # The log entry and the club's value entry commit together or not at all.
                access.record_allowed(consent=consent, scope=scope, record_count=len(items), now=now)
                services.read_settle(club=club, rules=rules, reader=membership, person=consent.person, items=items)
        except BrokerError as error:
            access.record_denied(consent=consent, scope=VIEW, error=error, now=now)
            _note_violation(club, consent.partner, error, now)
            raise
        body = {
            "subject": person_keys(consent.person).pseudonym(consent.partner.audience),
            "consent": str(consent.uid),
            "club": str(club.uid),
            "rules_version": rules.version,
            "categories": categories,
            "items": s.ClubItemSerializer(items, many=True).data,
        }
        return Response(body)


class MyObservationsView(PersonAPIView):
    @extend_schema(
        operation_id="me_club_observations_list",
        responses={200: s.MyObservationSerializer(many=True), 403: ErrorSerializer},
        tags=["me"],
    )
    def get(self, request):
        """What club members contributed about you, and who."""
        return Response(s.MyObservationSerializer(selectors.observations_about(request.user), many=True).data)


class MyObservationView(PersonAPIView):
    @extend_schema(
        operation_id="me_club_observation_delete",
        responses={204: None, 403: ErrorSerializer, 404: ErrorSerializer},
        tags=["me"],
    )
    def delete(self, request, observation_id: UUID):
        """Delete an observation about you: it is absent from every later read."""
        services.observation_delete(person=request.user, observation_id=observation_id)
        return Response(status=204)

    @extend_schema(
        operation_id="me_club_observation_correct",
        request=s.ObservationCorrectionSerializer,
        responses={204: None, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
        tags=["me"],
    )
    def patch(self, request, observation_id: UUID):
        """Correct an observation about you (category, kind, label): every later read and
        statistic sees your version."""
        serializer = s.ObservationCorrectionSerializer(data=request.data)
        if not serializer.is_valid():
            raise InvalidObservation(f"Invalid fields: {', '.join(sorted(serializer.errors))}.")
        services.observation_correct(person=request.user, observation_id=observation_id, **serializer.validated_data)
        return Response(status=204)


class MemberRulesView(APIView):
    """For a member's server (HTTP Basic with its OAuth client): rules, standing, and
    how far it is from reciprocity in each category."""

    authentication_classes = [PartnerClientAuthentication]
    permission_classes = [IsPartnerClient]

    @extend_schema(
        operation_id="club_member_rules",
        responses={
            200: s.MemberSummarySerializer,
            401: ErrorSerializer,
            403: OpenApiResponse(ErrorSerializer, description="NotClubMember"),
            404: OpenApiResponse(ErrorSerializer, description="ClubNotFound"),
            409: OpenApiResponse(ErrorSerializer, description="NoRules"),
        },
        tags=["club"],
    )
    def get(self, request, club_id: UUID):
        club = selectors.club_by_uid(club_id)
        summary = selectors.member_summary(club=club, partner=request.auth.partner, now=access.clock())
        return Response(summary)


class SegmentQueryView(APIView):
    """For a member's server (HTTP Basic with its OAuth client): counts of the club's
    consenting people by category x ~10 km region x week, with k-suppression and
    Laplace noise, charged to the member's privacy budget."""

    authentication_classes = [PartnerClientAuthentication]
    permission_classes = [IsPartnerClient]

    @extend_schema(
        operation_id="club_segments_query",
        summary="Segment statistics across the club's consenting people (differentially private)",
        request=s.SegmentQueryInputSerializer,
        responses={
            200: s.SegmentAnswerSerializer,
            400: OpenApiResponse(ErrorSerializer, description="InvalidSegmentQuery"),
            401: ErrorSerializer,
            403: OpenApiResponse(
                ErrorSerializer,
                description="NotClubMember, MemberSuspended, MemberExpelled, CategoryNotAllowed, ReciprocityRequired",
            ),
            404: OpenApiResponse(ErrorSerializer, description="ClubNotFound"),
            409: OpenApiResponse(ErrorSerializer, description="NoRules"),
            429: OpenApiResponse(ErrorSerializer, description="PrivacyBudgetExhausted (with Retry-After)"),
        },
        tags=["club"],
    )
    def post(self, request):
        serializer = s.SegmentQueryInputSerializer(data=request.data)
        if not serializer.is_valid():
            raise InvalidSegmentQuery(f"Invalid fields: {', '.join(sorted(serializer.errors))}.")
        data = serializer.validated_data
        club, now = selectors.club_by_uid(data["club"]), access.clock()
        try:
            answer = segments.segments_query(
                club=club,
                partner=request.auth.partner,
                categories=data.get("categories"),
                week_from=data["week_from"],
                week_to=data["week_to"],
                epsilon=data.get("epsilon"),
                now=now,
            )
        except ClubError as error:
            _note_violation(club, request.auth.partner, error, now)
            raise
        query = answer.query
        body = {
            "club": club.uid,
            "rules_version": selectors.rules_of(club).version,
            "categories": query.categories,
            "week_from": query.week_from,
            "week_to": query.week_to,
            "k": answer.k,
            "epsilon": query.epsilon,
            "sensitivity": query.sensitivity(),
            "noise_scale": answer.noise_scale,
            "budget_left": answer.budget_left,
            "charge": answer.charge.uid,
            "cells": answer.cells,
        }
        return Response(s.SegmentAnswerSerializer(body).data)


def _consent_terms(terms) -> dict:
    # A field's default skips validation: "0" would arrive as a (truthy) string.
    return {**terms, "price_amount": Decimal(str(terms.get("price_amount", "0")))}


class IntroductionsView(APIView):
    """For a member's server: ask the club to send a consent request to each person of a
    segment. Answers how many were asked; the people stay unknown until they approve."""

    authentication_classes = [PartnerClientAuthentication]
    permission_classes = [IsPartnerClient]

    @extend_schema(
        operation_id="club_introductions_request",
        summary="Be introduced to the people of a segment (they get your consent request in their portal)",
        request=s.IntroductionInputSerializer,
        responses={
            201: s.IntroductionOutputSerializer,
            400: OpenApiResponse(ErrorSerializer, description="InvalidIntroduction, InvalidSegmentQuery"),
            401: ErrorSerializer,
            403: OpenApiResponse(
                ErrorSerializer, description="NotClubMember, MemberSuspended, CategoryNotAllowed, ReciprocityRequired"
            ),
            404: OpenApiResponse(ErrorSerializer, description="ClubNotFound"),
            409: OpenApiResponse(ErrorSerializer, description="SegmentTooSmall, NoRules"),
            429: OpenApiResponse(ErrorSerializer, description="PrivacyBudgetExhausted"),
        },
        tags=["club"],
    )
    def post(self, request):
        serializer = s.IntroductionInputSerializer(data=request.data)
        if not serializer.is_valid():
            raise InvalidIntroduction(f"Invalid fields: {', '.join(sorted(serializer.errors))}.")
        data = serializer.validated_data
        club, client, now = selectors.club_by_uid(data["club"]), request.auth, access.clock()
        try:
            batch = introductions.introductions_request(
                club=club,
                partner=client.partner,
                application=client.application,
                categories=data.get("categories"),
                week_from=data["week_from"],
                week_to=data["week_to"],
                consent_terms=_consent_terms(data["consent"]),
                authorize={key: data[key] for key in ("redirect_uri", "code_challenge", "state")},
                now=now,
                epsilon=data.get("epsilon"),
            )
        except ClubError as error:
            _note_violation(club, client.partner, error, now)
            raise
        return Response({"batch": str(batch.uid), "requests_sent_approx": batch.requests_sent_approx}, status=201)
