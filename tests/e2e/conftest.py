"""Browser fixtures: Debian's Chromium driven by Playwright, a watch on every page that
fails the test on console errors, failed requests and unexpected HTTP errors, and a
directory for screenshots (var/e2e-artifacts/<test>/, listed in pytest's closing summary).

Playwright's sync API keeps an asyncio loop in the test's thread, so Django's guard
against ORM calls from async code must be lifted for these tests only (the ORM calls
here are plain, synchronous test code).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "var" / "e2e-artifacts"
# Generous: a shared 2-core machine can be slow; waiting longer costs nothing when all is well.
TIMEOUT_MS = 30_000
# A desktop window; EIDETIC_E2E_VIEWPORT=375x812 runs the same tests as on a phone.
VIEWPORT = tuple(int(size) for size in os.environ.get("EIDETIC_E2E_VIEWPORT", "1280x900").split("x"))
# Chromium repeats every HTTP error response as a console error; responses are judged
# on their own (with the step's expectations), so these echoes are not counted twice.
RESOURCE_ECHO = re.compile(r"^Failed to load resource: the server responded with a status of \d+")


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            # Chromium refuses to run as root with its sandbox (CI runs as root).
            args = ["--no-sandbox"] if os.geteuid() == 0 else []
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
            yield browser
            browser.close()


SAVED: list[str] = []  # one line per test that saved screenshots, for the terminal summary


@pytest.fixture
def artifacts(request) -> Iterator[Path]:
    directory = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*"):
        if old.is_file():
            old.unlink()
    yield directory
    shots = sorted(directory.glob("*.png"))
    if shots:
        SAVED.append(f"{request.node.name}: {len(shots)} screenshot(s) in {directory}")


def pytest_terminal_summary(terminalreporter) -> None:
    if SAVED:
        terminalreporter.section("browser screenshots")
        for line in SAVED:
            terminalreporter.write_line(line)


@dataclass
class PageWatch:
    """Everything that went wrong on the pages of one browser context."""

    problems: list[str] = field(default_factory=list)
    allowed: list[tuple[int, str]] = field(default_factory=list)  # (status, URL part) a step expects
    seen_allowed: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught script error: {error}"))
        page.on("requestfailed", self._request_failed)
        page.on("response", self._response)

    def _console(self, message) -> None:
        if message.type == "error" and not RESOURCE_ECHO.match(message.text):
            self.problems.append(f"console error on {message.location.get('url')}: {message.text}")

    def _request_failed(self, request) -> None:
        failure = request.failure or ""
        # Cancelled by the browser itself, not failed: a navigation that became a download, or a
        # late request (the favicon) dropped because the test moved on to the next page.
        if failure == "net::ERR_ABORTED":
            return
        self.problems.append(f"request failed: {request.method} {request.url}: {failure}")

    def _response(self, response) -> None:
        if response.status < 400:
            return
        for status, part in self.allowed:
            if response.status == status and part in response.url:
                self.seen_allowed.append(f"{status} {response.url}")
                return
        self.problems.append(f"HTTP {response.status} for {response.request.method} {response.url}")

    @contextmanager
    def expecting(self, status: int, url_part: str) -> Iterator[None]:
        """Within the block, one answer ``status`` for a URL containing ``url_part`` is expected."""
        self.allowed.append((status, url_part))
        before = len(self.seen_allowed)
        try:
            yield
        finally:
            self.allowed.remove((status, url_part))
        assert len(self.seen_allowed) > before, f"expected HTTP {status} for a URL with {url_part!r}, saw none"

    def assert_clean(self) -> None:
        assert not self.problems, "the browser saw problems:\n" + "\n".join(self.problems)


class Browser:
    """One signed-in (or anonymous) browser context with its own cookies, pages and watch."""

    def __init__(self, chromium, base_url: str, artifacts: Path) -> None:
        viewport = {"width": VIEWPORT[0], "height": VIEWPORT[1]}
        self.context = chromium.new_context(base_url=base_url, accept_downloads=True, viewport=viewport)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.watch = PageWatch()
        self.page = self.context.new_page()
        self.watch.attach(self.page)
        self.artifacts = artifacts
        self.base_url = base_url

    def goto(self, path: str):
        response = self.page.goto(path)
        self.page.wait_for_load_state("load")
        return response

    def screenshot(self, name: str) -> Path:
        number = len(list(self.artifacts.glob("*.png"))) + 1
        path = self.artifacts / f"{number:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def log_in(self, username: str, password: str, *, expect_refusal: bool = False) -> None:
        self.goto("/accounts/login/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password", exact=True).fill(password)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_load_state("load")
        if expect_refusal:
            self.page.get_by_role("alert").wait_for()
            assert "/accounts/login/" in self.page.url, f"{username} could log in"
        else:
            assert "/accounts/login/" not in self.page.url, f"login as {username} failed"

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_browser(chromium, live_server, artifacts) -> Iterator:
    """``open_browser()`` gives a fresh context; each is checked for problems at the end."""
    opened: list[Browser] = []

    def make() -> Browser:
        browser = Browser(chromium, live_server.url, artifacts)
        opened.append(browser)
        return browser

    yield make
    for browser in opened:
        browser.close()
    for browser in opened:
        browser.watch.assert_clean()
