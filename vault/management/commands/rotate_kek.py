"""Rotate the master key (KEK): re-wrap every person's data key under the current KEK.

Only the small wrapped DEKs change; no sealed record is touched, so rotation is quick and
nothing becomes unreadable at any point: until a data key is re-wrapped, the previous KEK
(still in the keyring) opens it, and each re-wrap is a single atomic compare-and-set.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from vault.errors import KeyringError
from vault.keyring import get_keyring, reset_keyring
from vault.keys import rewrap
from vault.models import VaultKey


class Command(BaseCommand):
    help = "Re-wrap all data keys under a new (or the newly configured) master key."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-generate",
            action="store_true",
            help="Do not create a new KEK; re-wrap under the keyring's current one "
            "(the way with EnvironmentKeyring: set the new EIDETIC_KEK, keep the old in EIDETIC_KEK_PREVIOUS).",
        )
        parser.add_argument(
            "--retire-old",
            action="store_true",
            help="Afterwards, delete previous KEKs that no data key is wrapped under any more.",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, no_generate: bool, retire_old: bool, no_progress: bool, **options):
        reset_keyring()
        keyring = get_keyring()
        try:
            new_id = keyring.current()[0] if no_generate else keyring.generate()
        except KeyringError as error:
            raise CommandError(error.message) from None
        stale = VaultKey.objects.exclude(kek_id=new_id)
        total = stale.count()
        rewrapped = 0
        with tqdm(total=total, unit="key", desc="Re-wrapping data keys", disable=no_progress or None) as bar:
            for vault_key in stale.iterator(chunk_size=500):
                try:
                    rewrapped += rewrap(vault_key)
                except KeyringError as error:
                    raise CommandError(f"{error.message}; {rewrapped} keys were re-wrapped before this") from None
                bar.update(1)
        self.stdout.write(f"Current master key: {new_id}. Re-wrapped {rewrapped} of {total} data keys.")
        if retire_old:
            in_use = set(VaultKey.objects.values_list("kek_id", flat=True).distinct())
            for kek_id in keyring.ids():
                if kek_id != new_id and kek_id not in in_use:
                    try:
                        keyring.retire(kek_id)
                    except KeyringError as error:
                        raise CommandError(error.message) from None
                    self.stdout.write(f"Retired master key {kek_id}.")
