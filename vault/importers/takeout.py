"""Google Takeout location history: ``Records.json`` with ``locations[]``.

Each record has ``latitudeE7``/``longitudeE7`` (degrees x 10^7), ``timestamp`` (ISO 8601;
older exports ``timestampMs``, epoch milliseconds as a string), and optionally
``altitude`` (m), ``accuracy`` and ``deviceTag``. Points are grouped into one track per
UTC day and device. ``accuracy`` is not stored (the trackpoint payload has no field for it).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from vault.importers.base import (
    Importer,
    ParsedImport,
    ParsedPoint,
    ParsedTrack,
    check_coordinates,
    decode_utf8,
    load_json_document,
    malformed,
    parse_iso_time,
    time_from_epoch_ms,
)

E7 = 10_000_000
# Some old exports wrote E7 values as unsigned 32-bit: southern/western values came out
# above the valid range and must be read back as two's complement (Google's own advice).
UINT32 = 2**32


def _e7(value: object, position: str) -> float:
    if not isinstance(value, int) or isinstance(value, bool):
        raise malformed(position, "expected an integer")
    if value > 1_800_000_000:
        value -= UINT32
    return value / E7


def _record_time(record: dict[str, Any], position: str):
    if "timestamp" in record:
        return parse_iso_time(record["timestamp"], f"{position}.timestamp")
    milliseconds = record.get("timestampMs")
    if isinstance(milliseconds, str) and milliseconds.isdigit() and len(milliseconds) <= 15:
        return time_from_epoch_ms(int(milliseconds), f"{position}.timestampMs")
    raise malformed(position, "timestamp or timestampMs missing or invalid")


def _altitude(value: object, position: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not -12_000 <= value <= 12_000:
        raise malformed(f"{position}.altitude", "expected a number of metres")
    return float(value)


def _device(value: object, position: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise malformed(f"{position}.deviceTag", "expected an integer")
    return str(value)[:40]


def _point(record: object, position: str) -> tuple[str | None, ParsedPoint]:
    if not isinstance(record, dict):
        raise malformed(position, "expected an object")
    if "latitudeE7" not in record or "longitudeE7" not in record:
        raise malformed(position, "latitudeE7 or longitudeE7 missing")
    lat = _e7(record["latitudeE7"], f"{position}.latitudeE7")
    lon = _e7(record["longitudeE7"], f"{position}.longitudeE7")
    check_coordinates(lat, lon, position)
    recorded_at = _record_time(record, position)
    point = ParsedPoint(recorded_at, lat, lon, _altitude(record.get("altitude"), position), None)
    return _device(record.get("deviceTag"), position), point


class TakeoutImporter(Importer):
    format = "takeout"
    source = "import:takeout"
    title = "a Google Takeout Records.json file"
    extensions = (".json",)

    def sniff(self, head: bytes) -> bool:
        return head.startswith(b"{") and b'"locations"' in head

    def parse(self, data: bytes) -> ParsedImport:
        document = load_json_document(decode_utf8(data))
        if not isinstance(document, dict) or not isinstance(document.get("locations"), list):
            raise malformed("$", 'expected an object with a "locations" array')
        groups: dict[tuple[str, str | None], list[ParsedPoint]] = defaultdict(list)
        for index, record in enumerate(document["locations"]):
            device, point = _point(record, f"$.locations[{index}]")
            groups[(point.recorded_at.date().isoformat(), device)].append(point)
        if not groups:
            raise malformed("$.locations", "the file holds no locations")
        tracks = []
        for (day, device), points in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] or "")):
            points.sort(key=lambda point: point.recorded_at)
            tracks.append(ParsedTrack(name=f"Location history {day}", device=device, activity=None, points=points))
        return ParsedImport(tracks=tracks)
