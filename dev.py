#!/usr/bin/env python3
"""Eidetic's two commands, for a fresh machine with only Python 3.11:

    python3 dev.py start   install into .venv, set up the embedded stack with demo data, serve
    python3 dev.py test    install into .venv (with test tools), run the whole test suite

Extra arguments after ``test`` go to pytest; ``start --port 8001`` picks another port.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"


def run(*args: str, **kwargs) -> None:
    print("+", " ".join(args), flush=True)
    subprocess.run(args, cwd=ROOT, check=True, **kwargs)


def install(extras: str) -> None:
    """Create .venv and install the project, again only when pyproject.toml changed."""
    if not PYTHON.exists():
        print(f"Creating a virtualenv in {VENV}", flush=True)
        try:
            import ensurepip  # noqa: F401 - Debian and Ubuntu ship it separately
        except ImportError:
            sys.exit("Creating .venv needs Python's venv module: on Debian or Ubuntu, apt-get install python3-venv")
        # Symlinks, as `python3 -m venv` does: a copied interpreter can lose its shared library.
        venv.EnvBuilder(with_pip=True, symlinks=os.name != "nt").create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    run(str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(str(PYTHON), "-m", "pip", "install", "--quiet", "-e", f".[{extras}]" if extras else ".")
    stamp.write_text(digest)


def start(argv: list[str]) -> None:
    install("")
    port = argv[argv.index("--port") + 1] if "--port" in argv else "8000"
    manage = [str(PYTHON), "manage.py"]
    run(*manage, "migrate", "--noinput", "--database", "default")
    run(*manage, "migrate", "--noinput", "--database", "keys")
    run(*manage, "demo")
    print(f"\nEidetic is running at http://127.0.0.1:{port}/ (Ctrl-C stops it)\n", flush=True)
    os.execv(str(PYTHON), [str(PYTHON), "manage.py", "runserver", f"127.0.0.1:{port}"])


def test(argv: list[str]) -> None:
    install("dev")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run([str(PYTHON), "-m", "pytest", *argv], cwd=ROOT, env=env)
    sys.exit(result.returncode)


def main() -> None:
    if sys.version_info < (3, 11):
        sys.exit("Eidetic needs Python 3.11 or newer.")
    if len(sys.argv) < 2 or sys.argv[1] not in {"start", "test"}:
        sys.exit(__doc__)
    {"start": start, "test": test}[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
