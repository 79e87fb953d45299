from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from ledger.export import export_to


class Command(BaseCommand):
    help = "Export the ledger for auditors: entries.jsonl, checkpoints.jsonl and key.txt in DIRECTORY."

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args, directory: str, quiet: bool, **options):
        count, checkpoints = export_to(Path(directory), progress=not quiet)
        self.stdout.write(f"exported {count} entries and {checkpoints} checkpoints to {directory}")
        self.stdout.write(f"verify with: python -m ledger.verify --key {directory}/key.txt {directory}")
