"""Eidetic's own JSON format, validated by its JSON Schema."""

from __future__ import annotations

import json

import pytest

from tests.vault.fixtures import data_counts, fixture_bytes, import_bytes, import_fixture
from vault.importers.eidetic import validator
from vault.models import ImportJob, Moment, SocialItem
from vault.selectors import moments_of, social_items_of

pytestmark = pytest.mark.django_db


def _document(**overrides) -> bytes:
    document = json.loads(fixture_bytes("eidetic.json"))
    document.update(overrides)
    return json.dumps(document).encode()


def test_the_fixture_is_valid_under_the_schema():
    assert list(validator().iter_errors(json.loads(fixture_bytes("eidetic.json")))) == []


def test_it_imports_moments_and_social_items(person):
    job = import_fixture(person, "eidetic.json")

    assert job.status == ImportJob.Status.DONE, job.error_detail
    assert (job.format, job.created_items) == ("eidetic", 6)
    moments = {m["label"]: m for m in moments_of(person).items}
    cafe = moments["Cafe Marzipanwald"]
    assert (cafe["kind"], cafe["sentiment"], cafe["tags"], cafe["hr"]) == (
        "place",
        "loves",
        ["coffee", "breakfast"],
        74,
    )
    assert cafe["place"] == {"name": "Cafe Marzipanwald", "lat": 52.49871, "lon": 13.41893}
    assert moments["Quenchwell sparkling birch water"]["occurred_at"].isoformat() == "2024-05-04T17:05:00+00:00"
    assert moments["Aunt Philippa Grunewald"]["tags"] == []
    social = {i["kind"]: i for i in social_items_of(person).items}
    assert social["interest"]["network"] == "eidetic"  # the default
    assert social["post"]["network"] == "mastodon"
    assert social["connection"]["handle"] == "ottilie-vandersloot"
    assert set(Moment.objects.values_list("source", flat=True)) == {"import:eidetic"}


def test_a_second_import_creates_nothing(person):
    import_fixture(person, "eidetic.json")
    before = data_counts()

    again = import_fixture(person, "eidetic.json")

    assert (again.created_items, again.duplicate_items) == (0, 6)
    assert data_counts() == before


def _assert_failed_clean(job, detail_start, *words):
    assert (job.status, job.error_code) == (ImportJob.Status.FAILED, "ImportMalformed")
    assert job.error_detail.startswith(detail_start), job.error_detail
    for word in words:
        assert word in job.error_detail
    assert sum(data_counts().values()) == 0


def test_a_sentiment_outside_the_scale_names_the_path_not_the_value(person):
    document = json.loads(fixture_bytes("eidetic.json"))
    document["moments"][1]["sentiment"] = "adores"
    job = import_bytes(person, "mine.json", json.dumps(document).encode())

    _assert_failed_clean(job, "$.moments[1].sentiment", "must be one of: loves")
    assert "adores" not in job.error_detail


def test_a_missing_label_is_named(person):
    document = json.loads(fixture_bytes("eidetic.json"))
    del document["moments"][2]["label"]
    _assert_failed_clean(import_bytes(person, "m.json", json.dumps(document).encode()), "$.moments[2]", "label")


def test_an_unknown_property_is_refused_without_quoting_it(person):
    document = json.loads(fixture_bytes("eidetic.json"))
    document["social_items"][0]["diary"] = "private words"
    job = import_bytes(person, "m.json", json.dumps(document).encode())

    _assert_failed_clean(job, "$.social_items[0]", "does not define")
    assert "diary" not in job.error_detail


def test_a_social_item_needs_some_content(person):
    item = {"occurred_at": "2024-01-01T00:00:00Z", "kind": "interest"}
    job = import_bytes(person, "m.json", _document(social_items=[item]))

    _assert_failed_clean(job, "$.social_items[0]", "at least one of")


def test_a_date_without_offset_is_refused(person):
    item = {"occurred_at": "2024-01-01 00:00", "kind": "interest", "topic": "x"}
    _assert_failed_clean(
        import_bytes(person, "m.json", _document(social_items=[item])), "$.social_items[0]", "RFC 3339"
    )


def test_another_version_of_the_format_is_refused(person):
    _assert_failed_clean(import_bytes(person, "m.json", _document(format="eidetic-import/9")), "$.format")


def test_a_truncated_file_names_line_and_column(person):
    job = import_bytes(person, "m.json", fixture_bytes("eidetic.json")[:300])
    _assert_failed_clean(job, "line ", "column")


def test_a_file_with_nothing_in_it_fails(person):
    _assert_failed_clean(import_bytes(person, "m.json", b'{"format": "eidetic-import/1"}'), "$", "no moments")
    assert SocialItem.objects.count() == 0
