"""The X/Twitter archive's ``data/tweets.js`` and ``data/like.js``.

Both are JavaScript: ``window.YTD.tweets.part0 = [ ... ]`` (older archives: ``tweet``) and
``window.YTD.like.part0 = [ ... ]``, then a JSON array of ``{"tweet": {...}}`` /
``{"like": {...}}``. Tweets become ``post`` social items, likes ``like`` items, network
``x``. like.js carries no date: a like is dated by its tweet id (a Snowflake id holds the
tweet's creation time), which is the best the archive offers.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from vault.importers.base import (
    Importer,
    ParsedImport,
    ParsedSocialItem,
    decode_utf8,
    load_json,
    malformed,
    optional_text,
    time_from_epoch_ms,
)

PREFIX = re.compile(r"^window\.YTD\.([A-Za-z_]+)\.part\d+\s*=\s*")
NETWORK = "x"
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS = {name: number for number, name in enumerate(MONTH_NAMES, 1)}
SNOWFLAKE_EPOCH_MS = 1_288_834_974_657
# Ids below this predate Snowflake (Nov 2010) and carry no time.
FIRST_SNOWFLAKE_ID = 29_700_000_000
MAX_TEXT = 10_000


def archive_part(head: bytes) -> str | None:
    """The archive file's part name (``tweets``, ``tweet``, ``like``...) or None."""
    match = PREFIX.match(head[:200].decode("ascii", "replace"))
    return match.group(1) if match else None


def _array_after_prefix(data: bytes, parts: tuple[str, ...]) -> list[Any]:
    text = decode_utf8(data)
    match = PREFIX.match(text[:200])
    if match is None or match.group(1) not in parts:
        raise malformed("line 1", f"expected to start with window.YTD.{parts[0]}.part0 =")
    value, end = load_json(text, match.end())
    if text[end:].strip() not in ("", ";"):
        raise malformed(f"line {text.count(chr(10), 0, end) + 1}", "unexpected content after the array")
    if not isinstance(value, list):
        raise malformed("line 1", "expected a JSON array after the = sign")
    return value


def _inner(entry: object, key: str, position: str) -> dict[str, Any]:
    if isinstance(entry, dict) and isinstance(entry.get(key), dict):
        return entry[key]
    if isinstance(entry, dict) and key not in entry:  # very old archives: no wrapper object
        return entry
    raise malformed(position, f'expected an object with a "{key}" object')


def _tweet_id(value: object, position: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not (isinstance(value, str) and value.isdigit() and len(value) <= 20):
        raise malformed(position, "id missing or not a number")
    return value


def _created_at(value: object, position: str) -> datetime:
    """Twitter's ``Wed Oct 10 20:19:24 +0000 2018``, parsed without the locale-dependent strptime."""
    parts = value.split() if isinstance(value, str) else []
    try:
        _weekday, month, day, clock, offset, year = parts
        hour, minute, second = (int(part) for part in clock.split(":"))
        sign = -1 if offset.startswith("-") else 1
        offset_minutes = sign * (int(offset[1:3]) * 60 + int(offset[3:5]))
        local = datetime(int(year), MONTHS[month], int(day), hour, minute, second, tzinfo=UTC)
    except (ValueError, KeyError):
        raise malformed(position, "created_at is not a Twitter date") from None
    value = datetime.fromtimestamp(local.timestamp() - offset_minutes * 60, tz=UTC)
    if not 2006 <= value.year <= 2100:
        raise malformed(position, "created_at is out of range")
    return value


def snowflake_time(tweet_id: str, position: str) -> datetime:
    number = int(tweet_id)
    if number < FIRST_SNOWFLAKE_ID:
        return time_from_epoch_ms(SNOWFLAKE_EPOCH_MS, position)
    return time_from_epoch_ms((number >> 22) + SNOWFLAKE_EPOCH_MS, position)


def _first_hashtag(tweet: dict[str, Any], position: str) -> str | None:
    entities = tweet.get("entities")
    hashtags = entities.get("hashtags") if isinstance(entities, dict) else None
    if isinstance(hashtags, list) and hashtags and isinstance(hashtags[0], dict):
        return optional_text(hashtags[0].get("text"), f"{position}.entities.hashtags[0]", 100)
    return None


class TweetsImporter(Importer):
    format = "twitter_tweets"
    source = "import:x-tweets"
    title = "an X/Twitter archive tweets.js file"
    extensions = (".js",)

    def sniff(self, head: bytes) -> bool:
        return archive_part(head) in ("tweets", "tweet")

    def parse(self, data: bytes) -> ParsedImport:
        items = []
        for index, entry in enumerate(_array_after_prefix(data, ("tweets", "tweet"))):
            position = f"$[{index}].tweet"
            tweet = _inner(entry, "tweet", f"$[{index}]")
            tweet_id = _tweet_id(tweet.get("id_str", tweet.get("id")), f"{position}.id_str")
            text = tweet.get("full_text", tweet.get("text"))
            items.append(
                ParsedSocialItem(
                    occurred_at=_created_at(tweet.get("created_at"), f"{position}.created_at"),
                    kind="post",
                    network=NETWORK,
                    text=optional_text(text, f"{position}.full_text", MAX_TEXT),
                    url=f"https://x.com/i/web/status/{tweet_id}",
                    topic=_first_hashtag(tweet, position),
                    external_id=tweet_id,
                )
            )
        return ParsedImport(social_items=items)


class LikesImporter(Importer):
    format = "twitter_likes"
    source = "import:x-likes"
    title = "an X/Twitter archive like.js file"
    extensions = (".js",)

    def sniff(self, head: bytes) -> bool:
        return archive_part(head) == "like"

    def parse(self, data: bytes) -> ParsedImport:
        items = []
        for index, entry in enumerate(_array_after_prefix(data, ("like",))):
            position = f"$[{index}].like"
            like = _inner(entry, "like", f"$[{index}]")
            tweet_id = _tweet_id(like.get("tweetId"), f"{position}.tweetId")
            url = optional_text(like.get("expandedUrl"), f"{position}.expandedUrl", 2000)
            items.append(
                ParsedSocialItem(
                    occurred_at=snowflake_time(tweet_id, f"{position}.tweetId"),
                    kind="like",
                    network=NETWORK,
                    text=optional_text(like.get("fullText"), f"{position}.fullText", MAX_TEXT),
                    url=url or f"https://x.com/i/web/status/{tweet_id}",
                    external_id=tweet_id,
                )
            )
        return ParsedImport(social_items=items)
