"""Fixtures of the failure tests: private servers, and Celery pointed at them."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.resilience.servers import PrivateCluster, PrivateRedis


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    directory = Path(tempfile.mkdtemp(prefix="eidetic-resilience-redis-"))
    server = PrivateRedis(directory)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def private_cluster() -> Iterator[PrivateCluster]:
    cluster = PrivateCluster()
    try:
        yield cluster
    finally:
        cluster.destroy()


@contextmanager
def celery_against(broker_url: str, **values) -> Iterator[None]:
    """This process's Celery app publishing to ``broker_url`` for real (not eagerly).

    Celery's conf reads through to Django settings, so values are restored by value; the
    connection pools built from the old URL are dropped (as Celery does after a fork)."""
    from config.celery import app

    values = {"task_always_eager": False, "broker_url": broker_url, **values}
    old = {name: getattr(app.conf, name) for name in values}
    for name, value in values.items():
        setattr(app.conf, name, value)
    _drop_connection_pools(app)
    try:
        yield
    finally:
        for name, value in old.items():
            setattr(app.conf, name, value)
        _drop_connection_pools(app)


def _drop_connection_pools(app) -> None:
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
