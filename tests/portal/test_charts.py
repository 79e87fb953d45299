"""Drawings as server-rendered SVG: earnings over time, a consent's life, a track's map
with its privacy zones. Each is named (role=img, aria-label, title, desc) and has the same
facts in text or a table on its page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from broker import charts, services
from broker.portal_queries import MonthTotal
from tests.broker.conftest import grant, request_consent
from tests.vault.test_portal_pages import seed_vault
from vault import services as vault_services
from vault.models import Track

pytestmark = pytest.mark.django_db


class SvgAudit(HTMLParser):
    """Every <svg> on a page: its attributes, and whether it has a <title> and a <desc>."""

    def __init__(self) -> None:
        super().__init__()
        self.svgs: list[dict] = []
        self._inside: dict | None = None
        self._tag: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "svg":
            self._inside = {"attrs": dict(attrs), "title": "", "desc": "", "bars": 0}
            self.svgs.append(self._inside)
        elif self._inside is not None and tag == "rect" and "svg-bar" in (dict(attrs).get("class") or ""):
            self._inside["bars"] += 1
        self._tag = tag

    def handle_data(self, data):
        if self._inside is not None and self._tag in ("title", "desc") and not self._inside[self._tag]:
            self._inside[self._tag] = data

    def handle_endtag(self, tag):
        if tag == "svg":
            self._inside = None
        self._tag = None


def _svgs(html: str) -> list[dict]:
    audit = SvgAudit()
    audit.feed(html)
    return audit.svgs


def _assert_named(svg: dict) -> None:
    assert svg["attrs"].get("role") == "img"
    assert svg["attrs"].get("aria-label")
    assert svg["title"]
    assert svg["desc"]


# --- units -----------------------------------------------------------------------------------


def test_month_series_fills_empty_months_and_keeps_the_last_ones():
    rows = [
        MonthTotal(date(2026, 1, 1), Decimal("1.50"), 3),
        MonthTotal(date(2026, 4, 1), Decimal("0.50"), 1),
    ]
    months = charts.month_series(rows, until=date(2026, 5, 20))
    assert [m.month for m in months] == [date(2026, m, 1) for m in (1, 2, 3, 4, 5)]
    assert [m.amount for m in months] == [Decimal("1.50"), 0, 0, Decimal("0.50"), 0]
    assert len(charts.month_series(rows, until=date(2027, 12, 1), limit=12)) == 12
    assert charts.month_series([], until=date(2026, 5, 1)) == []


def test_earnings_chart_draws_a_bar_per_month_with_its_figure():
    months = charts.month_series(
        [MonthTotal(date(2026, 2, 1), Decimal("2.00"), 4), MonthTotal(date(2026, 3, 1), Decimal("1.00"), 2)]
    )
    svg = str(charts.earnings_chart(months))
    (audit,) = _svgs(svg)
    _assert_named(audit)
    assert audit["bars"] == 2
    assert "3.00 credits from February 2026 to March 2026" in audit["desc"]
    assert "February 2026: 2.00 credits from 4 reads" in svg


def test_earnings_chart_says_when_there_is_nothing():
    (audit,) = _svgs(str(charts.earnings_chart([])))
    _assert_named(audit)
    assert audit["bars"] == 0
    assert "Nothing earned yet" in audit["desc"]


def test_consent_timeline_draws_states_events_and_calls():
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    events = [
        charts.Event("active", start),
        charts.Event("paused", start + timedelta(days=3)),
        charts.Event("active", start + timedelta(days=5)),
        charts.Event("revoked", start + timedelta(days=9)),
    ]
    calls = [(start + timedelta(days=1), True), (start + timedelta(days=2), True), (start + timedelta(days=4), False)]
    svg = str(charts.consent_timeline(events, calls, now=start + timedelta(days=20)))
    (audit,) = _svgs(svg)
    _assert_named(audit)
    assert "granted 01 Mar 2026, paused 04 Mar 2026, resumed 06 Mar 2026, revoked 10 Mar 2026" in audit["desc"]
    assert "2 requests allowed, 1 refused" in audit["desc"]
    assert svg.count('class="svg-access"') == 2
    assert svg.count('class="svg-refused"') == 1
    assert 'fill="url(#paused-hatch)"' in svg  # paused is a pattern, not only a colour
    assert svg.count('class="svg-event"') == 4


def test_chart_labels_are_escaped():
    months = charts.month_series([MonthTotal(date(2026, 2, 1), Decimal("1"), 1)])
    svg = str(charts.earnings_chart(months, title='<script>alert("x")</script>'))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


# --- on the pages ----------------------------------------------------------------------------------


def test_earnings_page_and_dashboard_show_the_chart_and_the_figures(client, person):
    from tests.broker.conftest import make_partner

    result = grant(person, make_partner("Cosy Chairs"), price_amount=Decimal("0.50"))
    for _ in range(2):
        assert result.get("/api/v1/data/moments").status_code == 200
    client.force_login(person)
    html = client.get(reverse("broker:earnings")).content.decode()
    (chart,) = [svg for svg in _svgs(html) if "earnings-chart" in svg["attrs"]["class"]]
    _assert_named(chart)
    assert chart["bars"] == 1
    assert "1.00 credits" in chart["desc"]
    assert 'id="month-heading"' in html  # the table with the same figures
    dashboard = client.get(reverse("vault:dashboard")).content.decode()
    panel = dashboard.split('id="broker-panel-heading"')[1].split("</section>")[0]
    (small,) = _svgs(panel)
    _assert_named(small)
    assert "The figures behind the chart" in panel
    assert "1.00 credits" in panel


def test_earnings_without_any_read_say_how_to_earn(client, person):
    client.force_login(person)
    html = client.get(reverse("broker:earnings")).content.decode()
    assert "Nothing earned yet" in html
    dashboard = client.get(reverse("vault:dashboard")).content.decode()
    assert "No earnings yet" in dashboard


def test_consent_page_draws_its_life_next_to_the_history_in_words(client, person, partner):
    consent = services.consent_grant(consent=request_consent(partner), person=person)
    services.consent_pause(consent=consent, person=person)
    services.consent_resume(consent=consent, person=person)
    client.force_login(person)
    html = client.get(reverse("broker:consent_detail", kwargs={"consent_id": consent.uid})).content.decode()
    (life,) = [svg for svg in _svgs(html) if "consent-timeline" in svg["attrs"]["class"]]
    _assert_named(life)
    for word in ("asked", "granted", "paused", "resumed"):
        assert word in life["desc"]
    history = html.split('id="timeline-heading"')[1].split("</section>")[0]
    assert history.count("<li>") == 4  # requested, granted, paused, resumed: the text alternative


def test_track_map_has_a_description_and_zone_table(client, person):
    seed_vault(person, points=20)  # includes a zone "Home on the hill"
    track = Track.objects.get(owner=person)
    client.force_login(person)
    html = client.get(reverse("vault:track_detail", kwargs={"track_id": track.id})).content.decode()
    (track_map,) = [svg for svg in _svgs(html) if "track-svg" in svg["attrs"]["class"]]
    _assert_named(track_map)
    assert "20 points" in track_map["desc"]
    assert "1 privacy zone drawn" in track_map["desc"]
    assert 'class="svg-zone"' in html
    assert "<caption>Your privacy zones and this track</caption>" in html
    assert "Home on the hill" in html


def test_track_map_without_zones_invites_her_to_draw_one(client, person):
    seed_vault(person, points=5)
    for zone in vault_services.zones_of(person):
        vault_services.zone_delete(person=person, zone_id=zone["id"])
    track = Track.objects.get(owner=person)
    client.force_login(person)
    html = client.get(reverse("vault:track_detail", kwargs={"track_id": track.id})).content.decode()
    assert "You have no privacy zone yet" in html
    assert reverse("vault:zones") in html


def test_a_request_recorded_after_the_grant_does_not_cut_the_active_band():
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    events = [charts.Event("active", start), charts.Event("requested", start + timedelta(seconds=1))]
    svg = str(charts.consent_timeline(events, [], now=start + timedelta(days=10)))
    (band,) = [part for part in svg.split("<rect") if 'fill="#1e6b3a"' in part]
    width = float(band.split('width="')[1].split('"')[0])
    assert width > 600  # the whole stretch until now, not one second of it


def test_partner_consent_page_draws_the_same_life(client, person, partner, partner_staff):
    consent = services.consent_grant(consent=request_consent(partner), person=person)
    services.consent_revoke(consent=consent, person=person)
    client.force_login(partner_staff)
    url = reverse("broker:partner_consent", kwargs={"partner_id": partner.partner.uid, "consent_id": consent.uid})
    html = client.get(url).content.decode()
    (life,) = [svg for svg in _svgs(html) if "consent-timeline" in svg["attrs"]["class"]]
    _assert_named(life)
    assert "revoked" in life["desc"]
