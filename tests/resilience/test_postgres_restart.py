"""PostgreSQL restarted under load: gunicorn (production configuration, 2 workers) keeps
answering while a private PostgreSQL cluster stops and starts again. Requests during the
outage get a clean 503 (JSON for the API, HTML for the portal, Retry-After, no traceback),
never a 500; service resumes by itself; and the ledger, appended to by every priced
partner read before, during and after the restart, stays dense and verifies, with exactly
one entry per read that was answered 200.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from django.db import connections

from bench._harness import Gunicorn, app_environment, build_world, free_port, portal_login
from tests.resilience.servers import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

LEDGER_REPORT = """
import json, django
django.setup()
from ledger import selectors, services
from ledger.models import Entry
services.sequence_pending()
report = selectors.verify_database(check_anchors=False)
seqs = list(Entry.objects.order_by("seq").values_list("seq", flat=True))
print(json.dumps({
    "ok": report.ok, "problems": [str(p) for p in report.problems], "size": report.size,
    "dense": seqs == list(range(len(seqs))),
    "transfers": Entry.objects.filter(kind="value.transferred").count(),
}))
"""


@dataclass
class Answer:
    kind: str
    phase: str
    status: int  # 0: no HTTP answer at all
    content_type: str = ""
    body: str = ""
    retry_after: str | None = None


@dataclass
class Load:
    """Client threads that keep calling until told to stop, noting the phase of each answer."""

    base_url: str
    phase: str = "before"
    answers: list[Answer] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, kind: str, session: requests.Session, path: str) -> None:
        while not self.stopping.is_set():
            started_in = self.phase
            try:
                response = session.get(self.base_url + path, timeout=15, allow_redirects=False)
                answer = Answer(
                    kind,
                    started_in,
                    response.status_code,
                    response.headers.get("Content-Type", ""),
                    response.text[:2000],
                    response.headers.get("Retry-After"),
                )
            except requests.RequestException as error:
                answer = Answer(kind, started_in, 0, body=type(error).__name__)
            # A call that began in one phase and ended in another counts as a call of the outage.
            answer.phase = started_in if self.phase == started_in else "transition"
            with self.lock:
                self.answers.append(answer)
            time.sleep(0.02)

    def of(self, phase: str, kind: str | None = None) -> list[Answer]:
        with self.lock:
            return [a for a in self.answers if a.phase == phase and (kind is None or a.kind == kind)]


def _ledger_report(environ: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", LEDGER_REPORT], env=environ, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _copy_schema(alias: str, cluster, name: str, dump: Path) -> None:
    """The test run's migrated database, copied into the private cluster: restoring it is
    seconds where migrating afresh takes a minute on a busy 2-core machine."""
    connection = connections[alias]
    params = connection.settings_dict
    environ = {**os.environ, "PGPASSWORD": params["PASSWORD"] or ""}
    subprocess.run(
        [
            *("pg_dump", "--format=custom", f"--file={dump}"),
            *("-h", params["HOST"], "-p", str(params["PORT"]), "-U", params["USER"]),
            params["NAME"],  # the test database: this test is marked django_db
        ],
        env=environ,
        check=True,
        timeout=120,
    )
    cluster.create_database(name)
    subprocess.run(
        [
            *("pg_restore", "--no-owner", "--no-privileges"),
            *("-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", f"--dbname={name}", str(dump)),
        ],
        check=True,
        timeout=120,
    )


@pytest.mark.django_db
def test_requests_during_a_postgres_restart_fail_cleanly_and_service_resumes(private_cluster, private_redis, tmp_path):
    private_cluster.start()
    _copy_schema("default", private_cluster, "eidetic", tmp_path / "data.dump")
    _copy_schema("keys", private_cluster, "eidetic_keys", tmp_path / "keys.dump")
    private_redis.start()
    environ = app_environment(
        database_url=private_cluster.url("eidetic"),
        keys_database_url=private_cluster.url("eidetic_keys"),
        redis_url=private_redis.url,
        key_dir=tmp_path / "keys",
    )
    world = build_world(environ, people=2, moments=40, migrate=False)
    server = Gunicorn(environ, tmp_path / "gunicorn.log", port=free_port(), workers=2)
    server.start()
    load = Load(server.base_url)
    try:
        clients = []
        for person in world["people"]:
            partner = requests.Session()
            partner.headers["Authorization"] = f"Bearer {person['token']}"
            clients.append(("partner read", partner, "/api/v1/data/moments?limit=5"))
        browser = requests.Session()
        portal_login(browser, server.base_url, world["people"][0]["username"], world["people"][0]["password"])
        clients.append(("portal page", browser, "/consents/"))
        threads = [threading.Thread(target=load.call, args=client) for client in clients]
        for thread in threads:
            thread.start()

        wait_until(lambda: len(load.of("before")) >= 20, timeout=30, what="load before the restart")
        load.phase = "during"
        private_cluster.stop("fast")  # in-flight transactions are cut off
        wait_until(lambda: len(load.of("during")) >= 15, timeout=30, what="requests during the outage")
        private_cluster.start()
        load.phase = "after"
        wait_until(
            lambda: (
                any(a.status == 200 for a in load.of("after", "partner read"))
                and any(a.status == 200 for a in load.of("after", "portal page"))
            ),
            timeout=30,
            what="service resumed by itself",
            explain=server.tail,
        )
        load.phase = "settled"
        wait_until(lambda: len(load.of("settled")) >= 20, timeout=30, what="load after the restart")
    finally:
        load.stopping.set()
        for thread in threads:
            thread.join(timeout=30)
        server.stop()

    assert {a.status for a in load.of("before")} == {200}, server.tail(20000)
    assert {a.status for a in load.of("settled")} == {200}, [a for a in load.of("settled") if a.status != 200][:3]
    outage = load.of("during") + load.of("after") + load.of("transition")
    assert not [a for a in outage if a.status not in (200, 302, 503)], "only 503 while the database is away"
    unavailable = [a for a in outage if a.status == 503]
    assert unavailable, "the outage was seen by the clients"
    for answer in unavailable:
        assert answer.retry_after
        assert "Traceback" not in answer.body
        assert "OperationalError" not in answer.body
        if answer.kind == "partner read":
            assert answer.content_type == "application/json"
            assert json.loads(answer.body)["error"]["code"] == "ServiceUnavailable"
        else:
            assert answer.content_type.startswith("text/html")
            assert "Briefly unavailable" in answer.body
    assert "Internal Server Error" not in server.tail(1_000_000), "no request ended in a 500"

    report = _ledger_report(environ)
    assert report["ok"], report["problems"]
    assert report["dense"]
    reads_served = sum(1 for a in load.answers if a.kind == "partner read" and a.status == 200)
    assert report["transfers"] == reads_served, "one value transfer per read answered, none lost or doubled"
