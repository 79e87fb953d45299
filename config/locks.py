"""Single-run locks for periodic Celery tasks: beat may enqueue a task again while an
earlier run still works (a slow chain, a long backlog, two beats by mistake).

The lock lives in the shared cache: a redis-py ``Lock`` where the cache is django-redis
(atomic, released only by its holder's token), ``cache.add`` elsewhere (local, tests). It
expires after ``timeout`` seconds, so a worker killed while holding it blocks the task at
most that long. The work under it stays safe without it (row locks and claims in the
services): the lock only stops duplicate runs from piling up and contending.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from django.core.cache import cache

logger = logging.getLogger("eidetic.tasks")

P = ParamSpec("P")
R = TypeVar("R")

KEY_PREFIX = "eidetic:lock:"


@contextmanager
def held(name: str, *, timeout: int) -> Iterator[bool]:
    """Yield True when this caller holds lock ``name``, False when someone else does.

    A cache that cannot be reached counts as "someone else holds it": the periodic task
    skips this run and the next one tries again.
    """
    key = KEY_PREFIX + name
    try:
        release = _acquire(key, timeout)
    except Exception:  # the cache backend's connection errors vary by client
        logger.warning("lock %s unavailable: cache unreachable, skipping this run", name)
        release = None
    try:
        yield release is not None
    finally:
        if release is not None:
            try:
                release()
            except Exception:  # expires by itself after timeout
                logger.warning("lock %s not released: it expires by itself", name)


def _acquire(key: str, timeout: int) -> Callable[[], None] | None:
    if hasattr(cache, "lock"):  # django-redis: a real Redis lock
        lock = cache.lock(key, timeout=timeout)
        return lock.release if lock.acquire(blocking=False) else None
    token = secrets.token_hex(8)
    if not cache.add(key, token, timeout):
        return None

    def release() -> None:
        # Not atomic, but the local caches this path serves live in one process.
        if cache.get(key) == token:
            cache.delete(key)

    return release


def single_run(name: str, *, timeout: int) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
    """Decorator: run the function only if lock ``name`` is free; otherwise return None."""

    def decorate(function: Callable[P, R]) -> Callable[P, R | None]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
            with held(name, timeout=timeout) as acquired:
                if not acquired:
                    logger.info("skipped %s: another run holds its lock", name)
                    return None
                return function(*args, **kwargs)

        return wrapper

    return decorate


__all__ = ["held", "single_run"]
