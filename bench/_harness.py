"""Processes the benchmarks and failure tests start on loopback: gunicorn, Celery workers,
fresh PostgreSQL databases, a small world of people and consents, and latency figures.

Used by bench/api_read.py, bench/load.py and tests/resilience/. Every process is a child
of the caller, in a session of its own, and is stopped by its own handle (never by name).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
APP_SETTINGS = "tests.resilience.app_settings"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_environment(
    *, database_url: str, keys_database_url: str, redis_url: str, key_dir: Path | str, **extra: str
) -> dict[str, str]:
    """The environment of a process running ``tests.resilience.app_settings``."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": APP_SETTINGS,
        "DATABASE_URL": database_url,
        "KEYS_DATABASE_URL": keys_database_url,
        "RESILIENCE_REDIS_URL": redis_url,
        "RESILIENCE_KEY_DIR": str(key_dir),
        **extra,
    }


def _admin_connection(admin_url: str):
    """An autocommit connection to the ``postgres`` database of ``admin_url``'s server."""
    import psycopg

    parts = urlsplit(admin_url)
    return psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        dbname="postgres",
        autocommit=True,
    )


def recreate_databases(admin_url: str, names: list[str]) -> None:
    """Drop and create ``names`` on the server of ``admin_url`` (a role with CREATEDB)."""
    with _admin_connection(admin_url) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')


def backend_pids(admin_url: str, names: list[str]) -> list[int]:
    """The PostgreSQL backends connected to the databases ``names`` (for their CPU time)."""
    with _admin_connection(admin_url) as admin:
        rows = admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s)", [names]).fetchall()
    return [row[0] for row in rows]


def build_world(
    environ: dict[str, str], *, people: int, moments: int, migrate: bool = True, timeout: float = 600
) -> dict:
    """Migrate the databases of ``environ`` (unless told they are) and fill them
    (tests/resilience/world.py)."""
    command = [sys.executable, "-m", "tests.resilience.world", str(people), str(moments)]
    result = subprocess.run(
        command + ([] if migrate else ["--no-migrate"]),
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"building the world failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


class Process:
    """A child process in a session of its own, with its output in a log file."""

    def __init__(self, command: list[str], environ: dict[str, str], log: Path) -> None:
        self.command, self.environ, self.log = command, environ, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.environ, stdout=log, stderr=log, start_new_session=True
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole group (main process and its children), no goodbye."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, grace: float = 20) -> None:
        if not self.running:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, characters: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-characters:] if self.log.exists() else ""


class Gunicorn(Process):
    """gunicorn with the production configuration (scripts/gunicorn.conf.py) on loopback."""

    def __init__(
        self,
        environ: dict[str, str],
        log: Path,
        *,
        port: int,
        workers: int,
        threads: int = 1,
        access_log: Path | None = None,
    ) -> None:
        self.port = port
        environ = {
            **environ,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_THREADS": str(threads),
            "GUNICORN_ACCESS_LOG": str(access_log or os.devnull),
            "GUNICORN_ERROR_LOG": "-",
        }
        command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--config", "scripts/gunicorn.conf.py"]
        super().__init__(command, environ, log)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, ready_path: str = "/health/live", timeout: float = 60) -> None:
        import requests

        super().start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                break
            try:
                requests.get(self.base_url + ready_path, timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start:\n{self.tail()}")


class CeleryWorker(Process):
    """``celery -A config worker`` (prefork) with the given environment."""

    def __init__(self, environ: dict[str, str], log: Path, *, concurrency: int = 1) -> None:
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork"]
        command += ["--concurrency", str(concurrency), "--loglevel", "INFO", "--without-gossip", "--without-mingle"]
        super().__init__(command, environ, log)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(round(fraction * len(sorted_values) + 0.5) - 1, 0)
    return sorted_values[min(rank, len(sorted_values) - 1)]


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "count": len(ordered),
        "p50_ms": statistics.median(ordered) * 1000 if ordered else float("nan"),
        "p99_ms": percentile(ordered, 0.99) * 1000,
    }


def portal_login(session, base_url: str, username: str, password: str) -> None:
    """Sign in through the portal's login form (CSRF cookie and token), as a browser does."""
    login_url = f"{base_url}/accounts/login/"
    session.get(login_url, timeout=10)
    answer = session.post(
        login_url,
        data={"username": username, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": login_url},
        allow_redirects=False,
        timeout=10,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"login of {username} failed: HTTP {answer.status_code}")
    # Django rotates the CSRF token at login; session-authenticated API POSTs send it back.
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]


def _stat_fields(pid: int | str) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (so ``[0]`` is field 3, the
    state), or None when the process has ended meanwhile."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes (Linux /proc), so that a figure can be
    read independently of how busy the shared machine is: CPU per request, not wall time."""
    total = 0
    for pid in pids:
        if fields := _stat_fields(pid):
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds used by named groups of processes between two samples; each group's pids
    are looked up at every sample (workers and database backends come and go).

    A process that ends between the samples takes its CPU time with it, out of /proc. Once
    its parent has reaped it, that time is in the parent's children's time (cutime, cstime),
    so each group names the processes that reap its members: a gunicorn arbiter its workers,
    a Celery main process its pool, the postmaster its backends. The meter then counts
    every process that ran, even one recycled mid-run.
    """

    def __init__(
        self,
        groups: dict[str, Callable[[], list[int]]],
        reapers: dict[str, Callable[[], list[int]]] | None = None,
    ) -> None:
        self.groups = groups
        self.reapers = reapers or {}

    def sample(self) -> dict[str, dict]:
        samples = {}
        for name, pids in self.groups.items():
            samples[name] = {pid: cpu_seconds([pid]) for pid in pids()}
            for pid in self.reapers.get(name, list)():
                samples[name][("reaped", pid)] = reaped_cpu_seconds(pid)
        return samples

    @staticmethod
    def used(before: dict, after: dict) -> dict[str, float]:
        # A process that ended in between appears in ``before`` only; its whole time is in
        # its reaper's count, so what it had used before the first sample comes off.
        return {name: sum(after[name].values()) - sum(before[name].values()) for name in after}


def pids_named(command: str) -> list[int]:
    """The processes on this machine whose command name (``/proc/<pid>/comm``) is this."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == command:
                pids.append(int(entry.name))
        except OSError:
            continue  # ended meanwhile
    return pids


def reaped_cpu_seconds(pid: int) -> float:
    """User + system CPU time of the children this process has waited for (Linux /proc)."""
    if not (fields := _stat_fields(pid)):
        return 0.0
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")  # cutime, cstime


def machine_ticks() -> tuple[int, int]:
    """(all CPU ticks, ticks stolen by the hypervisor) of the whole machine, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(fields[:8]), fields[7]  # user nice system idle iowait irq softirq steal


def steal_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of the machine's CPU time the hypervisor took between two readings: time
    this VM's processes waited for a CPU they were never given, which no /proc CPU time
    of theirs shows (a busy host makes every latency here longer)."""
    total, stolen = after[0] - before[0], after[1] - before[1]
    return stolen / total if total else 0.0


def parents_of(pids: list[int]) -> list[int]:
    """The parent pids of these processes (e.g. the postmaster, from its backends)."""
    return sorted({int(fields[1]) for pid in pids if (fields := _stat_fields(pid))})  # ppid


def process_group(leader: int) -> list[int]:
    """The pids of a process group (a ``Process`` started in its own session)."""
    return [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and (fields := _stat_fields(entry.name)) and int(fields[2]) == leader  # pgrp
    ]
