"""The product's URLs plus the benchmark's baseline: a plain DRF endpoint serving the
same moments, stored unencrypted in a side table, with no token, consent, frequency,
privacy or logging work: only keyset pagination and JSON rendering."""

from __future__ import annotations

import json

from django.db import connection
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as product_urlpatterns

PLAIN_TABLE = "bench_plain_moment"


class PlainMomentsView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        after = request.query_params.get("after")
        sql = f"SELECT id, occurred_at, payload FROM {PLAIN_TABLE}"  # noqa: S608 - constant table name
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
        items = [{"id": str(row_id), "occurred_at": at, **json.loads(payload)} for row_id, at, payload in page]
        next_cursor = f"{page[-1][1].isoformat()}|{page[-1][0]}" if more else None
        return Response({"items": items, "next_cursor": next_cursor})


urlpatterns = [path("bench/plain/moments", PlainMomentsView.as_view()), *product_urlpatterns]
