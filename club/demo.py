"""The club's part of the demo: a data-sharing club of the three demo partners, their
club consents from the demo people, contributions, a club view (paid, on the ledger)
and some segment queries (k-suppressed, noisy, charged to the member's budget).

Runs after ``broker.demo.populate`` (``world["people"]``, ``world["partners"]``).
Everything goes through the club's and the broker's services and checks, without the
HTTP and token layer (as the broker's demo does). Idempotent: if the club exists, it is
left alone. The demo club's k is 3 (the default is 10): the demo has three people.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any, TextIO

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from broker import access
from broker import services as broker_services
from broker.models import Consent, Partner
from club import segments, selectors, services
from club.models import Club, Membership

CLUB_NAME = "Home & Life Data Club"
ADMIN_USERNAME = "club-admin"
CATEGORIES = ["coffee", "furniture", "home", "insurance"]
SCOPES = ["vault.contribute:write", "club.view:read", "club.segments:aggregate"]
# (partner name, person, category, kind, label, days ago, place)
MILAN = (45.4642, 9.19)
OBSERVATIONS = (
    ("Casa Forma Furniture", "chiara", "furniture", "purchase", "Bought an oak dining table", 20, MILAN),
    ("Casa Forma Furniture", "ada", "furniture", "purchase", "Bought a reading lamp", 3, MILAN),
    ("Casa Forma Furniture", "ben", "furniture", "product_interest", "Looked at sofa beds twice", 2, MILAN),
    ("Casa Forma Furniture", "chiara", "home", "life_event", "Moved house", 21, MILAN),
    ("Aegis Mutual Insurance", "chiara", "insurance", "purchase", "Took out home insurance", 19, MILAN),
    ("Aegis Mutual Insurance", "ada", "insurance", "purchase", "Renewed travel insurance", 4, MILAN),
    ("Aegis Mutual Insurance", "ben", "insurance", "product_interest", "Asked for a bicycle cover quote", 2, None),
    ("Bean & Bloom Coffee", "chiara", "coffee", "purchase", "Bought a bag of Ethiopian beans", 2, MILAN),
    ("Bean & Bloom Coffee", "ada", "coffee", "purchase", "Bought an espresso machine", 3, MILAN),
    ("Bean & Bloom Coffee", "ben", "coffee", "purchase", "Bought oat-milk flat whites", 1, MILAN),
    ("Bean & Bloom Coffee", "ben", "furniture", "product_interest", "Asked where our café chairs come from", 1, MILAN),
)


def _admin() -> User:
    admin = User.objects.filter(username=ADMIN_USERNAME).first()
    if admin is None:
        # Acts only through services: no password, no login.
        admin = User.objects.create_user(username=ADMIN_USERNAME, password=None, is_staff=True)
    return admin


def _club(partners: list[Partner]) -> Club:
    admin = _admin()
    club = services.club_create(name=CLUB_NAME, admins=[admin])
    services.rules_publish(
        club=club,
        admin=admin,
        contribute_categories=CATEGORIES,
        consume_categories=CATEGORIES,
        reciprocity_min_count=1,
        reciprocity_period_days=90,
        price_per_item=Decimal("0.10"),
        person_share_percent=60,
        daily_read_quota=100,
        segment_min_people=3,
        segment_epsilon_per_query=Decimal("1"),
        segment_budget_per_period=Decimal("5"),
    )
    for partner in partners:
        services.member_admit(club=club, admin=admin, partner=partner, reveal_name=partner.name.startswith("Casa"))
    return club


def _club_consent(partner: Partner, person: User) -> Consent:
    now = timezone.now()
    consent = broker_services.consent_request(
        partner=partner,
        application=partner.clients.order_by("created_at").first().application,
        scopes=SCOPES,
        purpose_code="ServicePersonalisation",
        purpose_text=f"Share what {partner.name} sees you buy with the {CLUB_NAME}, and read what its members saw.",
        data_from=now - timedelta(days=365),
        data_to=now + timedelta(days=365),
        frequency_value=50,
        frequency_unit=Consent.FrequencyUnit.DAY,
        data_life_value=6,
        data_life_unit=Consent.DataLifeUnit.MONTH,
        valid_from=now - timedelta(days=60),
        expires_at=now + timedelta(days=365),
    )
    return broker_services.consent_grant(consent=consent, person=person)


def _contribute(club: Club, consents: dict[tuple[str, str], Consent], out: TextIO) -> int:
    now = timezone.now()
    count = 0
    for partner_name, username, category, kind, label, days_ago, place in OBSERVATIONS:
        consent = consents.get((partner_name, username))
        if consent is None:
            continue
        observed_at = now - timedelta(days=days_ago)
        access.check(consent=consent, scopes=["vault.contribute:write"], start=observed_at, end=now, now=now)
        with transaction.atomic():
            services.observation_contribute(
                consent=consent,
                club=club,
                category=category,
                kind=kind,
                label=label,
                observed_at=observed_at,
                now=now,
                place=place,
            )
            access.record_allowed(consent=consent, scope="vault.contribute:write", record_count=1, now=now)
        count += 1
    out.write(f"  club: {count} observations contributed into the people's vaults\n")
    return count


def _club_view(club: Club, consent: Consent, out: TextIO) -> None:
    """A member reads the club view for one person: checked, logged and paid as the API does."""
    now = timezone.now()
    scope = access.check(
        consent=consent, scopes=["club.view:read"], start=consent.data_from, end=consent.data_to, now=now
    )
    membership = selectors.membership_for(club=club, partner=consent.partner)
    rules = selectors.rules_of(club)
    categories = selectors.consumable_categories(membership=membership, rules=rules, requested=None, now=now)
    items = selectors.club_view(
        person=consent.person,
        club=club,
        categories=categories,
        start=consent.data_from,
        end=consent.data_to,
        audience=consent.partner.audience,
    )
    with transaction.atomic():
        access.record_allowed(consent=consent, scope=scope, record_count=len(items), now=now)
        services.read_settle(club=club, rules=rules, reader=membership, person=consent.person, items=items)
    out.write(
        f"  club: {consent.partner.name} read the club view of {consent.person.username}: {len(items)} observations "
        f"in {', '.join(categories)}\n"
    )


def _segment_queries(club: Club, membership: Membership, out: TextIO) -> None:
    now = timezone.now()
    week = segments.week_of(now)
    for categories in (["coffee"], ["coffee", "furniture"]):
        answer = segments.segments_query(
            club=club,
            partner=membership.partner,
            categories=categories,
            week_from=week - timedelta(weeks=3),
            week_to=week,
            epsilon=None,
            now=now,
        )
        out.write(
            f"  club: {membership.partner.name} asked for {', '.join(categories)} over 4 weeks: "
            f"{len(answer.cells)} cells released (k={answer.k}, noise scale {answer.noise_scale:.0f}); "
            f"budget left {answer.budget_left}\n"
        )


def populate(world: dict[str, Any], out: TextIO) -> None:
    partners: list[Partner] = list(world.get("partners") or [])
    people = {person.username: person for person in world.get("people", []) if person.is_person}
    if Club.objects.filter(name=CLUB_NAME).exists():
        out.write(f"  club: {CLUB_NAME} already there\n")
        return
    if {"Casa Forma Furniture", "Bean & Bloom Coffee"} - {partner.name for partner in partners} or not people:
        out.write("  club: skipped (needs the broker's demo partners and the demo people)\n")
        return
    club = _club(partners)
    by_name = {partner.name: partner for partner in partners}
    consents = {
        (name, username): _club_consent(by_name[name], people[username])
        for name in by_name
        for username in sorted(people)
        if not people[username].is_erased
    }
    out.write(f"  club: {CLUB_NAME} with {len(partners)} members; {len(consents)} club consents granted\n")
    _contribute(club, consents, out)
    reader = consents.get(("Bean & Bloom Coffee", "chiara"))
    if reader is not None:
        # Bean & Bloom contributed coffee and furniture: it may read Casa Forma's furniture (paid).
        _club_view(club, reader, out)
    _segment_queries(club, Membership.objects.get(club=club, partner=by_name["Bean & Bloom Coffee"]), out)
