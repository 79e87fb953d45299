#!/usr/bin/env python3
"""Create the secret files the production stack reads through ``*_FILE`` variables.

    python3 scripts/make_secrets.py                 # ./secrets/, for docker-compose.yml
    python3 scripts/make_secrets.py --dir var/secrets --db-host 127.0.0.1 ...   # scripts/stack

Existing files are never overwritten: replacing the master key (eidetic_kek) or the
ledger signing key would make sealed data unreadable and break the log's signatures.
Rotate them with ``manage.py rotate_kek`` and the ledger's documented procedure instead.
Standard library only, so it runs before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
from pathlib import Path


def _write_once(directory: Path, name: str, value: str) -> bool:
    """Write ``value`` to ``directory/name`` unless it exists; True when written."""
    path = directory / name
    try:
        # 0644 inside a 0700 directory: host users cannot reach it, while the container's
        # unprivileged user can read the single file Docker bind-mounts as a secret.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as handle:
        handle.write(value + "\n")
    return True


def ensure_secrets(
    directory: Path, *, db_host: str, db_port: int, db_user: str, db_name: str, keys_db_name: str
) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    written = []
    generated = {
        "django_secret_key": secrets.token_urlsafe(50),
        # 32 random bytes, base64: the master key (KEK) that wraps every data key.
        "eidetic_kek": base64.b64encode(secrets.token_bytes(32)).decode(),
        # Base64 of a 32-byte Ed25519 seed: the ledger's checkpoint signing key.
        "ledger_signing_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "postgres_password": secrets.token_hex(24),
    }
    for name, value in generated.items():
        if _write_once(directory, name, value):
            written.append(name)
    password = (directory / "postgres_password").read_text().strip()
    for name, database in (("database_url", db_name), ("keys_database_url", keys_db_name)):
        url = f"postgres://{db_user}:{password}@{db_host}:{db_port}/{database}"
        if _write_once(directory, name, url):
            written.append(name)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="secrets", type=Path)
    parser.add_argument("--db-host", default="postgres")
    parser.add_argument("--db-port", default=5432, type=int)
    parser.add_argument("--db-user", default="eidetic")
    parser.add_argument("--db-name", default="eidetic")
    parser.add_argument("--keys-db-name", default="eidetic_keys")
    args = parser.parse_args()
    written = ensure_secrets(
        args.dir,
        db_host=args.db_host,
        db_port=args.db_port,
        db_user=args.db_user,
        db_name=args.db_name,
        keys_db_name=args.keys_db_name,
    )
    print(f"{args.dir}: created {', '.join(written)}" if written else f"{args.dir}: all secrets already exist")


if __name__ == "__main__":
    main()
