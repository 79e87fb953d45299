"""The demo's auditor: a login that verifies the ledger the other demo steps wrote, and a
signed checkpoint covering it (runs after every step that appends)."""

from __future__ import annotations

from typing import Any, TextIO

from accounts.models import User
from ledger import selectors, services
from vault.demo import DEMO_PASSWORD

AUDITOR_USERNAME = "audrey"


def populate(world: dict[str, Any], out: TextIO) -> None:
    auditor = User.objects.filter(username=AUDITOR_USERNAME).first()
    if auditor is None:
        auditor = User.objects.create_user(username=AUDITOR_USERNAME, password=DEMO_PASSWORD, role=User.Role.AUDITOR)
    services.sequence_pending()
    checkpoint = services.sign_checkpoint()
    size = checkpoint.size if checkpoint is not None else selectors.sequenced_size()
    out.write(f"  ledger: {size} entries under a signed checkpoint; auditor login {AUDITOR_USERNAME}\n")
    world["auditor"] = auditor
    world.setdefault("logins", []).append({"username": AUDITOR_USERNAME, "password": DEMO_PASSWORD, "role": "auditor"})
