"""``manage.py demo``: it builds the world, is idempotent, and leaves nothing personal in clear.

The acceptance test reads the raw bytes of the database files after the demo import and
looks for every label, post text and coordinate (to 4 decimals) the demo people hold.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import override_settings

from accounts.models import User
from vault import services
from vault.demo import DEMO_PASSWORD, PEOPLE
from vault.models import ImportJob, Moment, PrivacyZone, SocialItem, Track, Trackpoint

VAULT_ONLY = override_settings(DEMO_STEPS=["vault.demo.populate"])
MODELS = (Track, Trackpoint, Moment, SocialItem, PrivacyZone, ImportJob)
# A number with 4+ decimals that is not the seconds of a clear timestamp ("07:41:23.8986...").
NUMBER = re.compile(rb"(?<![\d:])-?(\d{1,3}\.\d{4})")
MIN_TEXT = 6  # shorter strings could turn up by chance in ciphertext


def _run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS} | {"users": User.objects.count()}


def _raw_database_bytes() -> bytes:
    """Every database's file(s), read after checkpointing the WAL and closing connections."""
    blobs = []
    for alias in connections:
        connection = connections[alias]
        if connection.vendor != "sqlite":
            blobs.append(_postgres_rows_as_text(connection))
            continue
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        name = Path(connection.settings_dict["NAME"])
        connection.close()
        for path in (name, Path(f"{name}-wal"), Path(f"{name}-journal")):
            if path.exists():
                blobs.append(path.read_bytes())
    return b"\n".join(blobs)


def _postgres_rows_as_text(connection) -> bytes:
    """On PostgreSQL the closest to "the raw file": every row of every table, as text."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT t::text FROM "{table}" AS t')  # noqa: S608 - names from introspection
            parts.extend(row[0].encode() for row in cursor.fetchall())
    return b"\n".join(parts)


def _secrets_of(people) -> tuple[set[str], set[str]]:
    """(texts, coordinates as 4-decimal strings) that the demo people hold, opened."""
    texts: set[str] = set()
    coordinates: set[str] = set()

    def add_coordinate(value: float) -> None:
        for text in (f"{abs(value):.4f}", f"{abs(value):.6f}"[:-2]):  # rounded and truncated
            coordinates.add(text)

    for person in people:
        document = services.export_person_data(person)
        for track in document["tracks"]:
            texts.add(track.get("name") or "")
            for point in track["points"]:
                add_coordinate(point["lat"])
                add_coordinate(point["lon"])
        for moment in document["moments"]:
            # Tags are left out: single common words ("family") that public catalogue text also uses.
            texts.add(moment["label"])
            if moment.get("place"):
                texts.add(moment["place"].get("name") or "")
                add_coordinate(moment["place"]["lat"])
                add_coordinate(moment["place"]["lon"])
        for item in document["social_items"]:
            texts.update(item.get(key) or "" for key in ("text", "topic", "handle", "url"))
        for zone in document["privacy_zones"]:
            texts.add(zone["label"])
            add_coordinate(zone["lat"])
            add_coordinate(zone["lon"])
    return {text for text in texts if len(text) >= MIN_TEXT}, coordinates


@pytest.mark.django_db(transaction=True)
@VAULT_ONLY
def test_demo_builds_a_week_for_each_person_and_prints_logins():
    output = _run_demo()
    for spec in PEOPLE:
        person = User.objects.get(username=spec.username)
        assert person.role == User.Role.PERSON
        assert person.check_password(DEMO_PASSWORD)
        assert Track.objects.filter(owner=person).count() == 7
        assert Trackpoint.objects.filter(owner=person).count() > 7 * 200
        assert Moment.objects.filter(owner=person).count() == len(spec.moments)
        assert SocialItem.objects.filter(owner=person).count() == len(spec.social_items)
        assert PrivacyZone.objects.filter(owner=person).count() == 1
        assert f"{spec.username:<16} password {DEMO_PASSWORD}" in output
    chiara = User.objects.get(username="chiara")
    document = services.export_person_data(chiara)
    churches = [t for t in document["tracks"] if t["name"] == "Baroque churches walk"]
    assert churches
    # In front of Borromini her heart races well above her walking effort level.
    assert max(p["hr"] for p in churches[0]["points"]) > 115
    assert all(p["hr"] is not None for p in churches[0]["points"])


@pytest.mark.django_db(transaction=True)
@VAULT_ONLY
def test_demo_is_idempotent_and_reset_rebuilds():
    _run_demo()
    first = _counts()
    second_output = _run_demo()
    assert _counts() == first
    assert "already there" in second_output
    old_uid = User.objects.get(username="ada").uid
    _run_demo("--reset")
    assert User.objects.get(username="ada").uid != old_uid
    assert Track.objects.filter(owner__username="ada").count() == 7


@pytest.mark.django_db(transaction=True)
@override_settings(DEMO_STEPS=["no_such_app.demo.populate", "vault.demo.populate"])
def test_demo_skips_a_step_whose_module_does_not_exist_yet():
    output = _run_demo()
    assert "no_such_app.demo.populate: skipped" in output
    assert User.objects.filter(username="chiara").exists()


@pytest.mark.django_db(transaction=True)
def test_full_demo_world_leaves_no_label_text_or_coordinate_in_clear():
    """Every step of settings.DEMO_STEPS (partners, consents, ledger, insights) included."""
    _run_demo()
    people = list(User.objects.filter(username__in=[spec.username for spec in PEOPLE]))
    texts, coordinates = _secrets_of(people)
    raw = _raw_database_bytes()
    assert b"chiara" in raw
    assert sorted(text for text in texts if text.encode() in raw) == []
    assert sorted(coordinates & {match.decode() for match in NUMBER.findall(raw)}) == []


@pytest.mark.django_db(transaction=True)
@VAULT_ONLY
def test_raw_database_holds_no_demo_label_text_or_coordinate():
    _run_demo()
    people = list(User.objects.filter(username__in=[spec.username for spec in PEOPLE]))
    texts, coordinates = _secrets_of(people)
    assert len(texts) > 40
    assert len(coordinates) > 1000
    raw = _raw_database_bytes()
    # Positive control: what is meant to be clear (the login handle) is found by this scan.
    assert b"chiara" in raw
    leaked_texts = sorted(text for text in texts if text.encode() in raw)
    assert leaked_texts == []
    numbers_in_clear = {match.decode() for match in NUMBER.findall(raw)}
    assert sorted(coordinates & numbers_in_clear) == []

    # Negative control: the same scan does catch a label and a coordinate written in clear.
    chiara = User.objects.get(username="chiara")
    label = services.export_person_data(chiara)["moments"][0]["label"]
    point = services.export_person_data(chiara)["tracks"][0]["points"][0]
    User.objects.filter(pk=chiara.pk).update(first_name=label[:150])
    ImportJob.objects.filter(owner=chiara).update(error_detail=f"at {point['lat']}")
    raw = _raw_database_bytes()
    assert label.encode() in raw
    assert f"{point['lat']:.6f}"[:-2] in {match.decode() for match in NUMBER.findall(raw)}
