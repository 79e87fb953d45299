"""X/Twitter archive importers: tweets.js and like.js."""

from __future__ import annotations

import pytest

from tests.vault.fixtures import data_counts, fixture_bytes, import_bytes, import_fixture, vault_counts
from vault.errors import ImportRefused
from vault.models import ImportJob, SocialItem
from vault.selectors import social_items_of

pytestmark = pytest.mark.django_db


def test_it_imports_tweets_as_posts(person):
    job = import_fixture(person, "tweets.js")

    assert job.status == ImportJob.Status.DONE, job.error_detail
    assert (job.format, job.created_items) == ("twitter_tweets", 2)
    items = social_items_of(person).items
    assert {(i["kind"], i["network"]) for i in items} == {("post", "x")}
    by_text = {i["text"]: i for i in items}
    rye = by_text["Third attempt at the rye loaf rises at last #sourdough"]
    assert rye["topic"] == "sourdough"
    assert rye["url"] == "https://x.com/i/web/status/1634567890123456789"
    assert rye["occurred_at"].isoformat() == "2023-03-11T13:02:11+00:00"
    # "+0200" is honoured
    assert by_text["Quiet platform at Ostkreuz before the first train"]["occurred_at"].isoformat() == (
        "2020-08-03T05:45:00+00:00"
    )
    assert set(SocialItem.objects.values_list("source", flat=True)) == {"import:x-tweets"}


def test_it_imports_likes_dated_by_their_tweet_id(person):
    job = import_fixture(person, "like.js")

    assert (job.format, job.created_items) == ("twitter_likes", 3)
    items = sorted(social_items_of(person).items, key=lambda i: i["occurred_at"])
    assert {i["kind"] for i in items} == {"like"}
    heron = items[-1]
    assert heron["text"].startswith("Heron standing")
    # Snowflake: (1633012345678901234 >> 22) + 1288834974657 ms
    assert heron["occurred_at"].isoformat() == "2023-03-07T07:50:57.769000+00:00"
    assert items[0]["url"] == "https://x.com/i/web/status/1499999999999999999"


@pytest.mark.parametrize("name", ["tweets.js", "like.js"])
def test_a_second_import_creates_nothing(person, name):
    first = import_fixture(person, name)
    before = data_counts()

    again = import_fixture(person, name)

    assert (again.created_items, again.duplicate_items) == (0, first.created_items)
    assert data_counts() == before


@pytest.mark.parametrize("name", ["tweets.js", "like.js"])
def test_a_truncated_archive_file_fails_and_stores_nothing(person, name):
    data = fixture_bytes(name)
    job = import_bytes(person, name, data[: len(data) - 40])

    assert (job.status, job.error_code) == (ImportJob.Status.FAILED, "ImportMalformed")
    assert "line " in job.error_detail
    assert "column " in job.error_detail
    assert sum(data_counts().values()) == 0


def test_a_bad_date_names_the_tweet(person):
    data = fixture_bytes("tweets.js").replace(b"Mon Aug 03 07:45:00 +0200 2020", b"the third of August")
    job = import_bytes(person, "tweets.js", data)

    assert job.error_code == "ImportMalformed"
    assert job.error_detail.startswith("$[1].tweet.created_at")
    assert "August" not in job.error_detail
    assert sum(data_counts().values()) == 0


def test_a_like_without_an_id_fails(person):
    data = b'window.YTD.like.part0 = [ {"like": {"tweetId": "1"}}, {"like": {"fullText": "no id"}} ]'
    job = import_bytes(person, "like.js", data)

    assert job.error_code == "ImportMalformed"
    assert job.error_detail.startswith("$[1].like.tweetId")
    assert sum(data_counts().values()) == 0


def test_other_archive_files_are_refused(person):
    data = b'window.YTD.direct_messages.part0 = [ {"dmConversation": {}} ]'

    with pytest.raises(ImportRefused, match=r"direct-messages\.js was refused: its type"):
        import_bytes(person, "direct-messages.js", data)
    assert sum(vault_counts().values()) == 0


def test_likes_named_as_tweets_are_refused_when_the_format_is_forced(person):
    with pytest.raises(ImportRefused, match=r"does not look like an X/Twitter archive tweets\.js file"):
        import_bytes(person, "tweets.js", fixture_bytes("like.js"), format="twitter_tweets")
    assert sum(vault_counts().values()) == 0
