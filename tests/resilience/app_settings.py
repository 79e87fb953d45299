"""Settings of the real processes that the failure tests and ``bench/load.py`` start
(gunicorn, Celery workers, the world builder): the test settings pointed at the databases,
keyring and Redis passed in the environment, with Celery publishing for real and
production's connection handling (persistent connections, checked before reuse).

A short visibility timeout stands in for production's hour: a task whose worker died
without giving it back is handed out again after this many seconds.
"""

from __future__ import annotations

import os
from pathlib import Path

from config.settings.test import *  # noqa: F403
from config.settings.test import BROKER, CELERY_PUBLISH_FAIL_FAST, DATABASES, LEDGER, VAULT

for _database in DATABASES.values():
    _database["CONN_MAX_AGE"] = int(os.environ.get("DJANGO_CONN_MAX_AGE", "60"))
    _database["CONN_HEALTH_CHECKS"] = True

REDIS_URL = os.environ["RESILIENCE_REDIS_URL"]
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }
}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = REDIS_URL
_visibility = int(os.environ.get("RESILIENCE_VISIBILITY_TIMEOUT", "5"))
# kombu restores unacknowledged tasks under a Redis lock that outlives a worker killed while
# holding it for ``unacked_mutex_expire`` seconds (300 by default): keep it within the timeout.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_PUBLISH_FAIL_FAST,
    "visibility_timeout": _visibility,
    "unacked_mutex_expire": min(_visibility, 300),
}

_keys = Path(os.environ["RESILIENCE_KEY_DIR"])
VAULT = {**VAULT, "KEYRING_DIR": _keys, "ON_NEW_RECORDS": []}
# The chain journal beside the keyring, as the test settings keep it: these processes and
# the test that started them share one local chain.
LEDGER = {
    **LEDGER,
    "KEY_DIR": _keys,
    "SEQUENCE_ON_COMMIT": False,
    "TESTER_CHAIN_JOURNAL": _keys.parent / "chain" / "anchors.txt",
}
# Loopback only, no network: webhooks are kept in memory instead of posted.
BROKER = {**BROKER, "WEBHOOK_SENDER": "broker.webhooks.MemorySender"}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"level": "WARNING", "handlers": ["console"]},
}
