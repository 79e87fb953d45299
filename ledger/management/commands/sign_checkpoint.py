from __future__ import annotations

from django.core.management.base import BaseCommand

from ledger import services


class Command(BaseCommand):
    help = "Sequence pending entries and sign a checkpoint of the current tree now (beat does this on a schedule)."

    def handle(self, *args, **options):
        sequenced = services.sequence_pending()
        checkpoint = services.sign_checkpoint()
        self.stdout.write(f"sequenced {sequenced} pending entries")
        self.stdout.write(checkpoint.note if checkpoint else "the ledger is empty: nothing to sign")
