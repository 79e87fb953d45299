"""axe-core, in headless Chromium, on every portal page for each role that sees it.

The demo world (``manage.py demo``: people with tracks and moments, partners with consents
and staff, interests, the club) is built once; an auditor, an operator and a club
observation are added. Every page is opened as each role listed for it; axe-core (its
axe.min.js ships in the axe-playwright-python wheel: no network) runs every rule on the
desktop layout and the layout-dependent ones on a phone screen, and any violation of
impact serious or critical fails the test with a readable list. The page list is checked
against the URL resolver, so a new portal page that is neither listed here nor excluded
with a reason fails ``test_every_portal_url_is_audited``.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

PASSWORD = "eidetic-demo"
ANONYMOUS, PERSON, STAFF, AUDITOR = "anonymous", "person", "partner staff", "auditor"
OPERATOR = "operator"  # Eidetic's own staff (is_staff): operations pages
SIGNED_IN = (PERSON, STAFF, AUDITOR)
ROLES = (ANONYMOUS, PERSON, STAFF, AUDITOR, OPERATOR)
FAILING_IMPACTS = {"serious", "critical"}
PHONE = {"width": 375, "height": 740}
# What a narrow screen can break (colours and markup are the same as on the desktop, where
# every rule runs): tables and cards that scroll sideways must be reachable by keyboard.
PHONE_RULES = ["scrollable-region-focusable"]

# Address prefixes that are not portal pages (machine endpoints), except the consent screen.
NOT_PORTAL_PREFIXES = ("api/", "admin/", "health/", "oauth/", ".well-known/")


@dataclass(frozen=True)
class PortalPage:
    roles: tuple[str, ...]
    kwargs: Callable[[dict[str, Any]], dict[str, Any]] = lambda world: {}


PAGES: dict[str, PortalPage] = {
    "vault:home": PortalPage((ANONYMOUS,)),
    "accounts:login": PortalPage((ANONYMOUS,)),
    "accounts:signup": PortalPage((ANONYMOUS,)),
    "accounts:delete": PortalPage(SIGNED_IN),
    "vault:dashboard": PortalPage((PERSON,)),
    "vault:upload": PortalPage((PERSON,)),
    "vault:import_detail": PortalPage((PERSON,), lambda world: {"job_id": world["job"]}),
    "vault:track_list": PortalPage((PERSON,)),
    "vault:track_detail": PortalPage((PERSON,), lambda world: {"track_id": world["track"]}),
    "vault:timeline": PortalPage((PERSON,)),
    "vault:social_list": PortalPage((PERSON,)),
    "vault:zones": PortalPage((PERSON,)),
    "vault:zone_delete": PortalPage((PERSON,), lambda world: {"zone_id": world["zone"]}),
    "vault:export": PortalPage((PERSON,)),
    "vault:export_job": PortalPage((PERSON,), lambda world: {"job_id": world["export"]}),
    "vault:key_rotation": PortalPage((OPERATOR,)),
    "insights:overview": PortalPage((PERSON,)),
    "insights:interest": PortalPage((PERSON,), lambda world: {"topic_id": world["topic"]}),
    "broker:consent_list": PortalPage((PERSON,)),
    "broker:consent_detail": PortalPage((PERSON,), lambda world: {"consent_id": world["consent"]}),
    "broker:consent_revoke": PortalPage((PERSON,), lambda world: {"consent_id": world["consent"]}),
    "broker:access_log": PortalPage((PERSON,)),
    "broker:earnings": PortalPage((PERSON,)),
    "broker:partner_home": PortalPage((STAFF,)),
    "broker:partner_console": PortalPage((STAFF,), lambda world: {"partner_id": world["partner"]}),
    "broker:partner_webhook_rotate": PortalPage((STAFF,), lambda world: {"partner_id": world["partner"]}),
    "broker:partner_consent": PortalPage(
        (STAFF,), lambda world: {"partner_id": world["partner"], "consent_id": world["partner_consent"]}
    ),
    "ledger:index": PortalPage((ANONYMOUS, *SIGNED_IN)),
    "ledger:entries": PortalPage((ANONYMOUS, AUDITOR)),
    "ledger:entry": PortalPage((ANONYMOUS, AUDITOR), lambda world: {"seq": 0}),
    "ledger:checkpoints": PortalPage((ANONYMOUS, AUDITOR)),
    "ledger:verify": PortalPage((ANONYMOUS, AUDITOR)),
    "ledger:verifications": PortalPage((AUDITOR,)),
    "ledger:verification": PortalPage((AUDITOR,), lambda world: {"run_id": world["verification"]}),
    "club:person_home": PortalPage((PERSON,)),
    "club:observation_correct": PortalPage((PERSON,), lambda world: {"observation_id": world["observation"]}),
    "club:observation_delete": PortalPage((PERSON,), lambda world: {"observation_id": world["observation"]}),
    "club:member_home": PortalPage((STAFF,)),
    "club:member_detail": PortalPage((STAFF,), lambda world: {"membership_id": world["membership"]}),
    "oauth2_provider:authorize": PortalPage((PERSON,)),  # the consent screen; its query is in the world
}

# Routes that render no page of their own: actions (POST, then a redirect), JSON and downloads.
EXCLUDED: dict[str, str] = {
    "vault:import_status": "JSON polled by the import page",
    "vault:export_download": "POST: a JSON download",
    "vault:export_start": "POST action",
    "vault:export_job_status": "JSON polled by the export page",
    "vault:export_job_download": "JSON download",
    "vault:key_rotation_status": "JSON polled by the key rotation page",
    "ledger:verification_status": "JSON polled by the verification page",
    "metrics": "Prometheus metrics, text for machines",
    "broker:consent_pause": "POST action",
    "broker:consent_resume": "POST action",
    "broker:consent_receipt": "JSON download",
    "broker:partner_client_create": "POST action (renders the console, audited above)",
    "broker:partner_webhook": "POST action",
    "insights:rebuild": "POST action",
    "insights:hide": "POST action",
    "insights:show": "POST action",
    "insights:correct": "POST action",
    "ledger:receipt": "JSON download",
    "accounts:logout": "POST action",
}

# Error pages, as a person meets them: (role, address, status).
ERROR_PAGES = [(ANONYMOUS, "/no-such-page/", 404), (PERSON, "/tracks/not-a-track/", 404), (STAFF, "/dashboard/", 403)]


def portal_url_names() -> set[str]:
    """Every named route of the site that is not a machine endpoint."""
    names: set[str] = set()

    def walk(patterns, namespace: str, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner, route)
            elif isinstance(pattern, URLPattern) and pattern.name:
                name = namespace + pattern.name
                if name == "oauth2_provider:authorize" or not route.startswith(NOT_PORTAL_PREFIXES):
                    names.add(name)

    walk(get_resolver().url_patterns, "", "")
    return names


def test_every_portal_url_is_audited():
    # Plain Python (no browser, no database): it runs on every machine.
    names = portal_url_names()
    assert {"vault:dashboard", "ledger:index", "oauth2_provider:authorize"} <= names, "the walk finds portal pages"
    unlisted = sorted(names - PAGES.keys() - EXCLUDED.keys())
    assert not unlisted, f"portal URLs neither audited nor excluded (add them to PAGES or EXCLUDED): {unlisted}"
    stale = sorted((PAGES.keys() | EXCLUDED.keys()) - names)
    assert not stale, f"listed URLs that no longer exist: {stale}"


# --- the world -------------------------------------------------------------------------------


def build_world() -> dict[str, Any]:
    """The demo world (``manage.py demo``, every step of settings.DEMO_STEPS, which includes
    the auditor ``audrey``), an operator, and a club with an observation about chiara (she
    has a consent in every state)."""
    from accounts.models import User
    from broker.demo import authorize_url
    from broker.models import Consent
    from insights import selectors as insights_selectors
    from ledger import verification
    from vault import exporting
    from vault import selectors as vault_selectors
    from vault.models import ImportJob, Track

    call_command("demo", stdout=io.StringIO())
    assert User.objects.get(username="audrey").role == User.Role.AUDITOR  # the demo's own auditor login
    User.objects.create_user(username="otto", password=PASSWORD, role=User.Role.AUDITOR, is_staff=True)
    person = User.objects.get(username="chiara")
    staff = User.objects.get(username="casaforma")
    partner = staff.partner_memberships.get().partner
    live = Consent.objects.filter(person=person, partner=partner, state=Consent.State.ACTIVE).first()
    requested = Consent.objects.filter(state=Consent.State.REQUESTED).select_related("application").first()
    assert live is not None, "the demo has a live consent"
    assert requested is not None, "the demo has an open consent request"
    operator = User.objects.get(username="otto")
    membership, observation = club_world(operator, partner, live)
    return {
        "membership": membership.uid,
        "observation": observation.id,
        "logins": {PERSON: person.username, STAFF: staff.username, AUDITOR: "audrey", OPERATOR: "otto"},
        "job": ImportJob.objects.filter(owner=person).first().id,
        "track": Track.objects.filter(owner=person).first().id,
        "zone": vault_selectors.zones_of(person)[0]["id"],
        "topic": insights_selectors.interests_of(person)[0]["topic"],
        "consent": live.uid,
        "partner": partner.uid,
        "partner_consent": Consent.objects.filter(partner=partner).exclude(person=None).first().uid,
        "export": exporting.export_start(person=person).id,
        "verification": verification.verification_start().id,
        "authorize": authorize_url(requested, requested.application.redirect_uris.split()[0]),
    }


def club_world(admin, partner, consent) -> tuple[Any, Any]:
    """A club the partner belongs to, and one observation it contributed about the person."""
    from club import services as club

    with transaction.atomic():
        home_life = club.club_create(name="Home Life Club", admins=[admin])
        club.rules_publish(
            club=home_life,
            admin=admin,
            contribute_categories=["furniture", "home"],
            consume_categories=["furniture"],
            reciprocity_min_count=2,
            reciprocity_period_days=30,
        )
        membership = club.member_admit(club=home_life, admin=admin, partner=partner)
        now = timezone.now()
        observation, _ = club.observation_contribute(
            consent=consent,
            club=home_life,
            category="furniture",
            kind="purchase",
            label="Bought a blue sofa",
            observed_at=now - timedelta(hours=1),
            now=now,
        )
    return membership, observation


def address_of(name: str, world: dict[str, Any]) -> str:
    if name == "oauth2_provider:authorize":
        return world["authorize"]
    return reverse(name, kwargs=PAGES[name].kwargs(world))


def pages_by_role(world: dict[str, Any]) -> Iterator[tuple[str, str, str, int]]:
    """(role, label, address, expected status), grouped by role so each logs in once."""
    for role in ROLES:
        for name, page in PAGES.items():
            if role in page.roles:
                yield role, name, address_of(name, world), 200
        for error_role, address, status in ERROR_PAGES:
            if error_role == role:
                yield role, f"error {status}", address, status


# --- axe ---------------------------------------------------------------------------------------


def failing_violations(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [violation for violation in results["violations"] if violation.get("impact") in FAILING_IMPACTS]


def describe(role: str, label: str, address: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"{label} as {role} ({address}):"]
    for violation in violations:
        lines.append(f"  [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:5]:
            lines.append(f"      at {', '.join(map(str, node['target']))}: {node.get('failureSummary', '').strip()}")
            lines.append(f"         {node['html'][:200]}")
        if len(violation["nodes"]) > 5:
            lines.append(f"      ... and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_serious_or_critical_violation_on_any_portal_page(live_server, open_browser):
    from axe_playwright_python.base import AXE_SCRIPT  # axe-core's axe.min.js, shipped in the wheel

    started = time.monotonic()
    world = build_world()
    print(f"\nthe demo world took {time.monotonic() - started:.1f} s")
    reports: list[str] = []
    overflowing: list[str] = []  # pages that scroll sideways on a phone
    audited = 0
    browsers: dict[str, Any] = {}
    for role, label, address, status in pages_by_role(world):
        if role not in browsers:
            browsers[role] = open_browser()
            # axe-core is loaded into every page of this context as it opens, before the page's own scripts.
            browsers[role].context.add_init_script(script=AXE_SCRIPT)
            if role != ANONYMOUS:
                browsers[role].log_in(world["logins"][role], PASSWORD)
        browser = browsers[role]
        if status == 200:
            response = browser.goto(address)
        else:
            with browser.watch.expecting(status, address):
                response = browser.goto(address)
        assert response is not None, f"{label} as {role}: no response"
        assert response.status == status, f"{label} as {role}: HTTP {response.status}, expected {status}"
        for width, violations in audit(browser.page):
            if violations:
                reports.append(describe(role, f"{label} ({width})", address, violations))
                browser.screenshot(f"{role}-{label}-{width}".replace(" ", "-").replace(":", "-"))
        overflow = sideways_overflow(browser.page)
        if overflow:
            overflowing.append(f"{label} as {role} ({address}): {overflow}")
            browser.screenshot(f"{role}-{label}-overflow".replace(" ", "-").replace(":", "-"))
        audited += 1
    print(f"\naxe-core audited {audited} page views, each on a desktop and a phone screen")
    assert audited >= len(PAGES), "every listed page was opened at least once"
    assert not reports, "serious or critical accessibility violations:\n\n" + "\n\n".join(reports)
    assert not overflowing, "pages wider than a phone screen (375 px):\n" + "\n".join(overflowing)
    for browser in browsers.values():
        browser.watch.assert_clean()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("tests.portal.urls_with_errors")  # the site plus a view that fails on purpose
def test_the_500_page_has_no_serious_or_critical_violation(live_server, open_browser):
    from axe_playwright_python.base import AXE_SCRIPT

    browser = open_browser()
    browser.context.add_init_script(script=AXE_SCRIPT)
    with browser.watch.expecting(500, "/boom/"):
        response = browser.goto("/boom/")
    assert response is not None
    assert response.status == 500
    assert "Something went wrong" in browser.page.inner_text("h1")
    reports = [
        describe(ANONYMOUS, f"error 500 ({width})", "/boom/", found) for width, found in audit(browser.page) if found
    ]
    assert not reports, "serious or critical accessibility violations:\n\n" + "\n\n".join(reports)
    assert sideways_overflow(browser.page) is None


def audit(page) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Every rule on the desktop layout, then the layout-dependent rules on a phone screen."""
    yield "desktop", failing_violations(run_axe(page, {"resultTypes": ["violations"]}))
    desktop = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        options = {"resultTypes": ["violations"], "runOnly": {"type": "rule", "values": PHONE_RULES}}
        yield "phone", failing_violations(run_axe(page, options))
    finally:
        page.set_viewport_size(desktop)


