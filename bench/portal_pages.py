"""Server time of every portal page on the demo data, per role.

    .venv/bin/python bench/portal_pages.py [--repeat 10] [--target-ms 300]

Builds the demo world (``manage.py demo``) in a throw-away SQLite database under a temp
directory (``config.settings.test`` without DATABASE_URL: nothing shared is touched), adds
an auditor and an operator (Eidetic staff), and one of each background job (an export per
person, a ledger verification, a key rotation) so that their pages exist.

Then every URL pattern of the portal is enumerated from the URL resolver (the API, OAuth,
admin and schema routes are left out: they have their own benches; the one OAuth page a
person sees, the consent screen, is timed too, for one of the demo's open requests), its parameters are
filled with real ids from the demo, and each page is requested by each role signed in
(a demo person, partner staff, the auditor, the operator, and an anonymous visitor)
in-process with Django's test client. A page a role may not open (302 to the login page,
403, 404) is skipped for that role; any 5xx, or a page no role can open, fails loudly.
POST-only routes (the answer to GET is 405) are listed as such.

For each (role, page): median and max server time of ``--repeat`` requests and the number
of SQL queries of one request; the baseline is ``/health/live`` measured the same way in
the same run. Exit status 1 if a page errors or any median exceeds the target.
Tests never assert times; this script only reports.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
# A throw-away SQLite world: never the shared PostgreSQL servers.
for name in ("DATABASE_URL", "KEYS_DATABASE_URL", "REDIS_URL"):
    os.environ.pop(name, None)

EXCLUDED_PREFIXES = ("api/", "oauth/", "admin/", ".well-known/", "health/", "metrics", "o/")
PASSWORD = "eidetic-demo"  # noqa: S105 - the documented demo password


@dataclass
class Measure:
    role: str
    route: str
    url: str
    median_ms: float
    max_ms: float
    cpu_ms: float
    queries: int


def build_world() -> dict:
    import logging

    from django.core.management import call_command

    logging.disable(logging.WARNING)  # eager Celery logs every task at INFO
    for alias in ("default", "keys"):
        call_command("migrate", database=alias, verbosity=0)
    started = time.perf_counter()
    call_command("demo", stdout=open(os.devnull, "w"))  # noqa: SIM115 - closed at exit
    print(f"demo world built in {time.perf_counter() - started:.1f} s")
    return add_jobs_and_roles()


def add_jobs_and_roles() -> dict:
    from django.db import transaction

    from accounts.models import User
    from ledger import services as ledger_services
    from ledger import verification
    from vault import exporting, rotation

    auditor = User.objects.create_user(username="audra", password=PASSWORD, role=User.Role.AUDITOR)
    operator = User.objects.create_user(username="ops", password=PASSWORD, role=User.Role.AUDITOR, is_staff=True)
    ledger_services.sequence_pending()
    if ledger_services.maybe_sign_checkpoint() is None:
        ledger_services.sign_checkpoint()
    people = list(User.objects.filter(role=User.Role.PERSON, is_active=True))
    with transaction.atomic():
        for person in people:
            exporting.export_start(person=person)
        verification.verification_start()
        rotation.rotation_start(user=operator)
    return {"auditor": auditor, "operator": operator, "people": people}


def ids_for(user) -> dict[str, str]:
    """Real ids the user's pages take, by URL parameter (and route for job ids)."""
    from django.apps import apps

    from broker import selectors as broker_selectors
    from ledger import selectors as ledger_selectors
    from ledger.models import Entry, VerificationRun
    from vault.models import ExportJob, ImportJob, KeyRotation, PrivacyZone, Track

    def first(queryset, field: str = "pk") -> str | None:
        value = queryset.values_list(field, flat=True).first()
        return None if value is None else str(value)

    ids: dict[str, str | None] = {
        "track_id": first(Track.objects.filter(owner=user)),
        "zone_id": first(PrivacyZone.objects.filter(owner=user)),
        "vault:import_detail": first(ImportJob.objects.filter(owner=user)),
        "vault:export_job": first(ExportJob.objects.filter(owner=user)),
        "vault:key_rotation_status": first(KeyRotation.objects.all()),
        "run_id": first(VerificationRun.objects.all()),
        "seq": str(max(ledger_selectors.sequenced_size() - 1, 0)),
        "entry_id": first(Entry.objects.order_by("-seq"), "id"),
    }
    ids["vault:import_status"] = ids["vault:import_detail"]
    for name in ("vault:export_job_status", "vault:export_job_download"):
        ids[name] = ids["vault:export_job"]
    consents = broker_selectors.consents_of_person(person=user) if user and user.is_person else []
    ids["consent_id"] = str(consents[0].uid) if consents else None
    if user is not None and user.role == "partner_staff":
        partner = broker_selectors.partners_of_staff(user=user).first()
        ids["partner_id"] = str(partner.uid) if partner else None
        partner_consents = broker_selectors.consents_of_partner(partner=partner) if partner else []
        ids["consent_id"] = str(partner_consents[0].consent_id) if partner_consents else None
    if apps.is_installed("insights") and user is not None and user.is_person:
        from insights import selectors as insights_selectors

        interests = insights_selectors.interests_of(user)
        ids["topic_id"] = interests[0]["topic"] if interests else None
    if apps.is_installed("club") and user is not None:
        ids.update(club_ids(user))
    return {key: value for key, value in ids.items() if value is not None}


