"""A real Celery worker killed with SIGKILL in the middle of an import, then restarted:
the import's records are stored exactly once.

The worker (``celery -A config worker``, tests/resilience/app_settings.py) runs against
this test run's PostgreSQL databases and a private Redis. The slow point is a real one:
the test holds a table lock on ``vault_socialitem``, so the worker's data transaction has
inserted the moments and waits to insert the social items when it is killed.
"""

from __future__ import annotations

import io
import json
import os
import signal
import time
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connections

from bench._harness import CeleryWorker, app_environment
from tests.factories import PersonFactory
from tests.resilience.conftest import celery_against
from tests.resilience.servers import wait_until
from vault.importing import start_import
from vault.models import ImportJob, Moment, SocialItem

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "vault" / "fixtures" / "eidetic.json"


def _database_url(alias: str) -> str:
    params = connections[alias].settings_dict
    return f"postgres://{params['USER']}:{params['PASSWORD']}@{params['HOST']}:{params['PORT']}/{params['NAME']}"


# Seconds before Redis hands an unacknowledged task out again (production: an hour).
VISIBILITY_TIMEOUT = 5


class Worker(CeleryWorker):
    """One ``celery -A config worker`` (prefork, one pool process) on this test run's
    databases and keyring; a process group of its own, so SIGKILL reaches all of it."""

    def __init__(self, redis_url: str, log: Path) -> None:
        environ = app_environment(
            database_url=_database_url("default"),
            keys_database_url=_database_url("keys"),
            redis_url=redis_url,
            key_dir=settings.VAULT["KEYRING_DIR"],
            RESILIENCE_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
        )
        super().__init__(environ, log, concurrency=1)

    def kill_pool_process(self) -> None:
        """SIGKILL to the pool process running the task only; the main process lives on."""
        main = self.process.pid
        (child,) = Path(f"/proc/{main}/task/{main}/children").read_text().split()
        os.kill(int(child), signal.SIGKILL)


@pytest.fixture
def worker(private_redis, tmp_path):
    private_redis.start()
    started = Worker(private_redis.url, tmp_path / "worker.log")
    try:
        yield started
    finally:
        started.stop()


def _diagnosis(worker: Worker, private_redis, job: ImportJob) -> str:
    client = redis.Redis.from_url(private_redis.url)
    job.refresh_from_db()
    return (
        f"job {job.status}; queue {client.llen('celery')}, unacked {client.hlen('unacked')}, "
        f"restore lock {client.exists('unacked_mutex')}\n{worker.tail()}"
    )


def _waiting_insert_backends(database: str) -> list[int]:
    """Backends of the database blocked on a lock while writing social items (COPY)."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' AND query LIKE %s",
            [database, 'COPY "vault_socialitem"%'],
        )
        return [row[0] for row in cursor.fetchall()]


def _backend_alive(pid: int) -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


@pytest.mark.parametrize("victim", ["whole worker", "pool process"])
def test_a_worker_killed_mid_import_stores_the_records_once(worker, private_redis, victim):
    """Whole worker: killed and restarted, the task comes back after the visibility timeout.
    Pool process: the main process re-queues the task at once (reject_on_worker_lost)."""
    expected = json.loads(FIXTURE.read_text())
    person = PersonFactory(username="killed-import")
    database = connections["default"].settings_dict["NAME"]

    # The slow point: inserts into vault_socialitem wait for this lock (reads do not).
    blocker = psycopg.connect(_database_url("default").replace("postgres://", "postgresql://"), autocommit=False)
    try:
        blocker.execute("LOCK TABLE vault_socialitem IN EXCLUSIVE MODE")
        with celery_against(private_redis.url):
            job = start_import(person=person, upload=io.BytesIO(FIXTURE.read_bytes()), filename="eidetic.json")
        worker.start()
        wait_until(
            lambda: _waiting_insert_backends(database),
            timeout=60,
            interval=0.2,
            what="the worker blocked inside its data transaction",
            explain=worker.tail,
        )
        (backend,) = _waiting_insert_backends(database)
        worker.kill() if victim == "whole worker" else worker.kill_pool_process()
        killed_at = time.monotonic()
    finally:
        blocker.rollback()  # lets the orphaned backend finish its statement and find its client gone
        blocker.close()
    wait_until(lambda: not _backend_alive(backend), timeout=30, what="the dead worker's transaction aborted")

    if victim == "whole worker":
        job.refresh_from_db()
        assert job.status == ImportJob.Status.RUNNING, "killed while running"
        assert not Moment.objects.filter(owner=person).exists(), "its half-done transaction was rolled back"
        # Restarted: Redis hands the unacknowledged task out again once its visibility timeout
        # has passed. A worker looks for such tasks at its first restore check and then only
        # every tenth (kombu), so restarting before the timeout passed would wait minutes:
        # restart once it has, as any restart after a real outage would.
        time.sleep(max(0.0, killed_at + VISIBILITY_TIMEOUT + 1 - time.monotonic()))
        worker.start()
    wait_until(
        lambda: ImportJob.objects.get(pk=job.pk).status != ImportJob.Status.RUNNING,
        timeout=60,
        interval=0.3,
        what="the import finished after the restart",
        explain=lambda: _diagnosis(worker, private_redis, job),
    )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, (job.error_code, job.error_detail)
    assert Moment.objects.filter(owner=person).count() == len(expected["moments"])
    assert SocialItem.objects.filter(owner=person).count() == len(expected["social_items"])
    assert job.created_items == len(expected["moments"]) + len(expected["social_items"])

    # Nothing runs it a third time: the job is finished and the queue holds nothing more.
    worker.stop()
    client = redis.Redis.from_url(private_redis.url)
    assert client.llen("celery") == 0
    assert client.hlen("unacked") == 0
    assert Moment.objects.filter(owner=person).count() == len(expected["moments"])
