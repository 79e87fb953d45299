"""What every importer produces, and the small helpers they share.

An importer turns the bytes of one export file into plain records (``ParsedImport``);
it never touches the database. ``vault.importing`` fingerprints, seals and stores them.
Importers raise only ``ImportMalformed`` (with the position of the fault, never content
from the file) or ``ImportRefused``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, NamedTuple

from vault.errors import ImportMalformed


class ParsedPoint(NamedTuple):
    """One fix, already in UTC with the coordinates range-checked."""

    recorded_at: datetime
    lat: float
    lon: float
    ele: float | None
    hr: int | None


@dataclass
class ParsedTrack:
    name: str | None
    device: str | None
    activity: str | None
    points: list[ParsedPoint] = field(default_factory=list)


@dataclass
class ParsedMoment:
    occurred_at: datetime
    kind: str
    label: str
    tags: list[str]
    sentiment: str
    place: dict[str, Any] | None
    hr: int | None


@dataclass
class ParsedSocialItem:
    occurred_at: datetime
    kind: str
    network: str
    text: str | None = None
    url: str | None = None
    handle: str | None = None
    topic: str | None = None
    # The network's own id for the item (tweet id), when it has one: the best dedup key.
    external_id: str | None = None


@dataclass
class ParsedImport:
    tracks: list[ParsedTrack] = field(default_factory=list)
    moments: list[ParsedMoment] = field(default_factory=list)
    social_items: list[ParsedSocialItem] = field(default_factory=list)

    @property
    def item_count(self) -> int:
        """Items are points, moments and social items; tracks are containers, not items."""
        return sum(len(track.points) for track in self.tracks) + len(self.moments) + len(self.social_items)


class Importer:
    """One export format. Subclasses set the class attributes and implement ``parse``."""

    #: ``ImportJob.Format`` value.
    format: ClassVar[str]
    #: ``source`` written on every record this importer creates.
    source: ClassVar[str]
    #: Human name used in messages ("a GPX file").
    title: ClassVar[str]
    #: File name endings this format uses (lower case), for detection.
    extensions: ClassVar[tuple[str, ...]]

    def sniff(self, head: bytes) -> bool:
        """Whether the first bytes of a file (BOM and leading blanks removed) look like this format."""
        raise NotImplementedError

    def parse(self, data: bytes) -> ParsedImport:
        """Parse the whole file. Raises ImportMalformed naming the position of any fault."""
        raise NotImplementedError


# --- shared helpers --------------------------------------------------------------------


def malformed(position: str, reason: str) -> ImportMalformed:
    """An ImportMalformed whose message is ``position: reason`` (both free of file content)."""
    return ImportMalformed(f"{position}: {reason}" if position else reason)


def decode_utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise malformed(f"byte {exc.start}", "not valid UTF-8 text") from None


def _refuse_constant(name: str) -> float:
    raise ValueError("NaN and Infinity are not JSON")


def load_json(text: str, start: int = 0) -> tuple[Any, int]:
    """Decode one JSON value from ``text`` at ``start``; returns it and where it ended.

    Positions in errors are line/column of the whole text. NaN/Infinity are refused
    (they are not JSON and would poison coordinates).
    """
    decoder = json.JSONDecoder(parse_constant=_refuse_constant)
    try:
        return decoder.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise malformed(f"line {exc.lineno}, column {exc.colno}", f"invalid JSON ({exc.msg})") from None
    except ValueError:
        raise malformed("", "invalid JSON (NaN or Infinity is not allowed)") from None
    except RecursionError:
        raise malformed("", "invalid JSON (nested too deeply)") from None


def load_json_document(text: str) -> Any:
    value, end = load_json(text, _skip_blanks(text, 0))
    if text[end:].strip():
        line = text.count("\n", 0, end) + 1
        raise malformed(f"line {line}", "unexpected content after the JSON value")
    return value


def _skip_blanks(text: str, start: int) -> int:
    while start < len(text) and text[start] in " \t\r\n":
        start += 1
    return start


def utc(value: datetime) -> datetime:
    """Times without an offset are taken as UTC (GPX and Takeout write UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_iso_time(text: object, position: str) -> datetime:
    if not isinstance(text, str):
        raise malformed(position, "time is missing or not a string")
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise malformed(position, "time is not an ISO 8601 date-time") from None
    return _in_range(utc(parsed), position)


def _in_range(value: datetime, position: str) -> datetime:
    # Years outside 1970..2100 are corrupt data, and year 1/9999 break UTC arithmetic.
    if not 1970 <= value.year <= 2100:
        raise malformed(position, "time is outside 1970-2100")
    return value


def time_from_epoch_ms(milliseconds: int, position: str) -> datetime:
    try:
        value = datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise malformed(position, "time is out of range") from None
    return _in_range(value, position)


def check_coordinates(lat: float, lon: float, position: str) -> None:
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise malformed(position, "coordinates out of range")


def optional_text(value: object, position: str, max_length: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise malformed(position, "expected a string")
    value = value.strip()
    return value[:max_length] or None
