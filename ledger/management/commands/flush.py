"""Django's ``flush``, able to empty the append-only ledger tables.

Flushing wipes the whole database on purpose (test teardown, local resets); the ledger's
triggers would otherwise make it fail. The triggers are dropped and re-created inside the
flush's transaction, so at no committed moment are the tables left unprotected.
"""

from __future__ import annotations

from django.core.management.commands.flush import Command as FlushCommand
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from ledger import triggers


class Command(FlushCommand):
    def handle(self, **options):
        database = options.get("database") or DEFAULT_DB_ALIAS
        connection = connections[database]
        if database != DEFAULT_DB_ALIAS or "ledger_entry" not in connection.introspection.table_names():
            return super().handle(**options)
        with transaction.atomic(using=database):
            triggers.remove(connection)
            result = super().handle(**options)
            triggers.install(connection)
        return result
