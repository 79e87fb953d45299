"""The production configuration: check --deploy, docker-compose.yml, Dockerfile, gunicorn,
generated secrets, and the no-Docker stack script run for real (marked postgres and redis).
"""

from __future__ import annotations

import base64
import json
import os
import runpy
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from make_secrets import ensure_secrets  # noqa: E402

PRODUCTION_SECRETS = {
    "DJANGO_SECRET_KEY": "django_secret_key",
    "EIDETIC_KEK": "eidetic_kek",
    "LEDGER_SIGNING_KEY": "ledger_signing_key",
    "DATABASE_URL": "database_url",
    "KEYS_DATABASE_URL": "keys_database_url",
}


def production_env(secrets_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment a production process gets: secrets as *_FILE paths, nothing inherited."""
    ensure_secrets(
        secrets_dir,
        db_host="127.0.0.1",
        db_port=5432,
        db_user="eidetic",
        db_name="eidetic",
        keys_db_name="eidetic_keys",
    )
    environ = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_ALLOWED_HOSTS": "eidetic.example",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        **{f"{name}_FILE": str(secrets_dir / file) for name, file in PRODUCTION_SECRETS.items()},
    }
    return {**environ, **overrides}


def check_deploy(environ: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- manage.py check --deploy -------------------------------------------------------------


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = check_deploy(production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stderr


def test_check_deploy_fails_when_https_redirect_is_off(tmp_path):
    result = check_deploy(production_env(tmp_path, DJANGO_SECURE_SSL_REDIRECT="0"))
    assert result.returncode != 0
    assert "security.W008" in result.stderr


def test_production_settings_refuse_to_start_without_secrets(tmp_path):
    environ = production_env(tmp_path)
    del environ["DJANGO_SECRET_KEY_FILE"]
    result = check_deploy(environ)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) must be set" in result.stderr


# --- docker-compose.yml and Dockerfile ----------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


APP_SERVICES = ("migrate", "web", "worker", "beat")


def test_compose_runs_the_whole_stack(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert services["web"]["command"][:2] == ["gunicorn", "config.wsgi"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    migrate = " ".join(services["migrate"]["command"])
    assert "migrate --noinput --database default" in migrate
    assert "migrate --noinput --database keys" in migrate
    assert services["migrate"]["restart"] == "no"


def test_compose_app_services_use_production_settings_and_secret_files(compose):
    declared = set(compose["secrets"])
    for name in APP_SERVICES:
        service = compose["services"][name]
        environment = service["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production", name
        assert environment["REDIS_URL"] == "redis://redis:6379/0", name
        for variable, secret in PRODUCTION_SECRETS.items():
            # Secrets never sit in the compose file's environment, only as mounted files.
            assert variable not in environment, (name, variable)
            assert environment[f"{variable}_FILE"] == f"/run/secrets/{secret}", (name, variable)
            assert secret in service["secrets"], (name, secret)
            assert secret in declared
    assert compose["secrets"]["postgres_password"]["file"] == "./secrets/postgres_password"


def test_compose_starts_the_app_only_after_its_dependencies(compose):
    services = compose["services"]
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in ("postgres", "redis", "web", "worker"):
        assert services[name]["healthcheck"]["test"], name
    assert "/health/ready" in " ".join(services["web"]["healthcheck"]["test"])


def test_compose_publishes_the_site_on_loopback_only(compose):
    ports = compose["services"]["web"]["ports"]
    assert ports == ["127.0.0.1:${EIDETIC_PORT:-8000}:8000"]
    for name in ("postgres", "redis", "worker", "beat", "migrate"):
        assert "ports" not in compose["services"][name], name


def test_compose_creates_the_keys_database(compose):
    volumes = compose["services"]["postgres"]["volumes"]
    init = next(volume for volume in volumes if "docker-entrypoint-initdb.d" in volume)
    script = ROOT / init.split(":")[0]
    assert script.exists()
    assert os.access(script, os.X_OK)
    assert "CREATE DATABASE eidetic_keys" in script.read_text()
    assert compose["services"]["postgres"]["environment"]["POSTGRES_DB"] == "eidetic"


def test_dockerfile_builds_a_non_root_image_with_static_files():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    assert lines[next(i for i, line in enumerate(lines) if line.startswith("FROM"))] == "FROM python:3.11-slim"
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users
    assert users[-1] not in {"root", "0"}
    assert any("collectstatic --noinput" in line for line in lines)
    command = json.loads(next(line for line in lines if line.startswith("CMD "))[4:])
    assert command[:2] == ["gunicorn", "config.wsgi"]
    assert (ROOT / command[command.index("--config") + 1]).exists()
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"var", "secrets", ".venv", ".git"} <= set(ignored)


# --- gunicorn ------------------------------------------------------------------------------


def test_gunicorn_access_log_is_json_without_client_address_or_query(monkeypatch, tmp_path):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # the file sets it for its workers
    config = runpy.run_path(str(ROOT / "scripts" / "gunicorn.conf.py"))
    assert config["workers"] == 3
    log_format = config["access_log_format"]
    for atom in ("%(h)s", "%(q)s", "%(r)s", "%(U)s?"):
        assert atom not in log_format
    # Gunicorn substitutes atoms with %-formatting; the line must then be valid JSON.
    atoms = {"m": "GET", "U": "/health/ready", "s": "200", "B": "12", "M": "3", "{x-request-id}i": "-"}
    assert json.loads(log_format % atoms) == {
        "logger": "gunicorn.access",
        "method": "GET",
        "path": "/health/ready",
        "status": 200,
        "bytes": "12",
        "duration_ms": 3,
        "request_id": "-",
    }


# --- generated secrets -----------------------------------------------------------------------


def test_generated_secrets_have_the_formats_production_reads(tmp_path):
    from vault.keyring import decode_key

    directory = tmp_path / "secrets"
    written = ensure_secrets(
        directory, db_host="db", db_port=5433, db_user="app", db_name="data", keys_db_name="data_keys"
    )
    assert set(written) == {*PRODUCTION_SECRETS.values(), "postgres_password"}
    assert oct(directory.stat().st_mode & 0o777) == "0o700"
    assert len(decode_key((directory / "eidetic_kek").read_text(), source="kek")) == 32
    seed = base64.b64decode((directory / "ledger_signing_key").read_text().strip(), validate=True)
    Ed25519PrivateKey.from_private_bytes(seed)
    password = (directory / "postgres_password").read_text().strip()
    keys = dj_database_url.parse((directory / "keys_database_url").read_text().strip())
    assert (keys["HOST"], keys["PORT"], keys["USER"], keys["PASSWORD"], keys["NAME"]) == (
        "db",
        5433,
        "app",
        password,
        "data_keys",
    )


def test_generated_secrets_are_never_replaced(tmp_path):
    first = {}
    ensure_secrets(tmp_path, db_host="db", db_port=5432, db_user="u", db_name="d", keys_db_name="k")
    for path in tmp_path.iterdir():
        first[path.name] = path.read_text()
    again = ensure_secrets(tmp_path, db_host="db", db_port=5432, db_user="u", db_name="d", keys_db_name="k")
    assert again == []
    assert {path.name: path.read_text() for path in tmp_path.iterdir()} == first


# --- scripts/stack, for real -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _drop_stack_databases(name: str) -> None:
    for statement in (
        f"DROP DATABASE IF EXISTS {name}",
        f"DROP DATABASE IF EXISTS {name}_keys",
        f"DROP ROLE IF EXISTS {name}",
    ):
        subprocess.run(
            ["runuser", "-u", "postgres", "--", "psql", "-qc", statement], cwd="/", capture_output=True, timeout=60
        )


def _log_tails(run_dir: Path) -> str:
    """The end of each service log, so a failure here says why a service stopped."""
    return "".join(
        f"\n--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        for log in sorted(run_dir.glob("*.log"))
    )


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_stack_script_starts_serves_and_stops():
    if os.geteuid() != 0 and not shutil.which("sudo"):
        pytest.skip("scripts/stack installs Debian packages: needs root or sudo")
    var = ROOT / "var" / f"stack-test-{uuid.uuid4().hex[:8]}"
    database = f"eidetic_stacktest_{uuid.uuid4().hex[:8]}"
    port = _free_port()
    environ = {
        **os.environ,
        "EIDETIC_STACK_VAR": str(var),
        "EIDETIC_STACK_PORT": str(port),
        "EIDETIC_STACK_DB": database,
        # The Redis the suite was given; the stack starts its own only when none answers.
        "EIDETIC_STACK_REDIS_PORT": str(urlparse(settings.REDIS_URL).port or 6379),
        "WEB_CONCURRENCY": "2",
        "CELERY_CONCURRENCY": "1",
    }

    def stack(command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(ROOT / "scripts" / "stack"), command], env=environ, capture_output=True, text=True, timeout=300
        )

    try:
        started = stack("start")
        assert started.returncode == 0, started.stdout + started.stderr
        status, body = _get(f"http://127.0.0.1:{port}/health/ready")
        assert status == 200, body
        # The worker's first heartbeat (sent when it is ready) may come a moment after gunicorn.
        deadline = time.monotonic() + 20
        while json.loads(body)["status"] != "ok" and time.monotonic() < deadline:
            time.sleep(0.5)
            status, body = _get(f"http://127.0.0.1:{port}/health/ready")
        assert {name: check["status"] for name, check in json.loads(body)["checks"].items()} == {
            "database": "ok",
            "keys_database": "ok",
            "redis": "ok",
            "worker_heartbeat": "ok",
            "ledger_sequencer": "ok",
            "ledger_anchor": "ok",
        }, body
        assert _get(f"http://127.0.0.1:{port}/health/live") == (200, '{"status": "ok"}')
        login_status, _ = _get(f"http://127.0.0.1:{port}/accounts/login/")
        assert login_status == 200
        running = stack("status")
        assert running.returncode == 0, running.stdout + _log_tails(var / "run")
        for name in ("gunicorn", "celery-worker", "celery-beat"):
            assert f"{name}" in running.stdout
            assert (var / "run" / f"{name}.pid").exists()
        # Generated secrets are files readable by their owner only.
        assert oct((var / "secrets").stat().st_mode & 0o777) == "0o700"
    finally:
        stopped = stack("stop")
        _drop_stack_databases(database)
        shutil.rmtree(var, ignore_errors=True)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    with pytest.raises(urllib.error.URLError, match="Connection refused"):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=5)
