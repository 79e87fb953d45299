"""Reading settings from the environment, with secrets also from ``NAME_FILE`` paths."""

from __future__ import annotations

import os
from pathlib import Path


class MissingSetting(RuntimeError):
    pass


def env(name: str, default: str | None = None) -> str | None:
    """Value of ``name``, else the contents of the file named by ``name_FILE``, else default."""
    value = os.environ.get(name)
    if value is not None:
        return value
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return default


def env_required(name: str) -> str:
    value = env(name)
    if not value:
        raise MissingSetting(f"{name} (or {name}_FILE) must be set")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return default if value in (None, "") else int(value)


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = env(name)
    if not value:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]
