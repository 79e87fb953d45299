"""config.direct: one statement straight through libpq, keeping what a cursor guarantees.

The tests without a mark run on either database (SQLite always takes the cursor); those
marked ``postgres`` check the libpq path itself: that it joins, begins and leaves the
caller's transaction as psycopg's cursor would, and fails the way a cursor fails.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from django.db import DataError, IntegrityError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from config import direct, prepared
from ledger.models import PendingEntry

COLUMNS = ("id", "kind", "actor", "subject", "body", "ts", "created_at")


def _insert(entry_id: uuid.UUID | None = None, *, actor: str = "partner:acme", returning: bool = False):
    fields = [PendingEntry._meta.get_field(name) for name in COLUMNS]
    values = {
        "id": entry_id or uuid.uuid4(),
        "kind": "data.accessed",
        "actor": actor,
        "subject": "consent:1",
        "body": {"count": 3, "nested": {"hash": "ab" * 32}},
        "ts": "2026-11-23T05:00:00.000000Z",
        "created_at": datetime(2026, 11, 23, 5, 0, tzinfo=UTC),
    }
    sql = prepared.insert_sql(connection, PendingEntry, COLUMNS, returning="id" if returning else None)
    params = [field.get_db_prep_save(values[field.attname], connection) for field in fields]
    return direct.execute(sql, params)


def _no_cursor(monkeypatch) -> None:
    """Make any statement sent through Django's cursor fail, to prove one is not."""

    def refuse(*args, **kwargs):
        raise AssertionError("went through Django's cursor")

    monkeypatch.setattr(connections["default"], "cursor", refuse)


def test_the_row_is_written_with_every_value_as_the_orm_writes_it(db):
    entry_id = uuid.uuid4()
    assert _insert(entry_id) is None
    row = PendingEntry.objects.get(id=entry_id)
    assert row.body == {"count": 3, "nested": {"hash": "ab" * 32}}
    assert row.created_at == datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    assert (row.kind, row.actor, row.ts) == ("data.accessed", "partner:acme", "2026-11-23T05:00:00.000000Z")


def test_returning_gives_the_row_with_its_python_types(db):
    entry_id = uuid.uuid4()
    (returned,) = _insert(entry_id, returning=True)
    assert uuid.UUID(str(returned)) == entry_id  # SQLite's cursor gives the stored hex


def test_a_duplicate_key_is_djangos_integrity_error(db):
    entry_id = uuid.uuid4()
    _insert(entry_id)
    with pytest.raises(IntegrityError), transaction.atomic():
        _insert(entry_id)
    assert PendingEntry.objects.filter(id=entry_id).count() == 1


@pytest.mark.postgres
def test_postgres_a_nul_byte_is_refused_not_truncated(db):
    with pytest.raises(DataError, match="NUL"), transaction.atomic():
        _insert(actor="partner:acme\x00tail")
    assert not PendingEntry.objects.exists()


def test_query_hooks_see_the_statement(db):
    seen = []

    def hook(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(hook):
        _insert()
    with CaptureQueriesContext(connection) as captured:
        _insert()
    assert [sql.split(" (")[0] for sql in seen] == [f'INSERT INTO "{PendingEntry._meta.db_table}"']
    assert [query["sql"].split(" (")[0] for query in captured] == [f'INSERT INTO "{PendingEntry._meta.db_table}"']
    assert PendingEntry.objects.count() == 2


def test_placeholders_are_numbered_for_libpq():
    assert direct._numbered("SELECT %s, '100%%', %s") == "SELECT $1, '100%', $2"
    with pytest.raises(ValueError, match="%d"):
        direct._numbered("SELECT %d")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_an_append_of_its_own_commits_through_libpq(monkeypatch):
    _no_cursor(monkeypatch)
    entry_id = uuid.uuid4()
    _insert(entry_id)
    monkeypatch.undo()
    assert connection.connection.pgconn.transaction_status == 0  # IDLE: committed, nothing open
    assert PendingEntry.objects.filter(id=entry_id).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("statement_before", [False, True], ids=["first-statement", "after-another"])
def test_postgres_it_joins_the_callers_transaction_and_rolls_back_with_it(monkeypatch, statement_before):
    entry_id = uuid.uuid4()

    def failing_change():
        with transaction.atomic():
            if statement_before:
                assert PendingEntry.objects.count() == 0  # psycopg begins the transaction here
            _no_cursor(monkeypatch)
            _insert(entry_id)
            monkeypatch.undo()
            assert PendingEntry.objects.filter(id=entry_id).exists()
            raise RuntimeError("the caller's change failed")

    with pytest.raises(RuntimeError, match="caller's change failed"):
        failing_change()
    assert not PendingEntry.objects.filter(id=entry_id).exists()
    with transaction.atomic():
        _insert(entry_id)
    assert PendingEntry.objects.filter(id=entry_id).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_a_transaction_with_options_is_begun_by_psycopg():
    import psycopg

    raw = connections["default"]
    raw.ensure_connection()
    raw.connection.isolation_level = psycopg.IsolationLevel.SERIALIZABLE
    try:
        with transaction.atomic():
            _insert()
            with raw.cursor() as cursor:
                cursor.execute("SHOW transaction_isolation")
                assert cursor.fetchone() == ("serializable",)
    finally:
        raw.connection.isolation_level = None
    assert PendingEntry.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_after_an_error_the_transaction_is_refused_until_rolled_back(monkeypatch):
    entry_id = uuid.uuid4()
    _insert(entry_id)
    with transaction.atomic():
        _no_cursor(monkeypatch)
        with pytest.raises(IntegrityError):
            _insert(entry_id)
        monkeypatch.undo()
        with pytest.raises(Exception, match="transaction is aborted"):
            _insert()
        transaction.set_rollback(True)
    _insert()
    assert PendingEntry.objects.count() == 2
