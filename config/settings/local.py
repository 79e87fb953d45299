"""Embedded defaults: SQLite, Celery tasks in-process, in-process Ethereum chain, no Redis."""

from __future__ import annotations

import secrets

from config.env import env
from config.settings.base import *  # noqa: F403
from config.settings.base import DATA_DIR, LEDGER, OAUTH2_PROVIDER

DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]

DATA_DIR.mkdir(parents=True, exist_ok=True)


def _local_secret_key() -> str:
    """A random secret kept under DATA_DIR, so sessions survive restarts of the local site."""
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env("DJANGO_SECRET_KEY") or _local_secret_key()

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "eidetic.sqlite3"},
    "keys": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "keys.sqlite3"},
}
for _db in DATABASES.values():
    _db["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"

# Loopback redirect URIs over http are allowed for local development only (RFC 8252 §7.3).
OAUTH2_PROVIDER = {**OAUTH2_PROVIDER, "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"]}

# The in-process Ethereum chain is replayed from this journal in every process (the demo
# command, the web server), so anchors made in one verify in the others and after restarts.
LEDGER = {**LEDGER, "TESTER_CHAIN_JOURNAL": DATA_DIR / "chain" / "anchors.txt"}