def club_ids(user) -> dict[str, str | None]:
    """The data club's pages: her own observation, the staff member's membership."""
    from club import portal_queries
    from club.models import Observation

    if user.is_person:
        return {
            "observation_id": next(
                (str(o) for o in Observation.objects.filter(owner=user).values_list("id", flat=True)[:1]), None
            )
        }
    if user.role == "partner_staff":
        memberships = portal_queries.memberships_of_staff(user)
        return {"membership_id": str(memberships[0].uid) if memberships else None}
    return {}


def portal_routes() -> list[tuple[str, str, list[str]]]:
    """(view name, route with <converter:name> placeholders, parameter names) of every portal URL."""
    from django.urls import URLPattern, URLResolver, get_resolver

    routes: list[tuple[str, str, list[str]]] = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            text = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, text, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                if text.startswith(EXCLUDED_PREFIXES) or "^" in text:
                    continue
                routes.append((namespace + pattern.name, text, re.findall(r"<(?:\w+:)?(\w+)>", text)))

    walk(get_resolver().url_patterns, "", "")
    return routes


def fill(view_name: str, route: str, params: list[str], ids: dict[str, str]) -> str | None:
    values = {}
    for param in params:
        value = ids.get(view_name) if param in ("job_id",) else ids.get(param)
        if value is None:
            return None
        values[param] = value
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda match: values[match.group(1)], route)


def timed(client, url: str, repeat: int) -> tuple[float, float, float, int, int]:
    """(median wall ms, max wall ms, median CPU ms, SQL queries of one request, status).

    CPU time (``time.process_time``: this process, SQLite included, as it runs in-process)
    is printed beside wall time because other engineers' suites share the 2 cores."""
    from django.db import connections

    count = {"queries": 0}

    def counting(execute, sql, params, many, context):
        count["queries"] += 1
        return execute(sql, params, many, context)

    with connections["default"].execute_wrapper(counting), connections["keys"].execute_wrapper(counting):
        status = client.get(url).status_code
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        client.get(url)
        cpus.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    return statistics.median(walls), max(walls), statistics.median(cpus), count["queries"], status


def consent_screen_url() -> str | None:
    """The consent screen (``/oauth/authorize/``, outside the enumerated routes) for one of
    the demo's open requests, as its partner would send a person there."""
    from broker.demo import authorize_url
    from broker.models import Consent

    consent = (
        Consent.objects.filter(state=Consent.State.REQUESTED, person=None, addressee=None)
        .select_related("application")
        .first()
    )
    if consent is None:
        return None
    return authorize_url(consent, consent.application.redirect_uris.split()[0])


