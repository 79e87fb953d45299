"""Test settings: the local embedded stack, or real PostgreSQL/Redis when their URLs are set.

CI runs the suite twice: once on the embedded defaults, once with DATABASE_URL and
REDIS_URL pointing at real servers (and EIDETIC_REQUIRE_SERVICES=1, so tests that
need them fail rather than skip).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import dj_database_url

from config.env import env
from config.settings.local import *  # noqa: F403

SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

DATA_DIR = Path(tempfile.mkdtemp(prefix="eidetic-test-"))
_CREATOR_PID = os.getpid()


@atexit.register
def _remove_data_dir() -> None:
    # A forked child inherits this hook; only the process that made the directory removes it.
    if os.getpid() == _CREATOR_PID:
        shutil.rmtree(DATA_DIR, ignore_errors=True)


VAULT = {**VAULT, "KEYRING_DIR": DATA_DIR / "keys"}  # noqa: F405
# No proof-node cache: every test rolls its ledger back, so the same tree positions hold
# other hashes in the next test (tests/ledger/test_tree_cache.py turns it on). The local
# chain's journal lives here too, not in the developer's var/ that the demo uses.
LEDGER = {
    **LEDGER,  # noqa: F405
    "KEY_DIR": DATA_DIR / "keys",
    "NODE_CACHE_SIZE": 0,
    "TESTER_CHAIN_JOURNAL": DATA_DIR / "chain" / "anchors.txt",
}

_database_url = env("DATABASE_URL")
_keys_database_url = env("KEYS_DATABASE_URL")
if _database_url:
    DATABASES = {
        "default": dj_database_url.parse(_database_url),
        "keys": dj_database_url.parse(_keys_database_url or _database_url),
    }
    if not _keys_database_url:
        # One server: the key store's test database gets a name of its own.
        DATABASES["keys"]["TEST"] = {"NAME": "test_eidetic_keys"}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "eidetic.sqlite3",
            "TEST": {"NAME": str(DATA_DIR / "test.sqlite3")},
        },
        "keys": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "keys.sqlite3",
            "TEST": {"NAME": str(DATA_DIR / "test-keys.sqlite3")},
        },
    }
    for _db in DATABASES.values():
        _db["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}

REDIS_URL = env("REDIS_URL")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Generous limits, so that no test trips one by accident (the locmem cache outlives a
# single test); the tests of the limits themselves set their own rates.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": dict.fromkeys(REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "100000/minute"),  # noqa: F405
}
RATE_LIMITS = {
    **RATE_LIMITS,  # noqa: F405
    "LOGIN_PER_USERNAME": "100000/m",
    "LOGIN_PER_IP": "100000/m",
    "OAUTH_TOKEN_PER_CLIENT": "100000/m",
}
