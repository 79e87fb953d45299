"""Private servers for failure tests: a Redis and a PostgreSQL cluster of our own, on free
loopback ports, that a test may stop, kill and restart. The shared servers (5432, 6379)
are never touched: other engineers' and CI's suites run against them at the same time.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from bench._harness import free_port


def wait_until(predicate, *, timeout: float, interval: float = 0.1, what: str = "condition", explain=None) -> None:
    """Poll ``predicate``; on timeout fail, with ``explain()`` (e.g. a log's tail) if given."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout} s" + (f"\n{explain()}" if explain else ""))


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PrivateRedis:
    """``redis-server`` in the foreground as our child; no persistence, loopback only."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        if shutil.which("redis-server") is None:
            pytest.skip("redis-server is not installed")
        self.port = port or free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self.directory), "--loglevel", "warning"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: self._pings(), timeout=10, what=f"Redis on port {self.port}")

    def _pings(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
        wait_until(lambda: not port_answers(self.port), timeout=5, what="Redis stopped")


POSTGRES_BIN = Path("/usr/lib/postgresql")


def _postgres_bin() -> Path:
    versions = sorted(POSTGRES_BIN.glob("*/bin/initdb"), key=lambda path: int(path.parent.parent.name))
    if not versions:
        pytest.skip("PostgreSQL server binaries (Debian postgresql package) are not installed")
    return versions[-1].parent


class PrivateCluster:
    """A throw-away PostgreSQL cluster (initdb) run by the ``postgres`` system user on a free
    port, with trust authentication on loopback only and fsync off (a test needs speed,
    not durability across power loss; a restart is a clean shutdown either way)."""

    def __init__(self) -> None:
        if os.geteuid() != 0:
            pytest.skip("a private PostgreSQL cluster is started as the postgres user: needs root")
        self.bin = _postgres_bin()
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="eidetic-resilience-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        shutil.chown(self.base, "postgres")
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def _as_postgres(self, *command: str, timeout: float = 60) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["runuser", "-u", "postgres", "--", *command], cwd="/", capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise AssertionError(f"{command[0]} failed: {result.stdout}{result.stderr}")
        return result

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def create_database(self, name: str) -> None:
        self._as_postgres(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except AssertionError:
                pid = int((self.data / "postmaster.pid").read_text().split()[0])
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.base, ignore_errors=True)
