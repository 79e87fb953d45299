"""The browser tests' guard can fail: console errors, failed requests and unexpected HTTP
errors are all caught; an HTTP error a step announces is not."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Browser
from tests.e2e.partner import PartnerApp

pytestmark = pytest.mark.browser


def test_the_watch_catches_what_goes_wrong_in_the_browser(chromium, artifacts):
    with PartnerApp() as app:  # answers 404 for anything but its callback
        browser = Browser(chromium, app.base, artifacts)
        try:
            with browser.watch.expecting(404, "/announced"):
                browser.goto("/announced")
            assert browser.watch.problems == []

            browser.goto("/unannounced")
            browser.page.evaluate("console.error('something broke')")
            # Port 1 on loopback: nothing listens, the connection is refused.
            browser.page.evaluate("fetch('http://127.0.0.1:1/').then(() => 0, () => 1)")
            browser.page.wait_for_timeout(100)  # let the failure's events reach the test
        finally:
            browser.close()
    problems = "\n".join(browser.watch.problems)
    assert "HTTP 404 for GET http://127.0.0.1" in problems
    assert "/unannounced" in problems
    assert "console error" in problems
    assert "something broke" in problems
    assert "request failed: GET http://127.0.0.1:1/" in problems
    with pytest.raises(AssertionError, match="the browser saw problems"):
        browser.watch.assert_clean()


def test_an_announced_error_that_never_comes_fails(chromium, artifacts):
    with PartnerApp() as app:
        browser = Browser(chromium, app.base, artifacts)
        try:
            with pytest.raises(AssertionError, match="expected HTTP 404"), browser.watch.expecting(404, "/callback"):
                browser.goto("/callback")  # answers 200
        finally:
            browser.close()