# The page's width against the window's, and the widest elements that stick out (a table too
# wide for a phone must scroll inside its own wrapper; the page itself never scrolls sideways).
OVERFLOW_SCRIPT = """() => {
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth <= width) { return null; }
  const name = (element) => element.tagName.toLowerCase() + (element.id ? "#" + element.id : "") +
    (element.classList.length ? "." + [...element.classList].join(".") : "");
  const scrolls = (element) => getComputedStyle(element).overflowX !== "visible";
  const inScroller = (element) => {
    for (let up = element.parentElement; up && up !== document.body; up = up.parentElement) {
      if (scrolls(up)) { return true; }
    }
    return false;
  };
  const wide = (element) => element.getBoundingClientRect().right > width + 1;
  const culprits = [...document.body.querySelectorAll("*")]
    .filter((element) => wide(element) && !inScroller(element))
    .filter((element) => !wide(element.parentElement) || element.parentElement === document.body)
    .slice(0, 5).map((element) => name(element) + " to " + Math.round(element.getBoundingClientRect().right) + " px");
  return document.documentElement.scrollWidth + " px wide; sticking out: " + (culprits.join(", ") || "nothing found");
}"""


def sideways_overflow(page) -> str | None:
    """On a phone screen, why the page scrolls sideways; None when it does not."""
    desktop = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        return page.evaluate(OVERFLOW_SCRIPT)
    finally:
        page.set_viewport_size(desktop)


def run_axe(page, options: dict[str, Any]) -> dict[str, Any]:
    return page.evaluate("options => window.axe.run(document, options)", options)


# A page with one known fault per width: an image without a text alternative (critical), and
# a wide table in a scrolling box that a keyboard cannot reach on a phone (serious).
BROKEN_PAGE = (
    "<!doctype html><html lang='en'><title>Broken</title><main><h1>Broken</h1><img src='data:,'>"
    "<div style='overflow-x: auto'><table>"
    + "<tr><td style='white-space: nowrap'>"
    + "a long cell " * 20
    + "</td></tr>" * 10
    + "</table></div></main></html>"
)


@pytest.mark.browser
def test_the_audit_finds_what_is_broken(chromium):
    from axe_playwright_python.base import AXE_SCRIPT

    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        context.add_init_script(script=AXE_SCRIPT)
        page = context.new_page()
        page.set_content(BROKEN_PAGE)
        found = {width: {violation["id"] for violation in violations} for width, violations in audit(page)}
    finally:
        context.close()
    assert "image-alt" in found["desktop"]
    assert found["phone"] == {"scrollable-region-focusable"}
