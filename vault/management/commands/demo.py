"""``manage.py demo``: build (or complete) the demo world and print how to log in."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from accounts.models import User
from accounts.services import erase_account


class Command(BaseCommand):
    help = "Create demo people, partners and data (idempotent), then print how to log in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="Erase the demo people first, then rebuild.")

    def handle(self, *args: Any, reset: bool = False, **options: Any) -> None:
        if reset:
            self._reset()
        # Eager Celery logs every import task at INFO; the demo prints its own summary instead.
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
        world: dict[str, Any] = {}
        for dotted in settings.DEMO_STEPS:
            step = self._load(dotted)
            if step is None:
                continue
            self.stdout.write(f"{dotted}:")
            step(world, self.stdout)
        self._print_logins(world)

    def _load(self, dotted: str):
        module_name, _, function_name = dotted.rpartition(".")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            # Only a step whose own module is missing is skipped; a broken import inside it is an error.
            if error.name is None or not module_name.startswith(error.name):
                raise
            self.stdout.write(f"{dotted}: skipped ({module_name} does not exist yet)")
            return None
        return getattr(module, function_name)

    def _reset(self) -> None:
        from vault.demo import PEOPLE

        for person in User.objects.filter(username__in=[spec.username for spec in PEOPLE]):
            erase_account(person)
            self.stdout.write(f"Erased demo person {person.uid}")

    def _print_logins(self, world: dict[str, Any]) -> None:
        self.stdout.write(self.style.SUCCESS("\nDemo world ready. Log in at /accounts/login/ with:"))
        for login in world.get("logins", []):
            self.stdout.write(f"  {login['username']:<16} password {login['password']:<16} ({login['role']})")
