"""Issue 7's end-to-end story, in headless Chromium against a live server.

A new person signs up and imports a GPX track (with heart rate) and a moments file,
draws a privacy zone around her home, approves a partner's consent request on the
consent screen, sees the partner's read in her access log and her earnings grow,
pauses then revokes (the partner is refused and gets signed webhooks), downloads the
consent receipt and checks it offline, an auditor verifies the ledger, and she exports
her data and deletes her account: nothing of hers opens any more and the ledger still
verifies. Every step leaves a screenshot in var/e2e-artifacts/; any console error,
failed request or unexpected HTTP error in the browser fails the test.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.db import transaction
from requests_oauthlib import OAuth2Session

from accounts.models import User
from broker import services as broker_services
from broker.models import Partner
from ledger import selectors as ledger_selectors
from tests.e2e.partner import PartnerApp
from vault.errors import VaultKeyMissing
from vault.keys import keys_for, keys_for_uid
from vault.models import Moment, Track, Trackpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
# Distinctive, so that finding it in a page or file is never chance.
USERNAME, PASSWORD = "dorothea_e2e", "a long and private passphrase 7"
HOME = (52.52000, 13.40500)
ZONE_RADIUS_M = 250
SCOPES = ["lifelog.location:precise", "lifelog.heartrate:read", "lifelog.moments:read"]


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    north = (b[0] - a[0]) * 111_320
    east = (b[1] - a[1]) * 111_320 * math.cos(math.radians(a[0]))
    return math.hypot(north, east)


def verifier(*args: str) -> subprocess.CompletedProcess:
    """The auditor's standalone verifier (no Django, no database), as a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "ledger.verify", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


# --- the person's steps -------------------------------------------------------------------


def sign_up(browser) -> None:
    browser.goto("/accounts/signup/")
    page = browser.page
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/dashboard/")
    assert "Your vault is ready" in page.inner_text("main")
    browser.screenshot("signed-up")


def upload(browser, filename: str, expected_new: int) -> None:
    """Upload through the page's script: both progress bars fill, then the job page shows it finished."""
    browser.goto("/upload/")
    page = browser.page
    page.get_by_label("File to import").set_input_files(str(FIXTURES / filename))
    page.get_by_role("button", name="Upload and import").click()
    status = page.locator("#upload-status")
    status.get_by_text("Done:").wait_for()
    assert f"{expected_new} new record(s)" in status.inner_text()
    assert page.locator("#upload-bar").evaluate("bar => bar.value") == 100
    assert page.locator("#import-bar").evaluate("bar => bar.value") == 100
    browser.screenshot(f"uploaded-{filename.split('.')[0]}")
    status.get_by_role("link", name="See the import").click()
    page.wait_for_url("**/imports/**")
    bar = page.locator("progress#job-bar")
    assert bar.count() == 1, "the import page shows a progress bar"
    assert bar.get_attribute("value") == "100"
    assert page.locator("#job").get_attribute("data-finished") == "true"
    assert "Done" in page.locator("#job-status").inner_text()
    browser.screenshot(f"import-finished-{filename.split('.')[0]}")


def see_tracks_and_timeline(browser) -> None:
    browser.goto("/tracks/")
    page = browser.page
    page.get_by_role("link", name="Morning walk from home").click()
    page.wait_for_url("**/tracks/**-**/")
    main = page.inner_text("main")
    assert "Morning walk from home" in main
    assert page.locator("svg[role=img]").count() >= 2, "a map and a heart-rate chart"
    browser.screenshot("track")
    browser.goto("/timeline/")
    main = page.inner_text("main")
    for label in ("Bakery Kornblume", "Lunch by the canal", "Evening bouldering session"):
        assert label in main
    browser.screenshot("timeline")


