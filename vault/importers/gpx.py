"""GPX 1.1 (and 1.0) tracks, with Garmin TrackPointExtension heart rate (``gpxtpx:hr``).

Strava and Garmin Connect export exactly this: ``trk/trkseg/trkpt`` with ``ele``,
``time`` and ``extensions/gpxtpx:TrackPointExtension/gpxtpx:hr``. Waypoints and routes
are not lifelog data and are ignored. Every track point must have a time.

Why not gpxpy: on the shared 2-core build machine ``gpxpy.parse`` took ~7 s for a
100,000-point file (20 MB), which alone breaks the 10,000 points/s target, and it
builds the whole document in memory. We stream with ElementTree's C ``iterparse``
instead (~1.3 s measured alongside, ~2 s CPU with our per-point checks). That parser
is not defusedxml's (defusedxml swaps in the pure-Python parser, twice as slow), so
safety comes from ``refuse_unsafe_xml``: defusedxml parses the prolog up to the root
element and refuses any DTD; XML allows no DTD after the root starts, so without one
there are no entity declarations to expand and no external entities to fetch.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import datetime

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse as defused_iterparse

from vault.errors import ImportRefused
from vault.importers.base import (
    Importer,
    ParsedImport,
    ParsedPoint,
    ParsedTrack,
    check_coordinates,
    malformed,
    optional_text,
    utc,
)

GPX_NAMESPACES = ("http://www.topografix.com/GPX/1/1", "http://www.topografix.com/GPX/1/0", "")


def _tags(local: str) -> frozenset[str]:
    return frozenset(f"{{{ns}}}{local}" if ns else local for ns in GPX_NAMESPACES)


GPX_TAGS, TRK_TAGS, TRKPT_TAGS = _tags("gpx"), _tags("trk"), _tags("trkpt")
ELE_TAGS, TIME_TAGS, EXTENSIONS_TAGS = _tags("ele"), _tags("time"), _tags("extensions")
NAME_TAGS, TYPE_TAGS = _tags("name"), _tags("type")
# Heart rate inside <extensions>: Garmin TrackPointExtension v1/v2 (any prefix), and the
# older Cluetrust gpxdata:hr some apps still write.
HEART_RATE_LOCAL_NAMES = frozenset({"hr", "heartrate"})
MIN_HEART_RATE, MAX_HEART_RATE = 20, 260
MAX_ELEMENTS_BETWEEN_POINTS = 200_000


def refuse_unsafe_xml(data: bytes) -> None:
    """Let defusedxml read the prolog; a DTD (hence any entity) is refused."""
    try:
        for _event, _element in defused_iterparse(io.BytesIO(data), events=("start",), forbid_dtd=True):
            return  # the root element started: no DTD can follow
    except DefusedXmlException:
        raise ImportRefused("The file declares a DTD or entities, which Eidetic refuses for safety.") from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise malformed(f"line {line}, column {column}", "not well-formed XML") from None
    except LookupError:
        raise malformed("line 1", "the XML declaration names an unknown encoding") from None
    except ValueError:  # expat: "multi-byte encodings are not supported"
        raise malformed("line 1", "the XML declaration names an encoding Eidetic cannot read") from None


class _TrackBuilder:
    """Accumulates the points of the current <trk> while the stream goes by."""

    def __init__(self) -> None:
        self.tracks: list[ParsedTrack] = []
        self.points: list[ParsedPoint] = []

    def position(self) -> str:
        return f"track {len(self.tracks) + 1}, point {len(self.points) + 1}"

    def finish_track(self, element: ET.Element) -> None:
        name = activity = None
        for child in element:
            if child.tag in NAME_TAGS:
                name = optional_text(child.text, f"track {len(self.tracks) + 1}, name", 200)
            elif child.tag in TYPE_TAGS:
                activity = optional_text(child.text, f"track {len(self.tracks) + 1}, type", 60)
        if self.points:
            self.tracks.append(ParsedTrack(name=name, device=None, activity=activity, points=self.points))
        self.points = []


def _point(element: ET.Element, position: str) -> ParsedPoint:
    attributes = element.attrib
    try:
        lat, lon = float(attributes["lat"]), float(attributes["lon"])
    except KeyError:
        raise malformed(position, "lat or lon attribute missing") from None
    except ValueError:
        raise malformed(position, "lat or lon is not a number") from None
    check_coordinates(lat, lon, position)
    ele = hr = recorded_at = None
    for child in element:
        tag = child.tag
        if tag in TIME_TAGS:
            recorded_at = _time(child.text, position)
        elif tag in ELE_TAGS:
            ele = _elevation(child.text, position)
        elif tag in EXTENSIONS_TAGS:
            hr = _heart_rate(child, position)
    if recorded_at is None:
        raise malformed(position, "the point has no time (Eidetic stores timed track points only)")
    return ParsedPoint(recorded_at, lat, lon, ele, hr)


def _time(text: str | None, position: str) -> datetime:
    try:
        value = utc(datetime.fromisoformat((text or "").strip()))
    except ValueError:
        raise malformed(position, "time is not an ISO 8601 date-time") from None
    if not 1970 <= value.year <= 2100:
        raise malformed(position, "time is outside 1970-2100")
    return value


def _elevation(text: str | None, position: str) -> float | None:
    if not (text and text.strip()):
        return None
    try:
        ele = float(text)
    except ValueError:
        raise malformed(position, "elevation is not a number") from None
    if not -12_000 <= ele <= 12_000:  # also rejects NaN and infinities
        raise malformed(position, "elevation out of range")
    return round(ele, 2)


def _heart_rate(extensions: ET.Element, position: str) -> int | None:
    for element in extensions.iter():
        tag = element.tag
        if tag.rpartition("}")[2].lower() not in HEART_RATE_LOCAL_NAMES:
            continue
        try:
            hr = round(float((element.text or "").strip()))
        except (ValueError, OverflowError):
            raise malformed(position, "heart rate is not a number") from None
        if not MIN_HEART_RATE <= hr <= MAX_HEART_RATE:
            raise malformed(position, "heart rate out of range")
        return hr
    return None


class GpxImporter(Importer):
    format = "gpx"
    source = "import:gpx"
    title = "a GPX file"
    extensions = (".gpx",)

    def sniff(self, head: bytes) -> bool:
        return head.startswith(b"<") and b"<gpx" in head[:4096]

    def parse(self, data: bytes) -> ParsedImport:
        refuse_unsafe_xml(data)
        builder = _TrackBuilder()
        root = None
        since_last_point = 0
        try:
            for _event, element in ET.iterparse(io.BytesIO(data), events=("end",)):  # noqa: S314 - made safe by refuse_unsafe_xml
                tag = element.tag
                if tag in TRKPT_TAGS:
                    builder.points.append(_point(element, builder.position()))
                    element.clear()  # keeps memory flat on big files
                    since_last_point = 0
                elif tag in TRK_TAGS:
                    builder.finish_track(element)
                    element.clear()
                elif (since_last_point := since_last_point + 1) > MAX_ELEMENTS_BETWEEN_POINTS:
                    # Elements outside track points stay in memory until the end: a file of
                    # millions of them would exhaust memory long before it broke a size limit.
                    raise malformed(builder.position(), "too many elements outside track points")
                root = element
        except ET.ParseError as exc:
            line, column = exc.position
            raise malformed(f"line {line}, column {column}", "not well-formed XML (truncated or damaged)") from None
        except (LookupError, ValueError):
            if root is not None:  # not the parser's encoding error: a bug, let it surface
                raise
            raise malformed("line 1", "the XML declaration names an encoding Eidetic cannot read") from None
        if root is None or root.tag not in GPX_TAGS:
            raise malformed("line 1", "the document is not GPX (its root element is not <gpx>)")
        if not builder.tracks:
            raise malformed("", "the file holds no track points")
        device = optional_text(root.get("creator"), "gpx creator", 100)
        for track in builder.tracks:
            track.device = device
            # Segments of one track may be written out of order; Timsort is linear when sorted.
            track.points.sort(key=_point_time)
        return ParsedImport(tracks=builder.tracks)


def _point_time(point: ParsedPoint) -> datetime:
    return point.recorded_at
