"""The import formats Eidetic reads, and how a file's format is recognised.

Detection is by content first (the first bytes of the file), with the file name's
ending as a cross-check: a ``.gpx`` whose content is JSON is refused rather than guessed.
"""

from __future__ import annotations

from vault.importers.base import Importer, ParsedImport, ParsedMoment, ParsedPoint, ParsedSocialItem, ParsedTrack
from vault.importers.eidetic import EideticImporter
from vault.importers.gpx import GpxImporter
from vault.importers.takeout import TakeoutImporter
from vault.importers.twitter import LikesImporter, TweetsImporter

IMPORTERS: dict[str, Importer] = {
    importer.format: importer
    for importer in (GpxImporter(), TakeoutImporter(), TweetsImporter(), LikesImporter(), EideticImporter())
}
UTF8_BOM = b"\xef\xbb\xbf"
SNIFF_BYTES = 64 * 1024

__all__ = [
    "IMPORTERS",
    "Importer",
    "ParsedImport",
    "ParsedMoment",
    "ParsedPoint",
    "ParsedSocialItem",
    "ParsedTrack",
    "detect_format",
    "importer_for",
]


def normalised_head(data: bytes) -> bytes:
    head = data[:SNIFF_BYTES]
    head = head.removeprefix(UTF8_BOM)
    return head.lstrip(b" \t\r\n")


def detect_format(filename: str, head: bytes) -> str | None:
    """The format of a file from its name and first bytes, or None when it is none of ours."""
    head = normalised_head(head)
    matches = [importer for importer in IMPORTERS.values() if importer.sniff(head)]
    if len(matches) != 1:
        return None  # nothing, or ambiguous (a JSON file naming both formats): refuse, don't guess
    importer = matches[0]
    if not name_allows(filename, importer):
        return None
    return importer.format


def name_allows(filename: str, importer: Importer) -> bool:
    """A known ending must agree with the content; an unknown or missing one is left to the content."""
    name = filename.lower()
    known_endings = {ending for other in IMPORTERS.values() for ending in other.extensions}
    ending = next((ending for ending in known_endings if name.endswith(ending)), None)
    return ending is None or ending in importer.extensions


def importer_for(format_name: str) -> Importer:
    return IMPORTERS[format_name]
