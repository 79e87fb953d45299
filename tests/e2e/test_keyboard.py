"""Keyboard-only use, in a real browser: she signs in and reaches a page's main content with
Tab, Shift+Tab and Enter (through the skip link), and every control she lands on on the way,
and on a full sweep of her dashboard, shows where the focus is (an outline or a ring of
non-zero width, as computed by the browser).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import PersonFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long and private passphrase 9"
MAX_TABS = 120  # more stops than any one page has: a sweep that never comes back fails

# What the browser says about the focused element: where it is and whether it is drawn.
FOCUS_SCRIPT = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) { return null; }
  const style = getComputedStyle(element);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const ring = style.boxShadow !== "none" && style.boxShadow !== "";
  const box = element.getBoundingClientRect();
  const label = element.labels && element.labels.length ? element.labels[0].textContent : "";
  return {
    element: element.tagName.toLowerCase() + (element.id ? "#" + element.id : "") +
      (element.className && typeof element.className === "string" ? "." + element.className.split(" ").join(".") : ""),
    text: (label || element.getAttribute("aria-label") || element.textContent || element.value || "")
      .trim().slice(0, 60),
    indicator: outline || ring,
    onScreen: box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0 &&
      box.top < window.innerHeight && box.left < window.innerWidth,
    inMain: !!element.closest("main"),
    href: element.href || null,
    skipLink: element.classList.contains("skip-link"),
  };
}"""


def focused(page) -> dict[str, Any]:
    state = page.evaluate(FOCUS_SCRIPT)
    assert state is not None, "the keyboard focus is on nothing"
    return state


def assert_visible_focus(state: dict[str, Any]) -> None:
    assert state["indicator"], f"no visible focus indicator on {state['element']} ({state['text']!r})"
    assert state["onScreen"], f"the focused {state['element']} ({state['text']!r}) is off screen"


def tab(page, key: str = "Tab") -> dict[str, Any]:
    page.keyboard.press(key)
    state = focused(page)
    assert_visible_focus(state)
    return state


def skip_to_main(page) -> dict[str, Any]:
    """From a freshly loaded page: Tab to the skip link, Enter, Tab to the first control in main."""
    assert tab(page)["skipLink"], "the first Tab lands on the skip link"
    page.keyboard.press("Enter")
    state = tab(page)
    assert state["inMain"], f"after the skip link, Tab lands in the main content, not on {state['element']}"
    return state


def test_she_signs_in_and_reaches_the_main_content_with_the_keyboard_only(open_browser):
    person = PersonFactory(username="kira_e2e", password=PASSWORD)
    browser = open_browser()
    page = browser.page
    browser.goto("/accounts/login/")

    # The login form takes the focus as the page opens (autofocus), and shows it.
    first = focused(page)
    assert_visible_focus(first)
    assert first["inMain"], f"the focus starts in the main content, not on {first}"
    assert first["text"] == "Username", f"the focus starts on the username, not {first}"
    page.keyboard.press("Shift+Tab")  # backwards: past the header's links to the skip link
    while not focused(page)["skipLink"]:
        assert_visible_focus(focused(page))
        assert not focused(page)["inMain"], "Shift+Tab goes up the page"
        page.keyboard.press("Shift+Tab")
    assert_visible_focus(focused(page))
    page.keyboard.press("Enter")  # skip the header again
    assert tab(page)["text"] == "Username", "the skip link leads back to the form"
    page.keyboard.type(person.username)
    assert tab(page)["text"] == "Password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/dashboard/")
    browser.screenshot("signed-in-by-keyboard")

    skip_to_main(page)
    page.keyboard.press("Shift+Tab")  # back out of main: the last control of the header, shown too
    back = focused(page)
    assert_visible_focus(back)
    assert not back["inMain"], back
    assert not back["skipLink"], back
    assert "Log out" in back["text"], back
    first_in_main = tab(page)
    assert first_in_main["inMain"], first_in_main
    assert first_in_main["href"], f"a link opens her dashboard's content, not {first_in_main}"
    page.keyboard.press("Enter")  # and follow it, still without a mouse
    page.wait_for_url(first_in_main["href"])
    browser.screenshot("followed-by-keyboard")


def test_every_stop_of_a_full_tab_sweep_shows_its_focus(open_browser):
    person = PersonFactory(username="kira_e2e", password=PASSWORD)
    browser = open_browser()
    browser.log_in(person.username, PASSWORD)
    page = browser.page
    stops: list[dict[str, Any]] = []
    for pages in ("/dashboard/", "/upload/", "/zones/", "/consents/"):
        browser.goto(pages)
        for _ in range(MAX_TABS):
            page.keyboard.press("Tab")
            state = page.evaluate(FOCUS_SCRIPT)
            if state is None or (stops and state["skipLink"] and stops[-1]["page"] == pages):
                break  # back at the start: every stop has been seen
            stops.append({**state, "page": pages})
        else:
            pytest.fail(f"Tab never came back to the start of {pages}")
    unmarked = [
        f"{stop['page']}: {stop['element']} ({stop['text']!r})"
        for stop in stops
        if not (stop["indicator"] and stop["onScreen"])
    ]
    assert len(stops) > 20, "the sweep went through the pages' controls"
    assert not unmarked, "focus not visible on:\n" + "\n".join(unmarked)
