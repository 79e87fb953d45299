"""The vault's part of the demo world: three people with a week of lifelog each.

Everything goes in through the real importer (GPX files with Garmin heart rate, and an
Eidetic JSON file of moments and social items), so the demo exercises the same path as
a person's upload and its data is sealed like anyone's.

Idempotent: the files are generated deterministically from each person's sign-up date,
so running the demo again produces the same files, which the importer de-duplicates.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TextIO
from xml.sax.saxutils import escape

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from accounts.services import register_person
from vault import selectors, services
from vault.models import ImportJob
from vault.privacy import move

DEMO_PASSWORD = "eidetic-demo"  # noqa: S105 - a published demo password, for local demo accounts only
DAYS = 7
SAMPLE_SECONDS = 5


@dataclass(frozen=True)
class Outing:
    """One kind of daily outing: a loop from home through some waypoints (east, north metres)."""

    name: str
    activity: str
    speed_mps: float
    resting_hr: int
    effort_hr: int
    waypoints: tuple[tuple[float, float], ...]
    # Waypoints where the heart rate jumps (Chiara in front of Borromini): index -> extra bpm.
    thrills: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoPerson:
    username: str
    home: tuple[float, float]
    home_label: str
    device: str
    outings: tuple[Outing, ...]
    moments: tuple[dict[str, Any], ...]
    social_items: tuple[dict[str, Any], ...]


def _place(name: str, home: tuple[float, float], east: float, north: float) -> dict[str, Any]:
    lat, lon = move(home[0], home[1], east, north)
    return {"name": name, "lat": round(lat, 6), "lon": round(lon, 6)}


ROME = (41.889310, 12.469620)  # a flat in Trastevere
LONDON = (51.541180, -0.146950)  # Camden, by Regent's Canal
BERLIN = (52.538620, 13.424100)  # Prenzlauer Berg

PEOPLE = (
    DemoPerson(
        username="chiara",
        home=ROME,
        home_label="Home in Trastevere",
        device="Garmin Venu 3",
        outings=(
            Outing(
                "Baroque churches walk",
                "walking",
                1.3,
                72,
                95,
                ((600, 700), (1100, 1900), (1500, 2150), (2300, 2400), (900, 900)),
                thrills={1: 38, 2: 34, 3: 30},
            ),
            Outing("Evening walk along the Tiber", "walking", 1.4, 70, 92, ((-400, 900), (200, 2000), (700, 600))),
        ),
        moments=(
            {
                "day": 0,
                "at": "10:40",
                "kind": "place",
                "label": "Sant'Ivo alla Sapienza, Borromini's spiral",
                "sentiment": "loves",
                "tags": ["baroque", "borromini", "church"],
                "hr": 131,
                "place": (1100, 1900),
            },
            {
                "day": 0,
                "at": "11:20",
                "kind": "place",
                "label": "San Carlo alle Quattro Fontane",
                "sentiment": "loves",
                "tags": ["baroque", "borromini", "church"],
                "hr": 127,
                "place": (2300, 2400),
            },
            {
                "day": 1,
                "at": "09:05",
                "kind": "place",
                "label": "Caffè Sant'Eustachio espresso bar",
                "sentiment": "likes",
                "tags": ["coffee", "espresso"],
                "place": (1000, 1800),
            },
            {
                "day": 2,
                "at": "17:30",
                "kind": "object",
                "label": "The green velvet sofa at Mercato Monti",
                "sentiment": "loves",
                "tags": ["vintage", "furniture"],
                "hr": 96,
            },
            {
                "day": 3,
                "at": "08:15",
                "kind": "product",
                "label": "Maritozzo con la panna from Roscioli",
                "sentiment": "loves",
                "tags": ["pastry", "breakfast"],
            },
            {
                "day": 3,
                "at": "12:10",
                "kind": "place",
                "label": "Sant'Andrea al Quirinale by Bernini",
                "sentiment": "loves",
                "tags": ["baroque", "bernini", "church"],
                "hr": 124,
                "place": (1500, 2150),
            },
            {
                "day": 4,
                "at": "18:45",
                "kind": "place",
                "label": "Termini station at rush hour",
                "sentiment": "loathes",
                "tags": ["crowds", "commute"],
                "hr": 104,
            },
            {
                "day": 5,
                "at": "20:00",
                "kind": "person",
                "label": "Giulia, the cellist next door",
                "sentiment": "likes",
                "tags": ["music", "neighbours"],
            },
            {
                "day": 6,
                "at": "16:00",
                "kind": "activity",
                "label": "Vespa ride along the Lungotevere",
                "sentiment": "likes",
                "tags": ["vespa", "river"],
                "hr": 101,
            },
            {
                "day": 6,
                "at": "21:30",
                "kind": "product",
                "label": "Overpriced tourist-menu carbonara",
                "sentiment": "dislikes",
                "tags": ["food"],
            },
        ),
        social_items=(
            {"kind": "interest", "network": "eidetic", "topic": "Baroque architecture of Rome", "day": 0},
            {"kind": "interest", "network": "eidetic", "topic": "Specialty espresso roasting", "day": 1},
            {
                "kind": "post",
                "network": "x",
                "text": "Borromini's ceiling at Sant'Ivo made my heart race again, 131 bpm says the watch.",
                "day": 0,
            },
            {
                "kind": "post",
                "network": "x",
                "text": "Found the perfect green velvet sofa in Monti and I cannot stop thinking about it.",
                "day": 2,
            },
            {"kind": "like", "network": "x", "text": "A thread on Bernini versus Borromini rivalry stories", "day": 3},
            {"kind": "connection", "network": "x", "handle": "@giulia_cello_trastevere", "day": 5},
        ),
    ),
    DemoPerson(
        username="ada",
        home=LONDON,
        home_label="Home by Regent's Canal",
        device="Garmin Forerunner 265",
        outings=(
            Outing("Primrose Hill morning run", "running", 3.0, 62, 150, ((-900, -300), (-1300, 500), (-500, 900))),
            Outing("Regent's Park loop", "running", 3.2, 60, 156, ((-1200, -900), (-2200, -1500), (-1400, -300))),
        ),
        moments=(
            {
                "day": 0,
                "at": "07:25",
                "kind": "place",
                "label": "Primrose Hill summit at sunrise",
                "sentiment": "loves",
                "tags": ["running", "views"],
                "hr": 158,
                "place": (-1300, 500),
            },
            {
                "day": 1,
                "at": "08:40",
                "kind": "place",
                "label": "Northern line crush at Camden Town",
                "sentiment": "loathes",
                "tags": ["commute"],
                "hr": 98,
            },
            {
                "day": 2,
                "at": "10:00",
                "kind": "product",
                "label": "Oat flat white from the canal-side kiosk",
                "sentiment": "likes",
                "tags": ["coffee"],
            },
            {
                "day": 3,
                "at": "19:30",
                "kind": "person",
                "label": "Grace from the Tuesday running club",
                "sentiment": "likes",
                "tags": ["running", "friends"],
            },
            {
                "day": 4,
                "at": "14:15",
                "kind": "object",
                "label": "Second-hand Analytical Engine poster",
                "sentiment": "loves",
                "tags": ["maths", "history"],
            },
            {
                "day": 5,
                "at": "09:00",
                "kind": "activity",
                "label": "Parkrun on Hampstead Heath",
                "sentiment": "loves",
                "tags": ["running", "parkrun"],
                "hr": 171,
            },
        ),
        social_items=(
            {"kind": "interest", "network": "eidetic", "topic": "Trail running in north London", "day": 0},
            {
                "kind": "post",
                "network": "mastodon",
                "text": "Sub-25 minutes at Hampstead parkrun this morning, legs like jelly.",
                "day": 5,
            },
            {
                "kind": "like",
                "network": "mastodon",
                "text": "Photo essay on the history of computing in Camden",
                "day": 4,
            },
            {"kind": "connection", "network": "mastodon", "handle": "@grace_runs_camden", "day": 3},
        ),
    ),
    DemoPerson(
        username="ben",
        home=BERLIN,
        home_label="Home in Prenzlauer Berg",
        device="Wahoo ELEMNT Bolt",
        outings=(
            Outing("Ride to Tempelhofer Feld", "cycling", 5.5, 64, 138, ((-800, -2500), (-1500, -6500), (200, -3000))),
            Outing("Landwehrkanal night ride", "cycling", 5.0, 66, 132, ((1500, -2500), (800, -5200), (-900, -3500))),
        ),
        moments=(
            {
                "day": 0,
                "at": "17:50",
                "kind": "place",
                "label": "Tempelhofer Feld runway on a windy day",
                "sentiment": "loves",
                "tags": ["cycling", "wind"],
                "hr": 141,
                "place": (-1500, -6500),
            },
            {
                "day": 1,
                "at": "13:00",
                "kind": "product",
                "label": "Currywurst at Konnopke's Imbiss",
                "sentiment": "likes",
                "tags": ["food", "berlin"],
            },
            {
                "day": 2,
                "at": "22:10",
                "kind": "activity",
                "label": "Night cycling along the Landwehrkanal",
                "sentiment": "loves",
                "tags": ["cycling", "night"],
                "hr": 128,
            },
            {
                "day": 3,
                "at": "06:30",
                "kind": "place",
                "label": "BER airport security queue",
                "sentiment": "loathes",
                "tags": ["travel"],
                "hr": 92,
            },
            {
                "day": 5,
                "at": "11:45",
                "kind": "object",
                "label": "Squeaky bike chain that no oil can cure",
                "sentiment": "dislikes",
                "tags": ["bike"],
            },
        ),
        social_items=(
            {"kind": "interest", "network": "eidetic", "topic": "Urban cycling infrastructure", "day": 0},
            {
                "kind": "post",
                "network": "x",
                "text": "Headwind both ways on Tempelhofer Feld, physics is clearly broken today.",
                "day": 0,
            },
            {
                "kind": "like",
                "network": "x",
                "text": "Map of every protected bike lane opened in Berlin this year",
                "day": 2,
            },
            {"kind": "connection", "network": "x", "handle": "@kiez_cyclist_berlin", "day": 4},
        ),
    ),
)


# --- file generation (pure, deterministic) ---------------------------------------------------


def demo_week(person: User) -> list[date]:
    """The seven days before the person joined: stable for the life of the account."""
    joined = person.date_joined.astimezone(UTC).date()
    return [joined - timedelta(days=DAYS - i) for i in range(DAYS)]


def _route(spec: DemoPerson, outing: Outing, rng: random.Random) -> list[tuple[float, float, int]]:
    """(east, north, extra heart rate) every SAMPLE_SECONDS along home → waypoints → home."""
    # Each day takes a slightly different way between the same landmarks.
    detours = [(x + rng.uniform(-200, 200), y + rng.uniform(-200, 200)) for x, y in outing.waypoints]
    stops = [(0.0, 0.0), *detours, (0.0, 0.0)]
    samples: list[tuple[float, float, int]] = []
    step = outing.speed_mps * SAMPLE_SECONDS
    for index, ((x0, y0), (x1, y1)) in enumerate(itertools.pairwise(stops)):
        length = math.hypot(x1 - x0, y1 - y0)
        count = max(1, int(length / step))
        # The thrill of a waypoint builds up over the last third of the way to it.
        thrill = outing.thrills.get(index, 0)
        for k in range(count):
            t = k / count
            wobble = 25 * math.sin(7 * t + index) + rng.gauss(0, 3)
            extra = int(thrill * max(0.0, (t - 0.66) * 3)) if thrill else 0
            samples.append((x0 + (x1 - x0) * t + wobble, y0 + (y1 - y0) * t + wobble / 2, extra))
    return samples


def track_gpx(spec: DemoPerson, day_index: int, day: date) -> tuple[str, str]:
    """(file name, GPX 1.1 text with Garmin TrackPointExtension heart rate) for one day."""
    rng = random.Random(f"{spec.username}/{day_index}")  # noqa: S311 - demo data, not security
    outing = spec.outings[day_index % len(spec.outings)]
    start = datetime.combine(day, time(7 + (day_index * 5) % 11, rng.randrange(0, 50)), tzinfo=UTC)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<gpx version="1.1" creator="{escape(spec.device)}" xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">',
        f"<metadata><time>{start:%Y-%m-%dT%H:%M:%SZ}</time></metadata>",
        f"<trk><name>{escape(outing.name)}</name><type>{outing.activity}</type><trkseg>",
    ]
    hr = float(outing.resting_hr)
    for i, (east, north, extra) in enumerate(_route(spec, outing, rng)):
        lat, lon = move(spec.home[0], spec.home[1], east, north)
        # Heart rate climbs towards the effort level over the first minutes, with noise.
        hr += (outing.effort_hr - hr) * 0.04 + rng.gauss(0, 1.2)
        when = start + timedelta(seconds=i * SAMPLE_SECONDS)
        ele = 30 + 12 * math.sin(i / 40)
        lines.append(
            f'<trkpt lat="{lat:.6f}" lon="{lon:.6f}"><ele>{ele:.1f}</ele><time>{when:%Y-%m-%dT%H:%M:%SZ}</time>'
            f"<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>{int(hr) + extra}</gpxtpx:hr>"
            "</gpxtpx:TrackPointExtension></extensions></trkpt>"
        )
    lines.append("</trkseg></trk></gpx>")
    return f"{spec.username}-{day:%Y-%m-%d}.gpx", "\n".join(lines)


def _at(week: list[date], item: dict[str, Any], default: str = "12:00") -> str:
    hours, minutes = map(int, item.get("at", default).split(":"))
    return datetime.combine(week[item["day"]], time(hours, minutes), tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def moments_document(spec: DemoPerson, week: list[date]) -> tuple[str, str]:
    """(file name, Eidetic JSON text) with the person's moments and social items."""
    moments = []
    for item in spec.moments:
        moment = {key: item[key] for key in ("kind", "label", "sentiment", "tags")}
        moment["occurred_at"] = _at(week, item)
        if "hr" in item:
            moment["hr"] = item["hr"]
        if "place" in item:
            moment["place"] = _place(item["label"], spec.home, *item["place"])
        moments.append(moment)
    social = []
    for item in spec.social_items:
        entry = {key: value for key, value in item.items() if key not in ("day", "at")}
        entry["occurred_at"] = _at(week, item, default="19:00")
        social.append(entry)
    document = {"format": "eidetic-import/1", "moments": moments, "social_items": social}
    return f"{spec.username}-moments.json", json.dumps(document, ensure_ascii=False, indent=1)


