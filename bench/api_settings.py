"""Settings for bench/api_read.py: the test settings on a PostgreSQL database of their
own, stable key and data directories (gunicorn workers must share the keyring), the
bench URLconf (the product's URLs plus a plain, unchecked endpoint), quiet logging.

BENCH_DATABASE_URL defaults to postgres://eidetic:eidetic@127.0.0.1:5432/eidetic_broker_bench.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from config.settings.test import *  # noqa: F403
from config.settings.test import LEDGER, VAULT

_url = os.environ.get("BENCH_DATABASE_URL", "postgres://eidetic:eidetic@127.0.0.1:5432/eidetic_broker_bench")
# The key store is a database of its own, as in production (and migrations need it so).
DATABASES = {
    "default": dj_database_url.parse(_url, conn_max_age=600),
    "keys": dj_database_url.parse(_url + "_keys", conn_max_age=600),
}

DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR", "/tmp/eidetic-broker-bench"))
VAULT = {**VAULT, "KEYRING_DIR": DATA_DIR / "keys"}
# As in production: appends only queue pending entries; the ledger's worker sequences them.
LEDGER = {**LEDGER, "KEY_DIR": DATA_DIR / "keys", "SEQUENCE_ON_COMMIT": False}

ROOT_URLCONF = "bench.api_urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
