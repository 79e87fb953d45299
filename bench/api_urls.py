"""The product's URLs plus the benchmark's baselines, serving the same moments stored
unencrypted in a side table, with no token, consent, frequency, privacy or logging work:

- ``/bench/plain/moments``: the plain DRF endpoint as DRF is normally written: a generic
  ``ListAPIView`` with a ``ModelSerializer`` and ``CursorPagination`` (the issue's baseline);
- ``/bench/floor/moments``: a hand-tuned floor below it: one raw SQL query and
  ``json.loads``, no serializer (printed for reference, to show what the checks cost
  against the least any endpoint can do).
"""

from __future__ import annotations

import json

from django.db import connection, models
from django.urls import path
from rest_framework import generics, pagination, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as product_urlpatterns

PLAIN_TABLE = "bench_plain_moment"


class PlainMoment(models.Model):
    """The same fields a moment has once opened, in clear (bench-only, unmanaged table)."""

    id = models.UUIDField(primary_key=True)
    occurred_at = models.DateTimeField()
    kind = models.CharField(max_length=20)
    label = models.CharField(max_length=200)
    tags = models.JSONField()
    sentiment = models.CharField(max_length=20)
    place = models.JSONField(null=True)
    hr = models.IntegerField(null=True)

    class Meta:
        app_label = "vault"
        managed = False
        db_table = PLAIN_TABLE


class PlainMomentSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlainMoment
        fields = ["id", "occurred_at", "kind", "label", "tags", "sentiment", "place", "hr"]


class PageOf100(pagination.CursorPagination):
    page_size = 100
    ordering = ("occurred_at", "id")


class PlainMomentsView(generics.ListAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    queryset = PlainMoment.objects.all()
    serializer_class = PlainMomentSerializer
    pagination_class = PageOf100


class FloorMomentsView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        after = request.query_params.get("after")
        columns = "id, occurred_at, kind, label, tags, sentiment, place, hr"
        sql = f"SELECT {columns} FROM {PLAIN_TABLE}"  # noqa: S608 - constant table name
        params: list = []
        if after:
            at, row_id = after.split("|")
            sql += " WHERE (occurred_at, id) > (%s, %s)"
            params = [at, row_id]
        sql += " ORDER BY occurred_at, id LIMIT 101"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        page, more = rows[:100], len(rows) > 100
        # Django hands jsonb back as text (it parses JSON in its own fields only).
        items = [
            {
                "id": str(row_id),
                "occurred_at": at,
                "kind": kind,
                "label": label,
                "tags": json.loads(tags),
                "sentiment": sentiment,
                "place": json.loads(place) if place else None,
                "hr": hr,
            }
            for row_id, at, kind, label, tags, sentiment, place, hr in page
        ]
        next_cursor = f"{page[-1][1].isoformat()}|{page[-1][0]}" if more else None
        return Response({"items": items, "next_cursor": next_cursor})


urlpatterns = [
    path("bench/plain/moments", PlainMomentsView.as_view()),
    path("bench/floor/moments", FloorMomentsView.as_view()),
    *product_urlpatterns,
]
