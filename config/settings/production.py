"""Production: everything from the environment. PostgreSQL, Redis, gunicorn, Celery workers.

Every value below may also come from a file named by ``<NAME>_FILE`` (Docker and Kubernetes
secrets); see ``config/env.py`` and the README's "Running in production" table.
"""

from __future__ import annotations

import dj_database_url

from config.env import env, env_bool, env_int, env_list, env_required
from config.settings.base import *  # noqa: F403
from config.settings.base import CELERY_PUBLISH_FAIL_FAST, LEDGER, RATE_LIMITS, VAULT

DEBUG = False
SECRET_KEY = env_required("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# Persistent connections, checked before reuse so a restarted PostgreSQL is picked up again.
_CONN_MAX_AGE = env_int("DJANGO_CONN_MAX_AGE", 60)
DATABASES = {
    "default": dj_database_url.parse(env_required("DATABASE_URL"), conn_max_age=_CONN_MAX_AGE, conn_health_checks=True),
    # The wrapped data keys: a separate database (ideally a separate server and backup
    # schedule), so a copy of the data database alone never holds what opens it.
    "keys": dj_database_url.parse(
        env_required("KEYS_DATABASE_URL"), conn_max_age=_CONN_MAX_AGE, conn_health_checks=True
    ),
}

# Behind a transaction-mode pooler (PgBouncer), a server-side cursor cannot outlive its
# transaction's server connection. Turned off, ``.iterator()`` receives the whole result
# at once (a large ledger export then needs memory for all its rows).
for _database in DATABASES.values():
    _database["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DJANGO_DISABLE_SERVER_SIDE_CURSORS", False)

REDIS_URL = env_required("REDIS_URL")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        # A cache outage must not take the site down: rate limits fail open, reads go on.
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }
}
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
# Longer than any task runs: with acks_late, Redis re-delivers a task only after this.
CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_PUBLISH_FAIL_FAST, "visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

VAULT = {**VAULT, "KEYRING": env("VAULT_KEYRING", "vault.keyring.EnvironmentKeyring")}
LEDGER = {
    **LEDGER,
    "SIGNING_KEY": env_required("LEDGER_SIGNING_KEY"),
    "ANCHOR": env("LEDGER_ANCHOR", "ledger.anchoring.Web3HttpAnchor"),
    # Appends only queue pending entries; Celery beat's ``ledger-sequence`` task (every
    # second, CELERY_BEAT_SCHEDULE) sequences them, so no request waits for a task publish.
    "SEQUENCE_ON_COMMIT": env_bool("LEDGER_SEQUENCE_ON_COMMIT", False),
}

# TLS terminates at the proxy in front of gunicorn, which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# ... and appends the client's address to X-Forwarded-For: without it every client would
# share the proxy's address, and one guesser could lock everyone out of logging in.
RATE_LIMITS = {**RATE_LIMITS, "TRUSTED_PROXIES": env_int("RATE_LIMIT_TRUSTED_PROXIES", 1)}
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
# Probes and Prometheus speak plain HTTP to the container, not through the proxy.
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

SILENCED_SYSTEM_CHECKS: list[str] = []
if not SECURE_HSTS_PRELOAD:
    # security.W021: HSTS preloading is a commitment for the whole domain and its
    # subdomains that is slow to undo, so the operator opts in (DJANGO_SECURE_HSTS_PRELOAD=1)
    # once every subdomain serves HTTPS; HSTS itself is on for a year either way.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
