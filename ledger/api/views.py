"""The public, read-only, rate-limited auditor API. No authentication: everything here is public."""

from __future__ import annotations

import base64

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.ratelimit import AddressRateThrottle
from ledger import selectors
from ledger.errors import InvalidParameter


class AuditorThrottle(AddressRateThrottle):
    """Per-client-address limit for the public API (rate: REST_FRAMEWORK's "auditor")."""

    scope = "auditor"


class PlainTextRenderer(BaseRenderer):
    media_type = "text/plain"
    format = "txt"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode() if isinstance(data, str) else data


class PlainTextOrJsonRenderer(PlainTextRenderer):
    """Notes are text/plain; errors about them still come back as the house JSON error body."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict):
            response = (renderer_context or {}).get("response")
            if response is not None:
                response["Content-Type"] = "application/json"
            return JSONRenderer().render(data)
        return super().render(data, accepted_media_type, renderer_context)


class AuditorView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuditorThrottle]


def _int_param(request: Request, name: str, *, required: bool = True) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if required:
            raise InvalidParameter(f"query parameter '{name}' is required")
        return None
    try:
        return int(raw)
    except ValueError as error:
        raise InvalidParameter(f"query parameter '{name}' must be an integer") from error


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


ERROR_RESPONSE = inline_serializer(
    "LedgerError",
    {
        "error": inline_serializer(
            "LedgerErrorBody", {"code": serializers.CharField(), "message": serializers.CharField()}
        )
    },
)
NOTE_RESPONSE = OpenApiResponse(OpenApiTypes.STR, description="A C2SP signed note (text/plain)")


class LatestCheckpointView(AuditorView):
    renderer_classes = [PlainTextOrJsonRenderer]

    @extend_schema(
        summary="Latest signed checkpoint",
        description="The latest C2SP tlog-checkpoint, signed as a C2SP note with the log's Ed25519 key.",
        # Notes are text/plain, errors JSON: each status names its own media type.
        responses={(200, "text/plain"): NOTE_RESPONSE, (404, "application/json"): ERROR_RESPONSE},
        tags=["ledger"],
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.latest_checkpoint().note, content_type="text/plain; charset=utf-8")


class CheckpointView(AuditorView):
    renderer_classes = [PlainTextOrJsonRenderer]

    @extend_schema(
        summary="Signed checkpoint of one size",
        responses={
            (200, "text/plain"): NOTE_RESPONSE,
            (400, "application/json"): ERROR_RESPONSE,
            (404, "application/json"): ERROR_RESPONSE,
        },
        tags=["ledger"],
    )
    def get(self, request: Request, size: int) -> Response:
        return Response(selectors.checkpoint_of_size(size).note, content_type="text/plain; charset=utf-8")


class EntriesView(AuditorView):
    class OutputSerializer(serializers.Serializer):
        entries = inline_serializer(
            "LedgerEntry",
            {
                "seq": serializers.IntegerField(),
                "entry": serializers.CharField(help_text="base64 of the entry's canonical JSON bytes"),
                "leaf_hash": serializers.CharField(help_text="hex SHA-256(0x00 || entry bytes)"),
            },
            many=True,
        )

    @extend_schema(
        summary="Entries start..end-1",
        description="At most PAGE_SIZE entries per answer: ask again from the seq after the last one returned.",
        parameters=[
            OpenApiParameter("start", int, required=True, description="first seq (0 or more)"),
            OpenApiParameter("end", int, required=False, description="one past the last seq wanted"),
        ],
        responses={200: OutputSerializer, 400: ERROR_RESPONSE},
        tags=["ledger"],
    )
    def get(self, request: Request) -> Response:
        start = _int_param(request, "start")
        end = _int_param(request, "end", required=False)
        page = selectors.entries_page(start=start, end=end)
        return Response(
            {
                "entries": [
                    {"seq": entry.seq, "entry": _b64(bytes(entry.data)), "leaf_hash": bytes(entry.leaf_hash).hex()}
                    for entry in page
                ]
            }
        )


class InclusionProofView(AuditorView):
    @extend_schema(
        summary="RFC 9162 inclusion proof",
        parameters=[
            OpenApiParameter("index", int, required=True, description="the entry's seq"),
            OpenApiParameter("size", int, required=True, description="tree size (a checkpoint's size)"),
        ],
        responses={
            200: inline_serializer(
                "InclusionProof",
                {
                    "index": serializers.IntegerField(),
                    "size": serializers.IntegerField(),
                    "leaf_hash": serializers.CharField(),
                    "proof": serializers.ListField(child=serializers.CharField(), help_text="base64 hashes, in order"),
                },
            ),
            400: ERROR_RESPONSE,
        },
        tags=["ledger"],
    )
    def get(self, request: Request) -> Response:
        index, size = _int_param(request, "index"), _int_param(request, "size")
        proof = selectors.inclusion_proof(index=index, size=size)
        leaf = selectors.entries_page(start=index, end=index + 1)[0].leaf_hash
        return Response(
            {"index": index, "size": size, "leaf_hash": bytes(leaf).hex(), "proof": [_b64(p) for p in proof]}
        )


class ConsistencyProofView(AuditorView):
    @extend_schema(
        summary="RFC 9162 consistency proof",
        parameters=[
            OpenApiParameter("old", int, required=True, description="the older tree size (1 or more)"),
            OpenApiParameter("new", int, required=True, description="the newer tree size"),
        ],
        responses={
            200: inline_serializer(
                "ConsistencyProof",
                {
                    "old": serializers.IntegerField(),
                    "new": serializers.IntegerField(),
                    "proof": serializers.ListField(child=serializers.CharField(), help_text="base64 hashes, in order"),
                },
            ),
            400: ERROR_RESPONSE,
        },
        tags=["ledger"],
    )
    def get(self, request: Request) -> Response:
        old, new = _int_param(request, "old"), _int_param(request, "new")
        proof = selectors.consistency_proof(old=old, new=new)
        return Response({"old": old, "new": new, "proof": [_b64(p) for p in proof]})


class KeyView(AuditorView):
    renderer_classes = [PlainTextOrJsonRenderer]

    @extend_schema(
        summary="The log's C2SP verifier key",
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="<name>+<hex key id>+<base64 key>")
        },
        tags=["ledger"],
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.verifier_key() + "\n", content_type="text/plain; charset=utf-8")
