"""Gunicorn settings shared by the Docker image and scripts/stack; each may be overridden by env."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Scale out by raising WEB_CONCURRENCY, or by running more containers behind the proxy.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
# Recycle workers now and then so a slow leak never grows without bound.
max_requests = 2000
max_requests_jitter = 200
# Load Django once in the arbiter; workers are forked from it. A recycled worker (above)
# then costs a fork, not a second or more of CPU re-importing the app while the other
# workers carry its share. Nothing opens a connection or starts a thread at import. Code
# changes need a restart: HUP re-forks the preloaded app.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"
# The proxy in front terminates TLS and sets X-Forwarded-Proto.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
# JSON lines without client address or query string: both can carry personal data or
# tokens (OAuth state, codes); paths carry only UUIDs.
access_log_format = (
    '{"logger": "gunicorn.access", "method": "%(m)s", "path": "%(U)s", "status": %(s)s, '
    '"bytes": "%(B)s", "duration_ms": %(M)s, "request_id": "%({x-request-id}i)s"}'
)


# Metrics: every worker counts into files of one directory (prometheus_client's
# multiprocess mode), so /metrics adds up all workers instead of showing whichever answered.
# Set before the workers fork and import the app. Default: a fresh private directory per
# start, removed on exit; a directory given in the environment is emptied at start, as
# counters left by an earlier run would otherwise be added in.
_given_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _given_metrics_dir or tempfile.mkdtemp(prefix="eidetic-metrics-")


def on_starting(server) -> None:
    if _given_metrics_dir:
        shutil.rmtree(_given_metrics_dir, ignore_errors=True)
        Path(_given_metrics_dir).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # its live gauges stop counting


def on_exit(server) -> None:
    if not _given_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
