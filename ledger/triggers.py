"""Database triggers that make the ledger's tables append-only (SQLite and PostgreSQL).

Installed by a migration. ``remove`` exists for two honest reasons only: Django's
``flush`` (tests and local resets wipe the whole database; see the ``flush`` command in
this app) and tamper tests that must simulate an attacker who bypasses the triggers.
"""

from __future__ import annotations

APPEND_ONLY_TABLES = ("ledger_entry", "ledger_checkpoint", "ledger_anchor")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_reject_change() RETURNS trigger AS $$
BEGIN
    -- No percent-sign placeholders: the statement goes through DB-API parameter parsing.
    RAISE EXCEPTION USING
        MESSAGE = 'ledger table ' || TG_TABLE_NAME || ' is append-only: ' || TG_OP || ' rejected',
        ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql
"""


def install_sql(vendor: str) -> list[str]:
    statements = []
    if vendor == "postgresql":
        statements.append(_PG_FUNCTION)
        for table in APPEND_ONLY_TABLES:
            statements.append(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()"
            )
            statements.append(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change()"
            )
    elif vendor == "sqlite":
        for table in APPEND_ONLY_TABLES:
            for operation in ("UPDATE", "DELETE"):
                statements.append(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'ledger table {table} is append-only: {operation} rejected'); END"
                )
    else:
        raise NotImplementedError(f"append-only triggers are not written for {vendor}")
    return statements


def remove_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_{suffix} ON {table}"
            for table in APPEND_ONLY_TABLES
            for suffix in ("append_only", "no_truncate")
        ]
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_{operation}"
        for table in APPEND_ONLY_TABLES
        for operation in ("update", "delete")
    ]


def install(connection) -> None:
    with connection.cursor() as cursor:
        for statement in install_sql(connection.vendor):
            cursor.execute(statement)


def remove(connection) -> None:
    with connection.cursor() as cursor:
        for statement in remove_sql(connection.vendor):
            cursor.execute(statement)
