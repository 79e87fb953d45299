"""The topic taxonomy shipped with the project (``insights/topics.json``) and the matcher
that finds topics in a piece of text: keywords and phrases, compared after Snowball
stemming, so "churches" finds "church" and "frescoes" finds "fresco".

Keyword matching instead of an embedding model on purpose: it loads offline in
milliseconds, and every match can be explained to the person by the keyword that fired.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import snowballstemmer

TOPICS_FILE = Path(__file__).with_name("topics.json")
_WORD = re.compile(r"[^\W\d_]+|\d+[a-z]*", re.UNICODE)


@dataclass(frozen=True)
class Topic:
    id: str
    name: str
    category: str
    keywords: tuple[str, ...]
    place_kinds: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    """The topics a text mentions, with the keywords (as written in the taxonomy) that fired."""

    keywords_by_topic: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def topic_ids(self) -> list[str]:
        return sorted(self.keywords_by_topic)


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@cache
def _stemmer():
    return snowballstemmer.stemmer("english")


def fold_text(text: str) -> str:
    """Lower case without accents: "Caffè" and "caffe" are the same word."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def stems(text: str) -> tuple[str, ...]:
    return tuple(_stem(word) for word in _WORD.findall(fold_text(text)))


class _PhraseIndex:
    """Keyword phrases (as stem tuples) indexed by their first stem, longest first."""

    def __init__(self) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}

    def add(self, phrase: str, owner: str) -> None:
        key = stems(phrase)
        entries = self._by_first.get(key[0], []) if key else []
        # "fresco" and "frescoes" are one keyword once stemmed: keep the first spelling.
        if key and not any(existing == key and who == owner for existing, who, _ in entries):
            self._by_first.setdefault(key[0], []).append((key, owner, phrase))
            self._by_first[key[0]].sort(key=lambda item: (-len(item[0]), item[1], item[2]))

    def find(self, words: tuple[str, ...]) -> list[tuple[str, str]]:
        """(owner, phrase) for every phrase occurring in ``words``, in a stable order."""
        found: set[tuple[str, str]] = set()
        for position, word in enumerate(words):
            for key, owner, phrase in self._by_first.get(word, ()):
                if words[position : position + len(key)] == key:
                    found.add((owner, phrase))
        return sorted(found)


class Taxonomy:
    def __init__(self, data: dict) -> None:
        self.version: int = data["version"]
        self.topics: dict[str, Topic] = {}
        self._keywords = _PhraseIndex()
        self._place_kinds = _PhraseIndex()
        for raw in data["topics"]:
            topic = Topic(
                id=raw["id"],
                name=raw["name"],
                category=raw["category"],
                keywords=tuple(raw["keywords"]),
                place_kinds=tuple(raw["place_kinds"]),
            )
            self.topics[topic.id] = topic
            for keyword in topic.keywords:
                self._keywords.add(keyword, topic.id)
        for kind, words in data["place_kinds"].items():
            for word in words:
                self._place_kinds.add(word, kind)

    def match(self, *texts: str) -> Match:
        found: dict[str, set[str]] = {}
        for text in texts:
            if not text:
                continue
            for topic_id, keyword in self._keywords.find(stems(text)):
                found.setdefault(topic_id, set()).add(keyword)
        return Match({topic_id: tuple(sorted(words)) for topic_id, words in sorted(found.items())})

    def place_kinds(self, place_name: str) -> list[str]:
        """The kinds of place a name suggests ("Chiesa di Sant'Ivo" -> church)."""
        if not place_name:
            return []
        return sorted({kind for kind, _ in self._place_kinds.find(stems(place_name))})

    def name_of(self, topic_id: str) -> str:
        topic = self.topics.get(topic_id)
        return topic.name if topic else topic_id


@cache
def get_taxonomy() -> Taxonomy:
    return Taxonomy(json.loads(TOPICS_FILE.read_text(encoding="utf-8")))
