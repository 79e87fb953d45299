"""Server-side SVG drawings for the portal: a track as a map-like outline, heart rate over time,
and a privacy zone preview.

Drawn on the server so that the pages work without JavaScript and no map tiles are fetched
from anywhere (the site works offline, and a tile server would learn where the person goes).
The SVG is built from numbers only; the one piece of text (a caption) is escaped.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from vault.privacy import offset_metres

MAX_OUTLINE_POINTS = 300
MAX_CHART_POINTS = 240

T = TypeVar("T")


@dataclass(frozen=True)
class LatLon:
    lat: float
    lon: float


@dataclass(frozen=True)
class Circle:
    """A privacy zone to draw: centre and radius in metres."""

    lat: float
    lon: float
    radius_m: float


def downsample(items: Sequence[T], limit: int) -> list[T]:
    """At most ``limit`` items, evenly spaced, always keeping the first and the last."""
    if len(items) <= limit:
        return list(items)
    step = (len(items) - 1) / (limit - 1)
    return [items[round(i * step)] for i in range(limit)]


@dataclass(frozen=True)
class _Frame:
    """Maps (lat, lon) to SVG user units: equirectangular metres around an origin, y down."""

    lat0: float
    lon0: float
    scale: float  # SVG units per metre
    offset_x: float
    offset_y: float

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        east, north = offset_metres(self.lat0, self.lon0, lat, lon)
        return self.offset_x + east * self.scale, self.offset_y - north * self.scale


def _frame(points: Sequence[LatLon], width: float, height: float, padding: float, min_span_m: float) -> _Frame:
    lat0 = min(p.lat for p in points)
    lon0 = min(p.lon for p in points)
    offsets = [offset_metres(lat0, lon0, p.lat, p.lon) for p in points]
    span_east = max(max(e for e, _ in offsets), min_span_m)
    span_north = max(max(n for _, n in offsets), min_span_m)
    scale = min((width - 2 * padding) / span_east, (height - 2 * padding) / span_north)
    # Centre the drawing in the box along the axis that has room to spare.
    extra_x = (width - 2 * padding - max(e for e, _ in offsets) * scale) / 2
    extra_y = (height - 2 * padding - max(n for _, n in offsets) * scale) / 2
    return _Frame(lat0, lon0, scale, padding + extra_x, height - padding - extra_y)


def _points_attr(coordinates: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)


def track_outline(
    points: Sequence[LatLon],
    zones: Sequence[Circle] = (),
    *,
    width: int = 320,
    height: int = 200,
    title: str = "Track outline",
    description: str = "",
) -> SafeString:
    """The track as a polyline, start and end marked, privacy zones as dashed circles.
    ``description`` (the page's text alternative in one sentence) becomes the ``<desc>``."""
    label = f"{title}. {description}" if description else title
    desc = f"<desc>{escape(description)}</desc>" if description else ""
    head = (
        f'<svg class="track-svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{desc}"
        f'<rect class="svg-ground" width="{width}" height="{height}" rx="6"/>'
    )
    if not points:
        return mark_safe(  # noqa: S308 - numbers and an escaped title only
            head + f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="svg-note">'
            "No points</text></svg>"
        )
    sampled = downsample(points, MAX_OUTLINE_POINTS)
    frame = _frame(sampled, width, height, padding=14, min_span_m=200)
    parts = [head]
    for zone in zones:
        cx, cy = frame.xy(zone.lat, zone.lon)
        parts.append(
            f'<circle class="svg-zone" cx="{cx:.1f}" cy="{cy:.1f}" r="{zone.radius_m * frame.scale:.1f}">'
            "<title>Privacy zone: points inside are never shared</title></circle>"
        )
    coordinates = [frame.xy(p.lat, p.lon) for p in sampled]
    parts.append(f'<polyline class="svg-track" points="{_points_attr(coordinates)}"/>')
    (sx, sy), (ex, ey) = coordinates[0], coordinates[-1]
    parts.append(f'<circle class="svg-start" cx="{sx:.1f}" cy="{sy:.1f}" r="4"><title>Start</title></circle>')
    parts.append(
        f'<rect class="svg-end" x="{ex - 4:.1f}" y="{ey - 4:.1f}" width="8" height="8"><title>End</title></rect>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers and an escaped title only


def heart_rate_chart(
    samples: Sequence[tuple[datetime, int]], *, width: int = 640, height: int = 220, title: str = "Heart rate"
) -> SafeString:
    """Heart rate (bpm) over time as a line with labelled axes; gaps in the data stay gaps."""
    head = (
        f'<svg class="chart-svg" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><rect class="svg-ground" width="{width}" height="{height}" rx="6"/>'
    )
    if len(samples) < 2:
        return mark_safe(  # noqa: S308 - numbers and an escaped title only
            head + f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="svg-note">'
            "No heart rate recorded</text></svg>"
        )
    sampled = downsample(samples, MAX_CHART_POINTS)
    left, right, top, bottom = 48, 12, 14, 30
    t0, t1 = sampled[0][0].timestamp(), sampled[-1][0].timestamp()
    low = math.floor(min(hr for _, hr in sampled) / 10) * 10
    high = max(math.ceil(max(hr for _, hr in sampled) / 10) * 10, low + 10)
    plot_w, plot_h = width - left - right, height - top - bottom

    def xy(when: datetime, hr: int) -> tuple[float, float]:
        x = left + (when.timestamp() - t0) / max(t1 - t0, 1) * plot_w
        return x, top + (high - hr) / (high - low) * plot_h

    parts = [head]
    for value in (low, (low + high) // 2, high):
        _, y = xy(sampled[0][0], value)
        parts.append(f'<line class="svg-grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="svg-axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>')
    parts.append(
        f'<text class="svg-axis" x="{left}" y="{height - 8}">{sampled[0][0]:%H:%M}</text>'
        f'<text class="svg-axis" x="{width - right}" y="{height - 8}" text-anchor="end">{sampled[-1][0]:%H:%M}</text>'
        f'<text class="svg-axis" x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle">beats per minute</text>'
    )
    for segment in _segments(sampled, gap_seconds=max((t1 - t0) / 20, 120)):
        coordinates = [xy(when, hr) for when, hr in segment]
        parts.append(f'<polyline class="svg-hr" points="{_points_attr(coordinates)}"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers and an escaped title only


def _segments(samples: Sequence[tuple[datetime, int]], gap_seconds: float) -> list[list[tuple[datetime, int]]]:
    """Split where the recording paused, so a pause is not drawn as a straight line."""
    segments: list[list[tuple[datetime, int]]] = [[samples[0]]]
    for previous, current in itertools.pairwise(samples):
        if (current[0] - previous[0]).total_seconds() > gap_seconds:
            segments.append([])
        segments[-1].append(current)
    return [segment for segment in segments if len(segment) > 1] or [list(samples)]


def zone_preview(
    zone: Circle, nearby: Sequence[LatLon] = (), *, size: int = 180, title: str = "Privacy zone preview"
) -> SafeString:
    """The zone as a circle filling half the box, the person's own points nearby as dots,
    and a scale bar, so she can see what the zone will hide."""
    scale = (size * 0.28) / zone.radius_m  # the circle's diameter is ~56% of the box
    centre = size / 2

    def xy(lat: float, lon: float) -> tuple[float, float]:
        east, north = offset_metres(zone.lat, zone.lon, lat, lon)
        return centre + east * scale, centre - north * scale

    parts = [
        f'<svg class="zone-svg" viewBox="0 0 {size} {size}" width="{size}" height="{size}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f'<rect class="svg-ground" width="{size}" height="{size}" rx="6"/>'
    ]
    dots = []
    for point in downsample(nearby, MAX_OUTLINE_POINTS):
        x, y = xy(point.lat, point.lon)
        if 0 <= x <= size and 0 <= y <= size:
            dots.append(f'<circle class="svg-dot" cx="{x:.1f}" cy="{y:.1f}" r="1.6"/>')
    parts.extend(dots)
    parts.append(f'<circle class="svg-zone" cx="{centre}" cy="{centre}" r="{zone.radius_m * scale:.1f}"/>')
    parts.append(f'<path class="svg-cross" d="M{centre - 5} {centre}h10M{centre} {centre - 5}v10"/>')
    bar_m = _round_length(zone.radius_m)
    bar = bar_m * scale
    parts.append(
        f'<line class="svg-scale" x1="10" x2="{10 + bar:.1f}" y1="{size - 12}" y2="{size - 12}"/>'
        f'<text class="svg-axis" x="10" y="{size - 18}">{_metres_label(bar_m)}</text></svg>'
    )
    return mark_safe("".join(parts))  # noqa: S308 - numbers and an escaped title only


def _round_length(metres: float) -> float:
    """A round length (1, 2 or 5 times a power of ten) no longer than ``metres``, for the scale bar."""
    power = 10 ** math.floor(math.log10(metres))
    return max(step * power for step in (1, 2, 5) if step * power <= metres)


def _metres_label(metres: float) -> str:
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