# --- populating ---------------------------------------------------------------------------


def _person(spec: DemoPerson) -> tuple[User, bool]:
    existing = User.objects.filter(username=spec.username).first()
    if existing is not None:
        return existing, False
    person = register_person(username=spec.username, password=DEMO_PASSWORD)
    return person, True


def _import(person: User, filename: str, text: str, file_format: str) -> ImportJob:
    from vault.importing import start_import  # the importer loads parsers only the demo and uploads need

    upload = SimpleUploadedFile(filename, text.encode(), content_type="application/octet-stream")
    return start_import(person=person, upload=upload, filename=filename, format=file_format)


def _populate_person(spec: DemoPerson) -> tuple[User, dict[str, int]]:
    person, created = _person(spec)
    week = demo_week(person)
    totals = {"created": 0, "duplicates": 0}
    files = [(*track_gpx(spec, i, day), ImportJob.Format.GPX) for i, day in enumerate(week)]
    files.append((*moments_document(spec, week), ImportJob.Format.EIDETIC))
    done = selectors.import_jobs_of(person).filter(status=ImportJob.Status.DONE).count()
    # A complete earlier run is left alone; a partial one is completed (the importer skips duplicates).
    totals["complete"] = int(done >= len(files))
    for filename, text, file_format in files if not totals["complete"] else []:
        job = _import(person, filename, text, file_format)
        job.refresh_from_db()
        if job.status != ImportJob.Status.DONE:
            raise RuntimeError(f"demo import of {filename} ended {job.status}: {job.error_code} {job.error_detail}")
        totals["created"] += job.created_items
        totals["duplicates"] += job.duplicate_items
    if not any(zone["label"] == spec.home_label for zone in selectors.zones_of(person)):
        services.zone_create(person=person, label=spec.home_label, lat=spec.home[0], lon=spec.home[1], radius_m=250)
    totals["new_account"] = int(created)
    return person, totals


def populate(world: dict[str, Any], out: TextIO) -> None:
    """Create (or complete) the demo people and their vaults; ``world["people"]`` lists them."""
    people = []
    for spec in PEOPLE:
        person, totals = _populate_person(spec)
        people.append(person)
        if totals["complete"]:
            out.write(f"  vault: {spec.username} already there, with a complete week of data\n")
            continue
        state = "created" if totals["new_account"] else "completed"
        out.write(
            f"  vault: {spec.username} ({state}): {totals['created']} records imported, "
            f"{totals['duplicates']} already present\n"
        )
    world["people"] = people
    world.setdefault("logins", []).extend(
        {"username": spec.username, "password": DEMO_PASSWORD, "role": "person"} for spec in PEOPLE
    )
