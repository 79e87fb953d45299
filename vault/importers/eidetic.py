"""Eidetic's own JSON format for moments and social items (``eidetic-import/1``).

The JSON Schema is ``vault/schemas/eidetic-import.schema.json``; the format is documented
in ``docs/import-formats.md``. Validation errors name the JSON path and the rule broken,
never the offending value (it is the person's content).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from vault.importers.base import (
    Importer,
    ParsedImport,
    ParsedMoment,
    ParsedSocialItem,
    decode_utf8,
    load_json_document,
    malformed,
    parse_iso_time,
)

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "eidetic-import.schema.json"
FORMAT_TAG = "eidetic-import/1"


@cache
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _rule_broken(error: ValidationError) -> str:
    """What the rule demands, from the schema side only: messages from jsonschema quote the value."""
    rule, demand = error.validator, error.validator_value
    if rule == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        missing = [name for name in demand if name not in present]
        return f"required property missing: {', '.join(missing)}"
    if rule == "enum":
        return f"must be one of: {', '.join(map(str, demand))}"
    if rule == "const":
        return f"must be {json.dumps(demand)}"
    if rule == "type":
        return f"must be of type {demand if isinstance(demand, str) else ' or '.join(demand)}"
    if rule == "additionalProperties":
        return "has a property the format does not define"
    if rule == "anyOf":  # only social items use anyOf
        return "needs at least one of text, url, handle, topic"
    if rule == "pattern" and error.path and error.path[-1] == "occurred_at":
        return "must be an RFC 3339 date-time with an offset, e.g. 2024-05-01T08:30:00Z"
    return f"breaks the schema rule {rule!s} ({json.dumps(demand)[:80]})"


def _first_error(document: Any) -> ValidationError | None:
    # The shallowest error first: "required property missing" beats its consequences.
    return min(
        validator().iter_errors(document), key=lambda error: (len(error.path), list(map(str, error.path))), default=None
    )


def _moment(raw: dict[str, Any], position: str) -> ParsedMoment:
    place = raw.get("place")
    return ParsedMoment(
        occurred_at=parse_iso_time(raw["occurred_at"], f"{position}.occurred_at"),
        kind=raw["kind"],
        label=raw["label"].strip() or raw["label"],
        tags=list(raw.get("tags", [])),
        sentiment=raw.get("sentiment", "neutral"),
        place=None
        if place is None
        else {"name": place.get("name"), "lat": float(place["lat"]), "lon": float(place["lon"])},
        hr=None if raw.get("hr") is None else int(raw["hr"]),  # JSON Schema counts 72.0 as an integer
    )


def _social_item(raw: dict[str, Any], position: str) -> ParsedSocialItem:
    return ParsedSocialItem(
        occurred_at=parse_iso_time(raw["occurred_at"], f"{position}.occurred_at"),
        kind=raw["kind"],
        network=raw.get("network", "eidetic"),
        text=raw.get("text"),
        url=raw.get("url"),
        handle=raw.get("handle"),
        topic=raw.get("topic"),
    )


class EideticImporter(Importer):
    format = "eidetic"
    source = "import:eidetic"
    title = "an Eidetic JSON file"
    extensions = (".json",)

    def sniff(self, head: bytes) -> bool:
        return head.startswith(b"{") and b'"eidetic-import/' in head

    def parse(self, data: bytes) -> ParsedImport:
        document = load_json_document(decode_utf8(data))
        error = _first_error(document)
        if error is not None:
            raise malformed(error.json_path, _rule_broken(error))
        moments = [_moment(raw, f"$.moments[{i}]") for i, raw in enumerate(document.get("moments", []))]
        items = [_social_item(raw, f"$.social_items[{i}]") for i, raw in enumerate(document.get("social_items", []))]
        if not moments and not items:
            raise malformed("$", "the file holds no moments and no social items")
        return ParsedImport(moments=moments, social_items=items)
