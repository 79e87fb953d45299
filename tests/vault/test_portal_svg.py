"""Server-side drawings: downsampling, the track outline with zones, heart rate, zone preview."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from vault.svg import (
    MAX_CHART_POINTS,
    MAX_OUTLINE_POINTS,
    Circle,
    LatLon,
    downsample,
    heart_rate_chart,
    track_outline,
    zone_preview,
)

POLYLINE = re.compile(r'<polyline class="(svg-track|svg-hr)" points="([^"]*)"')


def _polyline_points(svg: str, kind: str) -> list[tuple[float, float]]:
    found = [points for cls, points in POLYLINE.findall(svg) if cls == kind]
    return [tuple(map(float, pair.split(","))) for points in found for pair in points.split()]


@given(items=st.lists(st.integers(), min_size=1, max_size=2000), limit=st.integers(min_value=2, max_value=400))
def test_downsample_keeps_the_ends_and_the_limit(items, limit):
    sampled = downsample(items, limit)
    assert len(sampled) == min(len(items), limit)
    assert sampled[0] == items[0]
    assert sampled[-1] == items[-1]


def test_outline_is_downsampled_and_fits_in_the_box():
    points = [LatLon(41.89 + i * 1e-5, 12.47 + (i % 50) * 1e-5) for i in range(5000)]
    svg = str(track_outline(points, width=320, height=200))
    coordinates = _polyline_points(svg, "svg-track")
    assert len(coordinates) == MAX_OUTLINE_POINTS
    assert all(0 <= x <= 320 and 0 <= y <= 200 for x, y in coordinates)


def test_outline_keeps_north_up_and_east_right():
    west_south, east_north = LatLon(41.0, 12.0), LatLon(41.01, 12.01)
    (x0, y0), (x1, y1) = _polyline_points(str(track_outline([west_south, east_north])), "svg-track")
    assert x1 > x0  # east is to the right
    assert y1 < y0  # north is up (SVG y grows downwards)


def test_outline_draws_each_zone_as_a_circle_of_the_right_size():
    points = [LatLon(41.0, 12.0), LatLon(41.0, 12.0 + 1000 / 83_900)]  # ~1 km due east
    svg = str(track_outline(points, [Circle(41.0, 12.0, 250)], width=320, height=200))
    radius = float(re.search(r'<circle class="svg-zone" cx="[^"]+" cy="[^"]+" r="([^"]+)"', svg).group(1))
    # 1 km spans the 292 px between the paddings, so 250 m is about 73 px.
    assert 65 < radius < 80


def test_title_is_escaped():
    svg = str(track_outline([LatLon(1, 1), LatLon(1.01, 1.01)], title='<script>"x"</script>'))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


def test_empty_track_says_so():
    assert "No points" in str(track_outline([]))


def test_heart_rate_chart_scales_and_labels_the_axis():
    start = datetime(2026, 1, 1, 7, 0, tzinfo=UTC)
    samples = [(start + timedelta(seconds=5 * i), 80 + i % 60) for i in range(1000)]
    svg = str(heart_rate_chart(samples, width=640, height=220))
    coordinates = _polyline_points(svg, "svg-hr")
    assert len(coordinates) == MAX_CHART_POINTS
    assert all(0 <= x <= 640 and 0 <= y <= 220 for x, y in coordinates)
    assert ">80<" in svg
    assert ">140<" in svg
    assert "07:00" in svg


def test_heart_rate_chart_breaks_the_line_at_a_pause():
    start = datetime(2026, 1, 1, 7, 0, tzinfo=UTC)
    before = [(start + timedelta(seconds=5 * i), 100) for i in range(50)]
    after = [(start + timedelta(hours=2, seconds=5 * i), 120) for i in range(50)]
    svg = str(heart_rate_chart(before + after))
    assert svg.count('class="svg-hr"') == 2


def test_heart_rate_chart_without_data_says_so():
    assert "No heart rate recorded" in str(heart_rate_chart([]))


def test_zone_preview_shows_nearby_points_only_and_a_scale():
    zone = Circle(41.0, 12.0, 300)
    near, far = LatLon(41.001, 12.001), LatLon(42.0, 13.0)
    svg = str(zone_preview(zone, [near, far], size=180))
    assert svg.count('class="svg-dot"') == 1
    assert ">200 m<" in svg
