"""docker-compose.yml, checked without Docker: there is no Docker daemon (nor the compose
plugin) on the build machine, so the file is validated statically here, and by
``docker compose config`` only where the plugin exists. tests/test_deploy.py checks the
services' settings and secrets; this file checks that the stack hangs together: what each
service runs is installed in the image, the dependency graph is sound, every variable the
production settings require is given, and the health checks probe something real.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _requirement_names() -> set[str]:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return {re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].lower() for requirement in dependencies}


def _command(service: dict) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else command.split()


def test_every_service_runs_a_program_the_image_installs(compose):
    # The Dockerfile installs exactly pyproject's dependencies on python:3.11-slim (sh, python).
    installed = _requirement_names() | {"python", "sh"}
    for name in APP_SERVICES:
        program = _command(compose["services"][name])[0]
        assert program in installed, (name, program)
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "['project']['dependencies']" in dockerfile
    assert "pip install -r /tmp/requirements.txt" in dockerfile


def test_the_dependency_graph_names_real_services_and_has_no_cycle(compose):
    services = compose["services"]
    graph = {name: set(service.get("depends_on", {})) for name, service in services.items()}
    for name, needs in graph.items():
        assert needs <= set(services), (name, needs - set(services))
    seen: set[str] = set()
    while len(seen) < len(graph):
        ready = {name for name, needs in graph.items() if name not in seen and needs <= seen}
        assert ready, f"dependency cycle among {set(graph) - seen}"
        seen |= ready


def test_every_variable_production_requires_is_given_to_every_app_service(compose):
    production = (ROOT / "config" / "settings" / "production.py").read_text()
    required = set(re.findall(r'env_required\("([A-Z_]+)"\)', production))
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "KEYS_DATABASE_URL", "REDIS_URL"} <= required
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        for variable in required:
            assert variable in environment or f"{variable}_FILE" in environment, (name, variable)


def test_health_checks_probe_readiness_and_the_worker(compose):
    services = compose["services"]
    web = " ".join(services["web"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/health/ready" in web
    worker = " ".join(services["worker"]["healthcheck"]["test"])
    # Celery names a worker celery@<hostname> unless told otherwise: the ping must match it.
    assert "inspect ping" in worker
    assert "celery@$$HOSTNAME" in worker
    assert "--hostname" not in " ".join(_command(services["worker"]))
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_exactly_one_beat_and_workers_that_may_scale(compose):
    beat = compose["services"]["beat"]
    assert "deploy" not in beat or beat["deploy"].get("replicas", 1) == 1
    # Scaling out with --scale needs services without fixed names or host ports.
    for name in ("worker", "web"):
        assert "container_name" not in compose["services"][name]
    assert "ports" not in compose["services"]["worker"]


def test_docker_compose_config_accepts_the_file():
    """Only where the compose plugin exists (not on the build machine: see the module doc)."""
    if shutil.which("docker") is None:
        pytest.skip("no docker client")
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip("the docker compose plugin is not installed")
    secrets = ROOT / "secrets"
    if not secrets.exists():
        pytest.skip("secrets/ not generated (scripts/make_secrets.py)")
    result = subprocess.run(
        ["docker", "compose", "config", "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
