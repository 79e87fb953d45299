"""config.prepared: a query compiled once gives what the ORM gives, on SQLite and on
PostgreSQL (the suite runs on both), for every shape the hot paths use."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from oauth2_provider.models import AccessToken

from broker.models import AccessLogEntry
from broker.oauth import _TOKEN_COLUMNS, _token_lookup
from config import prepared
from config.prepared import PreparedQuery, PreparedQueryError
from ledger.models import PendingEntry
from tests.broker.conftest import grant
from tests.broker.vaultdata import add_moments
from vault import selectors
from vault.models import Moment
from vault.selectors import Cursor

pytestmark = pytest.mark.django_db
BASE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _orm_moment_rows(owner, start, end, after, limit):
    return [
        tuple(row)
        for row in selectors._moment_rows_query(
            owner=owner.pk,
            start=start,
            end=end,
            after_at=after.at if after else None,
            after_id=after.id if after else None,
            limit=limit,
        )
    ]


def _prepared_moment_rows(owner, start, end, after, limit):
    return selectors._moment_rows_of(owner.pk, start=start, end=end, after=after, limit=limit)


def test_moment_pages_match_the_orm_in_every_shape(person, other_person):
    # Ties on the timestamp, so the cursor's id tie-break matters; another owner's rows
    # in the same times must never appear.
    moments = add_moments(person, BASE, 12, step=timedelta(0)) + add_moments(person, BASE + timedelta(hours=1), 12)
    add_moments(other_person, BASE, 12)
    ordered = sorted(moments, key=lambda moment: (moment.occurred_at, moment.id))
    middle = Cursor(ordered[5].occurred_at, ordered[5].id)
    later = Cursor(ordered[15].occurred_at, ordered[15].id)
    start, end = BASE - timedelta(days=1), BASE + timedelta(minutes=70)
    shapes = [
        (None, None, None, None),
        (start, end, None, 5),
        (start, end, middle, 5),
        (start, end, later, 100),
        (None, end, middle, None),
        (start, None, later, 3),
    ]
    for shape in shapes:
        expected = _orm_moment_rows(person, *shape)
        assert expected, shape
        assert _prepared_moment_rows(person, *shape) == expected, shape
    # Values change between calls of one compiled shape: each call gets its own.
    assert _prepared_moment_rows(person, start, end, middle, 5)[0][0] == ordered[6].id
    assert _prepared_moment_rows(person, start, end, later, 5)[0][0] == ordered[16].id
    assert _prepared_moment_rows(other_person, start, end, None, 100) == _orm_moment_rows(
        other_person, start, end, None, 100
    )


def test_the_token_lookup_builds_what_the_orm_builds(person, partner):
    result = grant(person, partner)
    token = AccessToken.objects.get(consent_binding__consent=result.consent)
    related = ("application", "user", "consent_binding__consent__partner")
    expected = AccessToken.objects.select_related(*related).only(*_TOKEN_COLUMNS).get(pk=token.pk)

    (found,) = _token_lookup.instances(checksum=token.token_checksum)

    def fields(instance, names):
        return {name: getattr(instance, name) for name in names}

    token_fields = ["id", "user_id", "application_id", "expires", "scope", "token_checksum"]
    assert fields(found, token_fields) == fields(expected, token_fields)
    assert fields(found.user, ["id", "uid", "username", "role"]) == fields(
        expected.user, ["id", "uid", "username", "role"]
    )
    assert found.application.client_id == expected.application.client_id
    consent_fields = [field.attname for field in type(expected.consent_binding.consent)._meta.concrete_fields]
    consent_fields.remove("created_at")
    consent_fields.remove("updated_at")
    assert fields(found.consent_binding.consent, consent_fields) == fields(
        expected.consent_binding.consent, consent_fields
    )
    assert found.consent_binding.consent.partner.uid == partner.partner.uid
    assert _token_lookup.instances(checksum="0" * 64) == []


def test_a_value_that_does_not_reach_the_sql_is_refused(person):
    # The build ignores ``owner``: the prepared query would silently return everyone's rows.
    careless = PreparedQuery(
        lambda owner: Moment.objects.values_list("id"),
        owner=Moment._meta.get_field("owner"),
    )
    with pytest.raises(PreparedQueryError, match="owner"):
        careless.rows(owner=person.pk)


def test_missing_or_unknown_values_are_a_type_error(person):
    query = PreparedQuery(
        lambda owner: Moment.objects.filter(owner_id=owner).values_list("id"),
        owner=Moment._meta.get_field("owner"),
    )
    with pytest.raises(TypeError):
        query.rows()
    with pytest.raises(TypeError):
        query.rows(owner=person.pk, extra=1)


def test_many_shapes_stay_correct_beyond_the_cache_bound(person):
    add_moments(person, BASE, 40)
    for limit in range(1, prepared._MAX_SHAPES + 8):
        assert _prepared_moment_rows(person, None, None, None, limit) == _orm_moment_rows(
            person, None, None, None, limit
        )


def test_insert_writes_the_row_save_would_write(person, partner):
    result = grant(person, partner)
    consent = result.consent
    at = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
    entry = prepared.insert(
        AccessLogEntry(
            consent=consent,
            person=person,
            partner=consent.partner,
            purpose_code="ServicePersonalisation",
            scope="lifelog.moments:read",
            record_count=7,
            outcome=AccessLogEntry.Outcome.ALLOWED,
            amount=Decimal("0.25"),
            at=at,
        )
    )
    assert entry.pk is not None
    assert not entry._state.adding
    stored = AccessLogEntry.objects.get(pk=entry.pk)
    assert (stored.uid, stored.consent_id, stored.record_count, stored.amount, stored.at, stored.error_code) == (
        entry.uid,
        consent.pk,
        7,
        Decimal("0.25"),
        at,
        "",
    )
    assert isinstance(stored.uid, uuid.UUID)


@pytest.mark.postgres
def test_a_deep_page_starts_its_index_scan_at_the_cursor(person):
    """Page n must not re-read the n - 1 pages before it, even before the table's
    statistics know its rows (a fresh import): the index holds the page order."""
    moments = sorted(add_moments(person, BASE, 2000), key=lambda moment: (moment.occurred_at, moment.id))
    after = Cursor(moments[1500].occurred_at, moments[1500].id)
    queryset = selectors._moment_rows_query(
        owner=person.pk, start=BASE, end=BASE + timedelta(days=30), after_at=after.at, after_id=after.id, limit=100
    )
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def rows_read(node) -> int:
        own = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0) if "Scan" in node["Node Type"] else 0
        return own + sum(rows_read(child) for child in node.get("Plans", []))

    assert rows_read(plan[0]["Plan"]) <= 110, plan


def test_insert_keeps_a_primary_key_the_model_gives_itself():
    # PendingEntry's id is a UUID made by the model, not numbered by the database: it
    # must be written as given (and nothing read back).
    entry = PendingEntry(
        kind="test.kind", actor="actor:1", subject="person:x", body={"n": 1}, ts="2026-03-01T09:00:00Z"
    )
    given = entry.id
    prepared.insert(entry)
    assert entry.pk == given
    stored = PendingEntry.objects.get(pk=given)
    assert (stored.kind, stored.body, stored.ts) == ("test.kind", {"n": 1}, "2026-03-01T09:00:00Z")
