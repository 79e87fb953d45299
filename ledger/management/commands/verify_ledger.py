from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ledger.selectors import verify_database


class Command(BaseCommand):
    help = "Verify the ledger in the database exactly as an auditor's `python -m ledger.verify` would."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        parser.add_argument("--no-anchors", action="store_true", help="do not check anchors against the chain")

    def handle(self, *args, quiet: bool, no_anchors: bool, **options):
        report = verify_database(progress=not quiet, check_anchors=not no_anchors)
        self.stdout.write(report.summary())
        if not report.ok:
            raise CommandError("the ledger does not verify", returncode=1)