def draw_home_zone(browser) -> None:
    browser.goto("/zones/")
    page = browser.page
    page.get_by_label("Name").fill("Home")
    page.get_by_label("Latitude of the centre").fill(str(HOME[0]))
    page.get_by_label("Longitude of the centre").fill(str(HOME[1]))
    page.get_by_label("Radius in metres").fill(str(ZONE_RADIUS_M))
    page.get_by_role("button", name="Preview").click()
    page.locator(".zone-preview svg").wait_for()
    browser.screenshot("zone-preview")
    page.get_by_role("button", name="Save zone").click()
    page.get_by_text("Privacy zone saved").wait_for()
    assert page.get_by_role("heading", name="Home").count() == 1
    browser.screenshot("zone-saved")


# --- the partner ----------------------------------------------------------------------------


def request_consent(base: str, client_id: str, secret: str) -> str:
    """The partner's server states its terms; Eidetic answers with a consent request id."""
    now = datetime.now(UTC)
    terms = {
        "scopes": SCOPES,
        "purpose_code": "ServicePersonalisation",
        "purpose_text": "Suggest walking routes near you.",
        "data_from": "2026-03-01T00:00:00+00:00",
        "data_to": "2026-03-05T00:00:00+00:00",
        "frequency_value": 20,
        "frequency_unit": "DAY",
        "data_life_unit": "MONTH",
        "data_life_value": 1,
        "valid_from": (now - timedelta(minutes=1)).isoformat(),
        "expires_at": (now + timedelta(days=30)).isoformat(),
        "price_amount": "0.25",
        "price_basis": "per_access",
    }
    answer = requests.post(f"{base}/api/v1/consent-requests", json=terms, auth=(client_id, secret), timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def approve_on_consent_screen(browser, authorize_url: str, partner_app: PartnerApp) -> str:
    page = browser.page
    browser.goto(authorize_url)
    heading = page.get_by_role("heading", level=1)
    assert "Walkabout" in heading.inner_text()
    screen = page.inner_text("main")
    assert "Suggest walking routes near you." in screen
    assert "0.25 credits" in screen
    browser.screenshot("consent-screen")
    page.get_by_role("button", name="Yes, share this").click()
    page.wait_for_url(f"{partner_app.base}/callback**")
    assert len(partner_app.received.callbacks) == 1
    return partner_app.received.callbacks[0]


def earnings_balance(browser) -> float:
    browser.goto("/earnings/")
    return float(browser.page.locator(".stat-number").first.inner_text())


def assert_location_outside_zone(oauth: OAuth2Session, base: str) -> int:
    answer = oauth.get(f"{base}/api/v1/data/location")
    assert answer.status_code == 200, answer.text
    points = answer.json()["items"]
    assert points, "points away from home are shared"
    nearest = min(metres_between(HOME, (point["lat"], point["lon"])) for point in points)
    assert nearest > ZONE_RADIUS_M, f"a point {nearest:.0f} m from home left the vault"
    return len(points)


def verify_on_auditor_page(browser) -> None:
    """The auditor starts a full verification; its page follows the run to the verdict."""
    browser.goto("/ledger/verifications/")
    page = browser.page
    page.get_by_role("button", name="Verify the whole ledger").click()
    page.wait_for_url("**/ledger/verifications/*/")
    page.locator("strong", has_text="The ledger verifies").wait_for()
    assert "OK: the ledger verifies" in page.locator("pre").inner_text(), "the verifier's own report"
    bar = page.locator("progress")
    assert bar.count() == 1, "the verification page shows a progress bar"
    assert bar.get_attribute("value") == "100"
    browser.screenshot("auditor-verified")


def prepare_export(browser) -> None:
    """The export is prepared in the background; its page shows progress, then the download."""
    browser.goto("/export/")
    page = browser.page
    page.get_by_role("button", name="Prepare my export (JSON)").click()
    page.wait_for_url("**/export/*/")
    page.get_by_role("link", name="Download my data (JSON)").wait_for()
    bar = page.locator("progress")
    assert bar.count() == 1, "the export page shows a progress bar"
    assert bar.get_attribute("value") == "100"
    browser.screenshot("export-ready")


@dataclass
class Story:
    """What the steps share: the site, the partner's app and client, the two browsers."""

    base: str
    partner_app: PartnerApp
    partner: Partner
    client_id: str
    client_secret: str
    person_browser: Any
    files: Path
    oauth: OAuth2Session | None = None
    consent_id: str = ""
    key: str = ""

    def partner_get(self, path: str):
        return self.oauth.get(f"{self.base}{path}")


def step_1_sign_up_and_import(story: Story):
    sign_up(story.person_browser)
    upload(story.person_browser, "morning_walk.gpx", expected_new=30)  # its 30 points
    upload(story.person_browser, "moments.json", expected_new=3)
    person = User.objects.get(username=USERNAME)
    assert Track.objects.filter(owner=person).count() == 1
    assert Moment.objects.filter(owner=person).count() == 3
    see_tracks_and_timeline(story.person_browser)
    return person


def step_3_partner_asks_and_she_approves(story: Story) -> None:
    story.consent_id = request_consent(story.base, story.client_id, story.client_secret)
    oauth = OAuth2Session(story.client_id, redirect_uri=story.partner_app.redirect_uri, scope=SCOPES, pkce="S256")
    authorize_url, state = oauth.authorization_url(f"{story.base}/oauth/authorize/", consent_request=story.consent_id)
    callback = approve_on_consent_screen(story.person_browser, authorize_url, story.partner_app)
    assert parse_qs(urlsplit(callback).query)["state"] == [state]
    oauth.fetch_token(f"{story.base}/oauth/token/", authorization_response=callback, client_secret=story.client_secret)
    story.oauth = oauth
    story.person_browser.screenshot("partner-connected")


def step_4_partner_reads(story: Story, person) -> None:
    browser = story.person_browser
    before = earnings_balance(browser)
    shared = assert_location_outside_zone(story.oauth, story.base)
    assert shared < Trackpoint.objects.filter(owner=person).count(), "the points at home were withheld"
    heart = story.partner_get("/api/v1/data/heartrate")
    assert heart.status_code == 200
    assert all(point["hr"] for point in heart.json()["items"])
    browser.goto("/access-log/")
    log = browser.page.inner_text("main")
    assert "Walkabout" in log
    assert "See exactly where you were" in log  # the scope of the read, in words
    assert "Allowed" in log
    browser.screenshot("access-log")
    after = earnings_balance(browser)
    assert after == pytest.approx(before + 0.50), "two priced reads, 0.25 credits each"
    browser.screenshot("earnings")


def step_5_pause_then_revoke(story: Story) -> None:
    browser, page = story.person_browser, story.person_browser.page
    browser.goto(f"/consents/{story.consent_id}/")
    page.get_by_role("button", name="Pause").click()
    page.get_by_text("Paused.").first.wait_for()
    browser.screenshot("paused")
    paused = story.partner_get("/api/v1/data/location")
    assert paused.status_code == 403
    assert paused.json()["error"]["code"] == "ConsentPaused"
    page.get_by_role("link", name="Revoke…").click()
    browser.screenshot("revoke-confirmation")
    page.get_by_role("button", name="Revoke").click()
    page.get_by_text("Revoked.").first.wait_for()
    browser.screenshot("revoked")
    refused = story.partner_get("/api/v1/data/location")
    assert refused.status_code in (401, 403), refused.text
    assert "error" in refused.json()
    events = [event["type"] for event in story.partner_app.events(story.partner.webhook_secret)]
    assert events == ["consent.granted", "consent.paused", "consent.revoked"], events
    assert len(story.partner_app.received.webhooks) == len(events), "every delivery carries a valid signature"


def step_6_receipt_and_audit(story: Story, auditor_browser) -> None:
    browser, page = story.person_browser, story.person_browser.page
    browser.goto(f"/consents/{story.consent_id}/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download receipt (JSON)").click()
    receipt_path = story.files / "receipt.json"
    download.value.save_as(receipt_path)
    assert json.loads(receipt_path.read_text())["index"] >= 0
    assert USERNAME not in receipt_path.read_text()
    auditor_browser.log_in("audrey", PASSWORD)
    auditor_browser.goto("/ledger/")
    story.key = auditor_browser.page.locator("section", has_text="public key").locator("code").first.inner_text()
    assert story.key.strip() == ledger_selectors.verifier_key()
    auditor_browser.screenshot("auditor-ledger")
    auditor_browser.goto("/ledger/entries/")
    assert "consent.granted" in auditor_browser.page.inner_text("main")
    assert USERNAME not in auditor_browser.page.content()
    auditor_browser.screenshot("auditor-entries")
    verify_on_auditor_page(auditor_browser)
    checked = verifier("--key", story.key.strip(), str(receipt_path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "OK: the receipt verifies" in checked.stdout


def step_7_export_then_delete(story: Story, person) -> None:
    browser, page = story.person_browser, story.person_browser.page
    prepare_export(browser)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data (JSON)").click()
    export_path = story.files / "export.json"
    download.value.save_as(export_path)
    exported = export_path.read_text()
    assert "Morning walk from home" in exported
    assert "Bakery Kornblume" in exported
    browser.screenshot("exported")
    # A sealed row as a backup would hold it: it opens while she exists, and never after.
    row_id, sealed = Trackpoint.objects.filter(owner=person).values_list("id", "sealed").first()
    assert keys_for(person).unseal("trackpoint", row_id, bytes(sealed))["lat"]
    browser.goto("/accounts/delete/")
    page.get_by_label("Type your username to confirm").fill(USERNAME)
    browser.screenshot("delete-confirmation")
    page.get_by_role("button", name="Delete my account for ever").click()
    page.get_by_text("Your account is deleted").wait_for()
    browser.screenshot("deleted")
    with pytest.raises(VaultKeyMissing):
        keys_for_uid(person.uid)
    assert not Trackpoint.objects.filter(owner=person).exists()
    assert not Moment.objects.filter(owner=person).exists()
    browser.log_in(USERNAME, PASSWORD, expect_refusal=True)
    browser.screenshot("login-refused")
    assert story.partner_get("/api/v1/data/moments").status_code in (401, 403)


def assert_ledger_verifies(story: Story) -> None:
    report = ledger_selectors.verify_database(check_anchors=False)
    assert report.ok, report.summary()
    audited = verifier("--key", story.key.strip(), "--url", story.base, "--quiet")
    assert audited.returncode == 0, audited.stdout + audited.stderr


@pytest.fixture
def partner_app():
    with PartnerApp() as app:
        yield app


def test_the_whole_story(live_server, open_browser, partner_app, monkeypatch, tmp_path):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the live server speaks http on loopback
    with transaction.atomic():
        partner, application, secret = broker_services.partner_create(
            name="Walkabout", redirect_uri=partner_app.redirect_uri, webhook_url=partner_app.webhook_url
        )
    User.objects.create_user(username="audrey", password=PASSWORD, role=User.Role.AUDITOR)
    story = Story(live_server.url, partner_app, partner, application.client_id, secret, open_browser(), tmp_path)

    person = step_1_sign_up_and_import(story)
    draw_home_zone(story.person_browser)  # step 2
    step_3_partner_asks_and_she_approves(story)
    step_4_partner_reads(story, person)
    step_5_pause_then_revoke(story)
    auditor_browser = open_browser()
    step_6_receipt_and_audit(story, auditor_browser)
    assert_ledger_verifies(story)
    step_7_export_then_delete(story, person)
    assert_ledger_verifies(story)

    story.person_browser.watch.assert_clean()
    auditor_browser.watch.assert_clean()
