"""Server-rendered SVG for the broker's pages: earnings over time and a consent's life.

Same approach as ``insights.chart``: no JavaScript, no CDN; each drawing is ``role="img"``
with an ``aria-label``, a ``<title>`` and a ``<desc>``, and the page shows the same figures
as text or a table beside it. Only numbers, dates and escaped labels go into the markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

MAX_MONTHS = 12
# State bands on the consent timeline: colour and a pattern, so no state relies on colour.
BANDS = {
    "active": ("#1e6b3a", ""),
    "paused": ("#b58a00", "url(#paused-hatch)"),
}
EVENT_WORDS = {
    "requested": "asked",
    "active": "granted",
    "paused": "paused",
    "revoked": "revoked",
    "expired": "expired",
    "rejected": "declined",
}


@dataclass(frozen=True)
class Month:
    month: date
    amount: Decimal
    reads: int


def _open(kind: str, width: int, height: int, label: str, title: str, description: str) -> str:
    return (
        f'<svg class="chart-svg {kind}" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title><desc>{escape(description)}</desc>'
    )


def _note(width: int, height: int, text: str) -> str:
    return f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="svg-note">{escape(text)}</text>'


def month_series(rows: Sequence, *, until: date | None = None, limit: int = MAX_MONTHS) -> list[Month]:
    """Rows with ``month``/``amount``/``reads`` (any order) as consecutive months, oldest
    first, empty months filled with zero, the last ``limit`` months up to ``until``."""
    by_month = {row.month.replace(day=1): row for row in rows}
    if not by_month:
        return []
    last = max([*by_month, *([until.replace(day=1)] if until else [])])
    months: list[Month] = []
    year, month = last.year, last.month
    first = min(by_month)
    while len(months) < limit and date(year, month, 1) >= first:
        key = date(year, month, 1)
        row = by_month.get(key)
        months.append(Month(key, row.amount if row else Decimal("0"), row.reads if row else 0))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def earnings_chart(
    months: Sequence[Month], *, width: int = 640, height: int = 240, title: str = "Credits earned per month"
) -> SafeString:
    """A bar per month; each bar carries its figure in a ``<title>`` (shown on hover)."""
    total = sum((m.amount for m in months), Decimal("0"))
    span = f"{months[0].month:%B %Y} to {months[-1].month:%B %Y}" if months else ""
    description = f"{total:.2f} credits from {span}." if months else "Nothing earned yet."
    label = f"{title}: {description}"
    head = _open("earnings-chart", width, height, label, title, description)
    if not months:
        return mark_safe(head + _note(width, height, "Nothing earned yet") + "</svg>")  # noqa: S308 - escaped
    left, right, top, bottom = 56, 12, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    high = max(max(m.amount for m in months), Decimal("0.01"))
    slot = plot_w / len(months)
    bar = max(min(slot * 0.7, 48), 2)
    parts = [head, f'<rect class="svg-ground" x="{left}" y="{top}" width="{plot_w}" height="{plot_h}"/>']
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(f'<line class="svg-grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="svg-axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{float(high) * fraction:.2f}</text>"
        )
    every = max(1, round(len(months) / 6))  # label at most ~6 months so the axis stays readable
    for index, month in enumerate(months):
        x = left + slot * index + (slot - bar) / 2
        bar_h = float(month.amount / high) * plot_h
        figure = f"{month.month:%B %Y}: {month.amount:.2f} credits from {month.reads} read{'s' * (month.reads != 1)}"
        parts.append(
            f'<rect class="svg-bar" x="{x:.1f}" y="{top + plot_h - bar_h:.1f}" width="{bar:.1f}" '
            f'height="{max(bar_h, 0):.1f}"><title>{escape(figure)}</title></rect>'
        )
        if index % every == 0 or index == len(months) - 1:
            parts.append(
                f'<text class="svg-axis" x="{x + bar / 2:.1f}" y="{height - 12}" text-anchor="middle">'
                f"{month.month:%b %y}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers and escaped text only


@dataclass(frozen=True)
class Event:
    state: str
    at: datetime


def consent_timeline(
    events: Sequence[Event],
    accesses: Sequence[tuple[datetime, bool]],
    *,
    now: datetime,
    expires_at: datetime | None = None,
    width: int = 720,
    height: int = 170,
    title: str = "The life of this consent",
) -> SafeString:
    """State bands (active, paused) over time, a marker per status change, and a tick per
    request (allowed above the band, refused as a cross below it)."""
    allowed = sum(1 for _, ok in accesses if ok)
    refused = len(accesses) - allowed
    words = _event_words(events)
    steps = ", ".join(f"{word} {e.at:%d %b %Y}" for word, e in zip(words, events, strict=True))
    description = f"{steps or 'No status change yet'}; {allowed} requests allowed, {refused} refused."
    head = _open("consent-timeline", width, height, f"{title}: {description}", title, description)
    times = [e.at for e in events] + [at for at, _ in accesses]
    if not times:
        return mark_safe(head + _note(width, height, "Nothing has happened yet") + "</svg>")  # noqa: S308
    start = min(times)
    ended = bool(events) and events[-1].state in ("revoked", "expired", "rejected")
    end = max([*times, events[-1].at if ended else now])
    if end <= start:  # everything in one instant: give the drawing an hour of width
        end = start + timedelta(hours=1)
    left, right, band_y, band_h = 16, 16, 70, 26
    plot_w = width - left - right

    def x(when: datetime) -> float:
        return left + (when - start).total_seconds() / (end - start).total_seconds() * plot_w

    parts = [
        head,
        '<defs><pattern id="paused-hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="8" height="8" fill="#fff4d6"/>'
        '<line x1="0" y1="0" x2="0" y2="8" stroke="#b58a00" stroke-width="3"/></pattern></defs>',
        f'<rect class="svg-ground" x="{left}" y="{band_y}" width="{plot_w}" height="{band_h}"/>',
    ]
    for state, since, until in _bands(events, end):
        colour, pattern = BANDS[state]
        parts.append(
            f'<rect x="{x(since):.1f}" y="{band_y}" width="{max(x(until) - x(since), 1):.1f}" '
            f'height="{band_h}" fill="{pattern or colour}" stroke="{colour}"><title>{state.capitalize()} from '
            f"{since:%d %b %Y %H:%M}</title></rect>"
        )
    for at, ok in accesses:
        position = x(at)
        if ok:
            parts.append(
                f'<line class="svg-access" x1="{position:.1f}" x2="{position:.1f}" '
                f'y1="{band_y - 14}" y2="{band_y - 2}"/>'
            )
        else:
            y = band_y + band_h + 8
            parts.append(f'<path class="svg-refused" d="M{position - 4:.1f},{y - 4} l8,8 m0,-8 l-8,8"/>')
    for index, event in enumerate(events):
        position = x(event.at)
        word = words[index]
        label_y = 20 if index % 2 == 0 else 38  # alternate rows so close events stay legible
        anchor = "start" if position < width * 0.75 else "end"
        parts.append(
            f'<line class="svg-event" x1="{position:.1f}" x2="{position:.1f}" '
            f'y1="{label_y + 4}" y2="{band_y + band_h}"/>'
            f'<text class="svg-axis" x="{position:.1f}" y="{label_y}" text-anchor="{anchor}">{escape(word)} '
            f"{event.at:%d %b}</text>"
        )
    if expires_at is not None and start < expires_at <= end:
        position = x(expires_at)
        parts.append(
            f'<line class="svg-grid" x1="{position:.1f}" x2="{position:.1f}" y1="{band_y}" y2="{band_y + band_h}"/>'
        )
    parts.append(
        f'<text class="svg-axis" x="{left}" y="{height - 10}">{start:%d %b %Y}</text>'
        f'<text class="svg-axis" x="{width - right}" y="{height - 10}" text-anchor="end">'
        f"{'now' if not ended else f'{end:%d %b %Y}'}</text>"
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers and escaped text only


def _event_words(events: Sequence[Event]) -> list[str]:
    """What happened at each event, in her words: active after paused is "resumed"."""
    words = []
    for index, event in enumerate(events):
        resumed = event.state == "active" and index > 0 and events[index - 1].state == "paused"
        words.append("resumed" if resumed else EVENT_WORDS.get(event.state, event.state))
    return words


def _bands(events: Sequence[Event], end: datetime) -> list[tuple[str, datetime, datetime]]:
    """(state, from, until) of each active or paused stretch. A state without a band (the
    request) does not interrupt one; an ending (revoked, expired, declined) closes it."""
    bands: list[tuple[str, datetime, datetime]] = []
    current: tuple[str, datetime] | None = None
    for event in events:
        if event.state == "requested":
            continue
        if current is not None:
            bands.append((current[0], current[1], event.at))
        current = (event.state, event.at) if event.state in BANDS else None
    if current is not None:
        bands.append((current[0], current[1], end))
    return bands
