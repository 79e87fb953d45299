"""One statement straight through libpq, for the hottest writes.

Every consent change and every paid partner read appends a ledger entry: one small INSERT,
and the partner read also logs its access. Sent through Django's cursor, a quarter of the
client's CPU for it went to psycopg's Python-level execute (its generator-driven wait
loop, client-side literal quoting) and the cursor wrapper. The same INSERT sent with
psycopg's documented libpq layer (``PGconn.exec_params``: one C call that sends, waits and
reads; parameters bound server-side) cost one writer 258-260 µs of CPU instead of 318-355.
With 8 writers on 2 cores, where that CPU is what bounds the rate, the writers spent
361-441 µs per append instead of 394-512, and appends ran at 0.98-1.29 of the raw ORM
insert rate instead of 0.90-1.04 (alternating runs of ``bench/ledger_append.py``;
bench/RESULTS.md, session 7).

What the bypass must keep of Django's cursor, it keeps:

- the caller's transaction: the statement runs on the same connection and joins the
  transaction psycopg has begun, or commits on its own in autocommit, exactly as a cursor
  would. In an ``atomic`` block whose first statement this is, it sends the plain BEGIN
  psycopg would have sent; a connection configured with an isolation level or read-only
  transactions goes through the cursor, which begins them with those options.
- errors: raised as Django's exceptions (``IntegrityError``, ``OperationalError``...) by the
  same ``wrap_database_errors`` a cursor uses, so the connection is marked for closing
  after a failure just the same; a transaction already broken is refused first.
- hooks: with ``connection.execute_wrapper`` hooks or the query log on (DEBUG,
  ``assertNumQueries``, ``CaptureQueriesContext``) the statement goes through the cursor,
  so they see it.
- parameters: adapted by psycopg's own ``Transformer`` from the connection's adapters, so
  values reach the server exactly as a cursor with server-side binding would send them
  (and strings with a NUL byte are refused, not truncated).

Other databases (SQLite) always use the cursor. Prepared (named) statements are not used:
they are per-connection state that a transaction-pooling proxy would break.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

_PLACEHOLDER = re.compile(r"%(.)")
_statements: dict[str, str] = {}


def execute(sql: str, params: Sequence[Any], *, using: str = DEFAULT_DB_ALIAS) -> tuple | None:
    """Run ``sql`` (``%s`` placeholders, as for a cursor) with ``params`` on the ``using``
    database; return the first row it returns, if any (an ``INSERT ... RETURNING``)."""
    connection = connections[using]  # once: each attribute read through the proxy costs a lookup
    if connection.vendor == "postgresql" and not connection.execute_wrappers and not connection.queries_logged:
        connection.validate_no_broken_transaction()
        connection.ensure_connection()
        raw = connection.connection
        if _ready_to_run_directly(raw):
            return _run_directly(connection, raw, sql, params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() if cursor.description else None


def _ready_to_run_directly(raw) -> bool:
    """Whether the statement can go straight to libpq. When psycopg has yet to begin the
    caller's transaction, this begins it (the plain BEGIN its cursor would send) and says
    yes; when the BEGIN fails (a lost connection) the cursor takes over and reports it."""
    from psycopg import pq

    pgconn = raw.pgconn
    if pgconn.pipeline_status != pq.PipelineStatus.OFF:
        return False
    status = pgconn.transaction_status
    if status == pq.TransactionStatus.INTRANS or (status == pq.TransactionStatus.IDLE and raw.autocommit):
        return True  # inside the transaction psycopg began, or a statement of its own
    if status != pq.TransactionStatus.IDLE or (raw.isolation_level, raw.read_only, raw.deferrable) != (None,) * 3:
        return False  # a query under way, a failed transaction, or a BEGIN with options: the cursor's
    # An atomic block whose first statement this is. psycopg decides whether to begin by
    # the server's transaction status, so after this BEGIN it carries on (and commits or
    # rolls back) as if it had sent it itself.
    result = pgconn.exec_(b"BEGIN")
    return result.status == pq.ExecStatus.COMMAND_OK


def _run_directly(connection, raw, sql: str, params: Sequence[Any]) -> tuple | None:
    from psycopg import errors, pq
    from psycopg.adapt import PyFormat, Transformer

    transformer = Transformer(raw)
    encoding = raw.info.encoding
    command = _numbered(sql).encode(encoding)
    with connection.wrap_database_errors:
        values = transformer.dump_sequence(params, [PyFormat.AUTO] * len(params))
        result = raw.pgconn.exec_params(command, values, transformer.types, transformer.formats)
        if result.status == pq.ExecStatus.COMMAND_OK:
            return None
        if result.status != pq.ExecStatus.TUPLES_OK:
            raise errors.error_from_result(result, encoding=encoding)
    if not result.ntuples:
        return None
    transformer.set_pgresult(result)
    return transformer.load_row(0, tuple)


def _numbered(sql: str) -> str:
    """``%s`` placeholders as libpq's ``$1, $2...`` (and ``%%`` as ``%``), once per statement."""
    numbered = _statements.get(sql)
    if numbered is None:
        count = 0

        def number(match: re.Match) -> str:
            nonlocal count
            if match.group(1) == "%":
                return "%"
            if match.group(1) != "s":
                raise ValueError(f"Only %s placeholders are supported, not %{match.group(1)}.")
            count += 1
            return f"${count}"

        numbered = _statements[sql] = _PLACEHOLDER.sub(number, sql)
    return numbered
