"""The Celery task, the on-commit hook and the rebuild command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from insights import selectors, services, tasks
from tests.insights.helpers import add_moment

pytestmark = pytest.mark.django_db(transaction=True)

WHEN = datetime(2025, 5, 5, 18, tzinfo=UTC)


def test_the_task_updates_from_since(person):
    add_moment(person, WHEN, "espresso", sentiment="loves")
    result = tasks.update_interests.delay(person.pk, WHEN.isoformat()).get()
    assert result["evidence_written"] == 1
    assert "food.coffee" in selectors.timeline_of(person)[-1][1]


def test_the_hook_queues_the_update_only_after_the_commit(person):
    with transaction.atomic():
        add_moment(person, WHEN, "espresso", sentiment="loves")
        services.interests_changed(person, WHEN)
        assert selectors.timeline_of(person) == []  # nothing before the commit
    assert "food.coffee" in selectors.timeline_of(person)[-1][1]


def _failing_import(person) -> None:
    with transaction.atomic():
        add_moment(person, WHEN, "espresso", sentiment="loves")
        services.interests_changed(person, WHEN)
        raise RuntimeError("import failed")


def test_a_rolled_back_import_queues_nothing(person):
    with pytest.raises(RuntimeError):
        _failing_import(person)
    assert selectors.timeline_of(person) == []


def test_the_command_rebuilds_everyone_or_the_named_people(person, other_person):
    add_moment(person, WHEN, "espresso", sentiment="loves")
    add_moment(other_person, WHEN + timedelta(days=1), "jazz", sentiment="loves")
    out, err = StringIO(), StringIO()
    call_command("rebuild_interests", "--user", "alice", stdout=out, stderr=err)
    assert "Rebuilt 1 timeline(s)" in out.getvalue()
    assert "Rebuilding interests" in err.getvalue()  # the progress bar
    assert "1/1" in err.getvalue()
    assert err.getvalue().count("\n") == 1  # redrawn in place on one line, ended once
    assert selectors.timeline_of(person)
    assert not selectors.timeline_of(other_person)
    call_command("rebuild_interests", stdout=out, stderr=err)
    assert selectors.timeline_of(other_person)
    with pytest.raises(CommandError, match="nobody"):
        call_command("rebuild_interests", "--user", "nobody", stdout=out, stderr=err)
