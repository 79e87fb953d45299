"""Settings for the ledger benchmarks: the test settings with a benchmark database of their own.

BENCH_DB=sqlite (default): a WAL-mode SQLite file under /tmp, as the local site runs.
BENCH_DB=postgres: DATABASE_URL (default postgres://eidetic:eidetic@127.0.0.1:5432/eidetic_ledger_bench).
"""

from __future__ import annotations

import os

import dj_database_url

from config.settings.test import *  # noqa: F403

if os.environ.get("BENCH_DB", "sqlite") == "postgres":
    _url = os.environ.get("BENCH_DATABASE_URL", "postgres://eidetic:eidetic@127.0.0.1:5432/eidetic_ledger_bench")
    DATABASES = {"default": dj_database_url.parse(_url), "keys": dj_database_url.parse(_url)}
else:
    _path = os.environ.get("BENCH_SQLITE", "/tmp/eidetic-ledger-bench.sqlite3")
    _options = {"timeout": 60, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": _path, "OPTIONS": _options},
        "keys": {"ENGINE": "django.db.backends.sqlite3", "NAME": _path + "-keys", "OPTIONS": _options},
    }

# Quiet: per-task INFO lines would cost more than the appends being measured.
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

# As in production: proofs keep complete-subtree hashes in memory (the test settings turn
# that off only because tests roll their ledgers back).
LEDGER = {**LEDGER, "NODE_CACHE_SIZE": 50_000}  # noqa: F405
