"""``manage.py rebuild_interests [--user U ...]``: rebuild interest timelines from scratch.

Everyone (every person not erased) by default; a progress bar on the terminal.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from tqdm import tqdm

from insights.services import rebuild_interests


class ProgressStream:
    """The command's stderr as tqdm's file, through ``OutputWrapper``'s public ``write``:
    without the line ending it adds to every write (tqdm redraws one line with carriage
    returns) and without the error colour; ``call_command(stderr=...)`` still captures it."""

    def __init__(self, wrapper: OutputWrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, style_func=lambda plain: plain, ending="")

    def flush(self) -> None:
        self.wrapper.flush()


class Command(BaseCommand):
    help = "Rebuild the interest timeline of every person, or of the named ones."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", action="append", default=[], help="Username (repeatable).")

    def handle(self, *args, **options) -> None:
        user_model = get_user_model()
        people = user_model.objects.filter(role=user_model.Role.PERSON, erased_at__isnull=True).order_by("pk")
        if options["user"]:
            people = people.filter(username__in=options["user"])
            missing = sorted(set(options["user"]) - set(people.values_list("username", flat=True)))
            if missing:
                raise CommandError(f"No such person: {', '.join(missing)}")
        records = evidence = 0
        for person in tqdm(list(people), desc="Rebuilding interests", unit="person", file=ProgressStream(self.stderr)):
            result = rebuild_interests(person=person)
            records += result.records_read
            evidence += result.evidence_written
        self.stdout.write(f"Rebuilt {people.count()} timeline(s) from {records} records ({evidence} with evidence).")
