"""``manage.py import_data --user USERNAME [--format F] FILE...``: import export files into a vault."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from vault.errors import VaultError
from vault.importers import IMPORTERS
from vault.importing import import_file
from vault.models import ImportJob


class Command(BaseCommand):
    help = "Import GPX, Google Takeout Records.json, X/Twitter tweets.js/like.js or Eidetic JSON files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--user", required=True, help="username of the vault's owner")
        parser.add_argument("--format", choices=sorted(IMPORTERS), help="skip detection and require this format")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options) -> None:
        person = get_user_model().objects.filter(username=options["user"]).first()
        if person is None:
            raise CommandError(f"No user named {options['user']!r}.")
        failures = 0
        for path in options["files"]:
            try:
                job = import_file(
                    person=person, path=path, format=options["format"], progress=not options["no_progress"]
                )
            except VaultError as refusal:
                self.stderr.write(f"{refusal.code}: {refusal.message}")
                failures += 1
                continue
            if job.status == ImportJob.Status.DONE:
                self.stdout.write(
                    f"{path}: {job.created_items} new, {job.duplicate_items} already in the vault ({job.format})."
                )
            else:
                self.stderr.write(f"{path}: {job.error_code}: {job.error_detail} Nothing was stored.")
                failures += 1
        if failures:
            raise CommandError(f"{failures} of {len(options['files'])} file(s) were not imported.")