def clients(world: dict) -> dict[str, object]:
    from django.test import Client

    from accounts.models import User

    def signed_in(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    person = User.objects.get(username="chiara")
    staff = User.objects.filter(role=User.Role.PARTNER_STAFF, is_active=True).order_by("username").first()
    return {
        "person (chiara)": (signed_in(person), person),
        f"partner staff ({staff.username})": (signed_in(staff), staff),
        "auditor": (signed_in(world["auditor"]), world["auditor"]),
        "operator": (signed_in(world["operator"]), world["operator"]),
        "anonymous": (Client(), None),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--target-ms", type=float, default=300.0)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"database: SQLite under {settings.DATA_DIR} (throw-away); DEBUG={settings.DEBUG}")
    world = build_world()
    baseline, baseline_max, baseline_cpu, _, _ = timed(Client(), "/health/live", args.repeat * 3)
    print(
        f"baseline 1, /health/live (no template, no query): median {baseline:.1f} ms, max {baseline_max:.1f} ms, "
        f"cpu {baseline_cpu:.1f} ms"
    )
    page, page_max, page_cpu, _, _ = timed(Client(), "/accounts/login/", args.repeat * 3)
    print(
        f"baseline 2, /accounts/login/ (the layout and a form, no query): median {page:.1f} ms, max {page_max:.1f} ms, "
        f"cpu {page_cpu:.1f} ms\n"
    )

    routes = portal_routes()
    measures: list[Measure] = []
    errors: list[str] = []
    opened: set[str] = set()
    post_only: set[str] = set()
    redirects: set[str] = set()
    unfilled: set[str] = set()  # routes whose ids this role has no object for

    def measure(role: str, name: str, client, url: str) -> None:
        """Time one page for one role, keep the figures and print their row."""
        median, most, cpu, queries, _ = timed(client, url, args.repeat)
        measures.append(Measure(role, name, url, median, most, cpu, queries))
        flag = "  SLOW" if median > args.target_ms else ""
        print(
            f"{role:<26} {name:<34} {median:>6.1f}ms {most:>6.1f}ms {cpu:>6.1f}ms {queries:>7} "
            f"{median / page:>6.1f}x{flag}"
        )

    print(f"{'role':<26} {'page':<34} {'median':>8} {'max':>8} {'cpu':>8} {'queries':>7} {'x login':>7}")
    signed_in = clients(world)
    for role, (client, user) in signed_in.items():
        ids = ids_for(user)
        for view_name, route, params in routes:
            url = fill(view_name, route, params, ids)
            if url is None:
                unfilled.add(view_name)
                continue
            response = client.get(url)
            if response.status_code >= 500:
                errors.append(f"{role}: {url} answered {response.status_code}")
                continue
            if response.status_code == 405:
                post_only.add(view_name)
                continue
            if response.status_code == 302 and "/accounts/login/" not in response["Location"]:
                redirects.add(view_name)
            if response.status_code != 200:
                continue
            opened.add(view_name)
            measure(role, view_name, client, url)
    screen = consent_screen_url()
    person_role = next(role for role in signed_in if role.startswith("person"))
    person_client = signed_in[person_role][0]
    if screen is None or person_client.get(screen).status_code != 200:
        errors.append(f"the consent screen did not open for the demo person: {screen}")
    else:
        measure(person_role, "consent screen (oauth/authorize)", person_client, screen)
    never = sorted({name for name, _, _ in routes} - opened - post_only - redirects)
    if redirects:
        print(f"\nroutes that redirect once signed in (not timed): {', '.join(sorted(redirects))}")
    print(f"\nPOST-only routes (405 to GET, not timed): {', '.join(sorted(post_only))}")
    without_objects = [name for name in never if name in unfilled and not any(name == m.route for m in measures)]
    if without_objects:
        print(f"routes not measured, the demo world has no object for them: {', '.join(without_objects)}")
    never = [name for name in never if name not in without_objects]
    if never:
        errors.append(f"routes no role could open with the demo ids: {', '.join(never)}")
    slow = [m for m in measures if m.median_ms > args.target_ms]
    worst = max(measures, key=lambda m: m.median_ms)
    print(
        f"\n{len(measures)} (role, page) pairs over {len(opened)} routes; "
        f"slowest median {worst.median_ms:.1f} ms ({worst.role}, {worst.route}); "
        f"slowest single request {max(m.max_ms for m in measures):.1f} ms; "
        f"target {args.target_ms:.0f} ms: {'met' if not slow else f'{len(slow)} pages over'}"
    )
    for error in errors:
        print(f"ERROR {error}")
    return 1 if errors or slow else 0


if __name__ == "__main__":
    sys.exit(main())
