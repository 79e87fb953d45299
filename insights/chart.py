"""Her interest timeline as a server-rendered SVG line chart (no JavaScript, no CDN).

Accessible: ``role="img"`` with ``<title>`` and ``<desc>``, each line labelled in a
legend and distinguished by dash pattern as well as colour; the page shows the same
figures as a table next to it. Topic names come from the taxonomy and are escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Colour-blind-safe palette (Okabe-Ito) and dash patterns, so no line relies on colour.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "10 4")


def timeline_chart(
    weeks: Sequence[datetime],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    width: int = 720,
    height: int = 280,
    title: str = "Your interests over time",
) -> SafeString:
    """One line per (name, weights by week); ``weeks`` are the x positions."""
    description = (
        f"Weekly weight of {len(series)} interests from {_day(weeks[0])} to {_day(weeks[-1])}." if weeks else ""
    )
    head = (
        f'<svg class="chart-svg interests-chart" viewBox="0 0 {width} {height + 24 * len(series)}" role="img" '
        f'aria-labelledby="interests-chart-title interests-chart-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="interests-chart-title">{escape(title)}</title>'
        f'<desc id="interests-chart-desc">{escape(description)}</desc>'
        f'<rect class="svg-ground" width="{width}" height="{height}" rx="6" fill="none"/>'
    )
    if len(weeks) < 2 or not series:
        note = '<text x="50%" y="50%" text-anchor="middle" class="svg-note">Not enough weeks to draw yet</text>'
        return mark_safe(head + note + "</svg>")  # noqa: S308 - numbers and escaped text only
    left, right, top, bottom = 48, 16, 14, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    high = max([max(values, default=0.0) for _, values in series] + [0.1])
    low = min([min(values, default=0.0) for _, values in series] + [0.0])
    span = high - low

    def xy(index: int, value: float) -> tuple[float, float]:
        return left + index / (len(weeks) - 1) * plot_w, top + (high - value) / span * plot_h

    parts = [head]
    for value in (low, (low + high) / 2, high):
        _, y = xy(0, value)
        parts.append(
            f'<line class="svg-grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ccc"/>'
        )
        parts.append(f'<text class="svg-axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:.1f}</text>')
    parts.append(
        f'<text class="svg-axis" x="{left}" y="{height - 8}">{_day(weeks[0])}</text>'
        f'<text class="svg-axis" x="{width - right}" y="{height - 8}" text-anchor="end">{_day(weeks[-1])}</text>'
    )
    for number, (name, values) in enumerate(series):
        colour, dash = COLOURS[number % len(COLOURS)], DASHES[number % len(DASHES)]
        coordinates = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in enumerate(values)))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline points="{coordinates}" fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr}>'
            f"<title>{escape(name)}</title></polyline>"
        )
        legend_y = height + 16 + 24 * number
        parts.append(
            f'<line x1="{left}" x2="{left + 36}" y1="{legend_y - 4}" y2="{legend_y - 4}" stroke="{colour}" '
            f'stroke-width="2.5"{dash_attr}/>'
            f'<text class="svg-axis" x="{left + 44}" y="{legend_y}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers and escaped text only


def _day(when: datetime) -> str:
    return f"{when:%d %b %Y}"
