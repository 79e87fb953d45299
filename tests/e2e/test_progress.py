"""Pages of long work follow their job in a real browser (static/js/poll.js, used by
progress.js and upload.js).

Celery is eager in tests, so jobs here are queued but held (their ``_enqueue`` does
nothing) and the test runs them while the page is open: the page must reach the finished
state by polling alone. When the session ends mid-job the page says she is signed out, with a
link to sign in again, and stops polling; when the server fails for a moment it says so and
tries again. Neither may leave an uncaught error in the console.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from django.urls import reverse

from tests.factories import PersonFactory
from vault import exporting, importing
from vault.models import ImportJob
from vault.tasks import run_import

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(__file__).parent / "fixtures"
PASSWORD = "a long and private passphrase 8"
SIGNED_OUT = "You are signed out; sign in again to follow this job."


@pytest.fixture
def held_jobs(monkeypatch):
    """Jobs are queued but not run: the test runs them while their page watches."""
    monkeypatch.setattr(exporting, "_enqueue", lambda job: None)
    monkeypatch.setattr(importing, "_enqueue", lambda job: None)


@pytest.fixture
def person_browser(open_browser, held_jobs):
    person = PersonFactory(username="paula_e2e", password=PASSWORD)
    browser = open_browser()
    browser.log_in(person.username, PASSWORD)
    return person, browser


def pending_export(person):
    job = exporting.export_start(person=person)
    assert not job.finished, "the export is held until the test runs it"
    return job


def pending_import(person):
    with open(FIXTURES / "moments.json", "rb") as upload:
        job = importing.start_import(person=person, upload=upload, filename="moments.json")
    assert not job.finished, "the import is held until the test runs it"
    return job


def status_requests(page, part: str) -> list[str]:
    """Every request the page makes for a URL containing ``part``, as it happens."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if part in request.url else None)
    return seen


def test_the_export_page_shows_the_finished_export_once_the_job_ends(person_browser):
    person, browser = person_browser
    job = pending_export(person)
    browser.goto(reverse("vault:export_job", kwargs={"job_id": job.id}))
    page = browser.page
    assert "Waiting" in page.locator("[data-progress-status]").inner_text()
    assert page.get_by_role("link", name="Download my data (JSON)").count() == 0

    exporting.run_export(job.id)
    # progress.js sees the finished state and has the server render the outcome.
    page.get_by_role("link", name="Download my data (JSON)").wait_for()
    assert "Done" in page.locator("[data-progress-status]").inner_text()
    assert page.locator("progress#export-progress").get_attribute("value") == "100"
    browser.screenshot("export-finished-while-open")


def test_the_import_page_updates_in_place_once_the_job_ends(person_browser):
    person, browser = person_browser
    job = pending_import(person)
    browser.goto(reverse("vault:import_detail", kwargs={"job_id": job.id}))
    page = browser.page
    assert page.locator("#job").get_attribute("data-finished") == "false"
    page.evaluate("window.stillTheSamePage = true")

    run_import(str(job.id))
    page.locator("#job-counts").get_by_text("Done:").wait_for()
    assert "Done" in page.locator("#job-status").inner_text()
    assert page.locator("#job-bar").evaluate("bar => bar.value") == 100
    assert page.evaluate("window.stillTheSamePage === true"), "upload.js updates the page without reloading it"
    browser.screenshot("import-finished-while-open")


@pytest.mark.parametrize("kind", ["export", "import"])
def test_a_page_whose_session_ended_says_so_and_stops_polling(person_browser, kind):
    person, browser = person_browser
    if kind == "export":
        job = pending_export(person)
        address, note = reverse("vault:export_job", kwargs={"job_id": job.id}), "[data-progress-note]"
    else:
        job = pending_import(person)
        address, note = reverse("vault:import_detail", kwargs={"job_id": job.id}), "#job-note"
    page = browser.page
    polls = status_requests(page, "/status")
    browser.goto(address)
    browser.context.clear_cookies()  # the session ends (expired, or signed out in another tab)

    message = page.locator(note)
    message.get_by_text(SIGNED_OUT).wait_for()
    assert message.get_attribute("role") == "status", "said in a live region"
    link = message.get_by_role("link", name="Sign in again")
    assert link.get_attribute("href") == f"/accounts/login/?next={quote(address, safe='')}"
    browser.screenshot(f"{kind}-signed-out")
    asked = len(polls)
    page.wait_for_timeout(2_500)  # longer than two polling intervals
    assert len(polls) == asked, "polling stopped once she was signed out"
    assert browser.watch.problems == [], "no uncaught error, no console error"

    link.click()  # she signs in again and comes back to the job
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{address}")


def test_a_failing_server_is_said_and_polling_goes_on(person_browser):
    person, browser = person_browser
    job = pending_export(person)
    page = browser.page
    status_url = reverse("vault:export_job_status", kwargs={"job_id": job.id})
    failures = []

    def fail_once(route):
        if failures:
            route.continue_()
        else:
            failures.append(route.request.url)
            route.fulfill(status=503, content_type="text/html", body="<h1>Service unavailable</h1>")

    page.route(f"**{status_url}", fail_once)
    with browser.watch.expecting(503, status_url):
        browser.goto(reverse("vault:export_job", kwargs={"job_id": job.id}))
        note = page.locator("[data-progress-note]")
        note.get_by_text("trying again").wait_for()
    assert "HTTP 503" in note.inner_text()
    browser.screenshot("export-server-failing")

    exporting.run_export(job.id)
    page.get_by_role("link", name="Download my data (JSON)").wait_for()
    assert failures, "the status answered 503 once"
    assert browser.watch.problems == []


def test_an_upload_sent_after_the_session_ended_says_she_is_signed_out(person_browser):
    person, browser = person_browser
    browser.goto(reverse("vault:upload"))
    page = browser.page
    browser.context.clear_cookies()  # with the session goes the CSRF cookie: the POST is refused (403)
    page.get_by_label("File to import").set_input_files(str(FIXTURES / "moments.json"))
    error = page.locator("#upload-error")
    with browser.watch.expecting(403, reverse("vault:upload")):
        page.get_by_role("button", name="Upload and import").click()
        error.get_by_text("You are signed out, so nothing was uploaded.").wait_for()
    link = error.get_by_role("link", name="Sign in again")
    assert link.get_attribute("href") == f"/accounts/login/?next={quote(reverse('vault:upload'), safe='')}"
    assert not ImportJob.objects.filter(owner=person).exists()
    assert browser.watch.problems == []
    browser.screenshot("upload-signed-out")
