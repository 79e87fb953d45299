"""Which task failures are worth retrying, and how: for tasks that take ids (imports,
webhook deliveries, anchors, interest updates). Periodic tasks do not retry: beat runs
them again soon anyway.

Retried: a database or Redis that went away for a moment, a network timeout. Not retried:
everything else (a bug or bad data does not heal by waiting; the task's own error
handling records it). Retries back off exponentially with jitter: 1, 2, 4 ... seconds,
at most 10 minutes apart, 8 times; every task is idempotent, so a retry after a failure
that came late (the effect was done, the acknowledgement lost) does nothing twice.
"""

from __future__ import annotations

import redis.exceptions
import requests.exceptions
from django.db import InterfaceError, OperationalError

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    ConnectionError,
    TimeoutError,
)

RETRY_ON_TRANSIENT_ERRORS = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}
