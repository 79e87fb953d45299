"""Segment statistics: k-suppression, Laplace noise, the privacy budget, and who counts.

Most tests build facts and enrolments directly (a population of pseudonyms), which is
what the SQL counts; ``test_segments_people.py`` drives the same query from real
consents and contributions."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from club import privacy, segments, services
from club.errors import PrivacyBudgetExhausted
from club.models import BudgetCharge, ContributionTally, SegmentCount, SegmentEnrolment, SegmentFact

pytestmark = pytest.mark.django_db

NO_NOISE = staticmethod(lambda scale, count: [0.0] * count)


def publish(club, admin, **rules):
    terms = {
        "contribute_categories": ["furniture", "insurance", "home"],
        "consume_categories": ["furniture", "insurance"],
        "reciprocity_min_count": 2,
        "reciprocity_period_days": 30,
        "segment_min_people": 10,
        "segment_epsilon_per_query": Decimal("0.5"),
        "segment_budget_per_period": Decimal("1000"),
        **rules,
    }
    return services.rules_publish(club=club, admin=admin, **terms)


@pytest.fixture
def member(club, admin, chairs, chairs_member):
    """Cosy Chairs, qualified (reciprocity) for both shared categories."""
    for category in ("furniture", "insurance"):
        ContributionTally.objects.create(membership=chairs_member, category=category, day=timezone.now(), count=5)
    return chairs_member


def this_week():
    return segments.week_of(timezone.now())


def populate(club, membership, cells: dict[tuple[str, str], int], *, week=None) -> list[str]:
    """``cells[(category, cell)] = people``: that many enrolled pseudonyms, one fact each."""
    week = week or this_week()
    now = timezone.now()
    pseudonyms = []
    for (category, cell), people in cells.items():
        for _ in range(people):
            pseudonym = uuid.uuid4().hex
            add_person(club, membership, pseudonym, [(category, cell)], week=week, now=now)
            pseudonyms.append(pseudonym)
    return pseudonyms


def add_person(club, membership, pseudonym, facts, *, week, now):
    SegmentEnrolment.objects.create(
        club=club,
        membership=membership,
        consent_tag=uuid.uuid4().hex,
        pseudonym=pseudonym,
        counted_from=now - timedelta(days=1),
        counted_until=now + timedelta(days=30),
    )
    segments.facts_store(club=club, pseudonym=pseudonym, facts=[(week, category, cell) for category, cell in facts])


def query(club, membership, noise=privacy.laplace, **overrides):
    terms = {
        "categories": ["furniture"],
        "week_from": this_week(),
        "week_to": this_week(),
        "epsilon": None,
        **overrides,
    }
    return segments.segments_query(club=club, partner=membership.partner, now=timezone.now(), noise=noise, **terms)


def api_query(world, club, **body):
    payload = {"club": str(club.uid), "week_from": this_week().isoformat(), "week_to": this_week().isoformat(), **body}
    return Client().post(
        "/api/v1/club/segments/query",
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=world.basic_auth(),
    )


# --- k-suppression ------------------------------------------------------------------------

populations = st.dictionaries(
    keys=st.tuples(st.sampled_from(["furniture", "insurance"]), st.sampled_from(["", "100:20", "100:21", "101:20"])),
    values=st.integers(min_value=0, max_value=16),
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=populations, k=st.integers(min_value=2, max_value=12), epsilon=st.sampled_from(["0.1", "1", "10"]))
def test_no_released_cell_counts_fewer_than_k_people(club, admin, member, cells, k, epsilon):
    SegmentFact.objects.all().delete()
    SegmentCount.objects.all().delete()
    SegmentEnrolment.objects.all().delete()
    publish(club, admin, segment_min_people=k)
    populate(club, member, cells)
    answer = query(club, member, categories=["furniture", "insurance"], epsilon=Decimal(epsilon))
    assert sorted(segments.true_counts(club=club, query=answer.query)) == sorted(
        segments.recount(club=club, query=answer.query, now=timezone.now())
    )
    for cell in answer.cells:
        true_count = cells[(cell["category"], cell["region"] or "")]
        assert true_count >= k
        assert cell["people"] >= k
    # Nothing is invented: every released cell exists.
    assert {(cell["category"], cell["region"] or "") for cell in answer.cells} <= set(cells)


@given(
    counts=st.lists(st.integers(min_value=0, max_value=50), max_size=30),
    k=st.integers(min_value=2, max_value=20),
    scale=st.floats(min_value=0.01, max_value=100),
)
def test_release_never_shows_a_small_cell_whatever_the_noise(counts, k, scale):
    released = privacy.release(enumerate(counts), k=k, scale=scale)
    for index, noisy in released:
        assert counts[index] >= k
        assert noisy >= k


def test_a_cell_below_k_is_suppressed_and_one_at_k_can_be_released(club, admin, member):
    publish(club, admin, segment_min_people=10)
    populate(club, member, {("furniture", "100:20"): 9, ("furniture", "100:21"): 10})
    answer = query(club, member, noise=NO_NOISE)
    assert [(cell["region"], cell["people"]) for cell in answer.cells] == [("100:21", 10)]


# --- noise and differencing ------------------------------------------------------------


def test_two_queries_differing_by_one_person_cannot_be_subtracted_to_an_exact_answer(club, admin, member):
    """The same cell asked before and after one more person joins it. Without noise every
    difference would be exactly 1 (the person's presence); with it, the differences
    scatter. The small-cell variant: 9 people are never shown, 10 only sometimes."""
    publish(club, admin, segment_min_people=10, segment_epsilon_per_query=Decimal("0.5"))
    populate(club, member, {("furniture", "100:20"): 40})

    def released():
        cells = query(club, member).cells
        return cells[0]["people"] if cells else None

    before = [released() for _ in range(15)]
    populate(club, member, {("furniture", "100:20"): 1})
    after = [released() for _ in range(15)]
    differences = [b - a for a, b in zip(before, after, strict=True)]
    assert sum(1 for difference in differences if difference != 1) >= 5, differences
    assert len(set(before)) > 1  # the same question twice does not get the same answer

    # The exact mechanism with the noise switched off gives the person away: this is
    # what the assertions above rule out.
    exact_before = query(club, member, noise=NO_NOISE).cells[0]["people"]
    assert exact_before == 41
    assert exact_before - 40 == 1


def test_at_the_k_boundary_presence_is_not_revealed_by_a_cell_appearing(club, admin, member):
    publish(club, admin, segment_min_people=10, segment_epsilon_per_query=Decimal("0.5"))
    populate(club, member, {("furniture", "100:20"): 9})
    assert all(query(club, member).cells == [] for _ in range(5))
    populate(club, member, {("furniture", "100:20"): 1})
    shown = [bool(query(club, member).cells) for _ in range(30)]
    # At exactly k the cell is released only when the noise is not negative: random.
    assert any(shown), shown
    assert not all(shown), shown


def test_the_noise_scale_follows_sensitivity_over_epsilon(club, admin, member):
    publish(club, admin)
    populate(club, member, {("furniture", ""): 12})
    weeks = query(
        club, member, categories=["furniture", "insurance"], week_from=this_week() - timedelta(weeks=2), epsilon=None
    )
    assert weeks.query.sensitivity() == 2 * 3
    assert weeks.noise_scale == pytest.approx(6 / 0.5)


def test_laplace_draws_have_the_right_spread():
    draws = privacy.laplace(2.0, 4000)
    mean_abs = sum(abs(draw) for draw in draws) / len(draws)
    # E|X| = b for Laplace(0, b); a loose band that a zero or uniform noise fails.
    assert 1.8 < mean_abs < 2.2
    assert abs(sum(draws) / len(draws)) < 0.2


# --- the privacy budget ---------------------------------------------------------------


def test_the_budget_is_charged_per_query_and_a_spent_budget_refuses(
    club, admin, member, chairs, ledger_entries, django_capture_on_commit_callbacks
):
    publish(club, admin, segment_epsilon_per_query=Decimal("0.4"), segment_budget_per_period=Decimal("1.0"))
    populate(club, member, {("furniture", "100:20"): 12})
    first = api_query(chairs, club, categories=["furniture"])
    assert first.status_code == 200, first.content
    assert Decimal(first.json()["budget_left"]) == Decimal("0.6")
    second = api_query(chairs, club, categories=["furniture"], epsilon="0.6")
    assert second.status_code == 200
    assert Decimal(second.json()["budget_left"]) == Decimal("0")

    refused = api_query(chairs, club, categories=["furniture"], epsilon="0.1")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "PrivacyBudgetExhausted"
    assert int(refused["Retry-After"]) > 0
    assert "cells" not in refused.json()
    assert list(BudgetCharge.objects.order_by("at").values_list("epsilon", flat=True)) == [
        Decimal("0.4"),
        Decimal("0.6"),
    ]
    charged = [entry for entry in ledger_entries if entry["kind"] == "club.budget.charged"]
    assert [entry["body"]["epsilon"] for entry in charged] == ["0.400", "0.600"]
    assert charged[0]["actor"] == chairs.partner.audience
    assert set(charged[0]["body"]) == {
        "club",
        "membership",
        "charge",
        "use",
        "epsilon",
        "period_start",
        "spent_in_period",
        "budget_per_period",
    }


def test_the_budget_renews_in_the_next_period(club, admin, member):
    rules = publish(club, admin, segment_epsilon_per_query=Decimal("1"), segment_budget_per_period=Decimal("1"))
    now = timezone.now()
    privacy.budget_charge(membership=member, rules=rules, epsilon=Decimal("1"), use="segments", now=now)
    with pytest.raises(PrivacyBudgetExhausted):
        privacy.budget_charge(membership=member, rules=rules, epsilon=Decimal("1"), use="segments", now=now)
    _, end = privacy.budget_period(rules, now)
    assert privacy.budget_charge(membership=member, rules=rules, epsilon=Decimal("1"), use="segments", now=end)


def test_a_query_asking_more_than_is_left_is_refused_without_charge(club, admin, chairs, member):
    publish(club, admin, segment_epsilon_per_query=Decimal("0.5"), segment_budget_per_period=Decimal("1"))
    response = api_query(chairs, club, categories=["furniture"], epsilon="1.5")
    assert response.status_code == 429
    assert not BudgetCharge.objects.exists()


# --- who may ask ----------------------------------------------------------------------


def test_a_suspended_member_is_refused_and_not_charged(club, admin, chairs, member):
    populate(club, member, {("furniture", ""): 12})
    services.member_sanction(
        membership=member, admin=admin, standing="suspended", reason_code="rule_breach", reason_text="Scraping."
    )
    response = api_query(chairs, club, categories=["furniture"])
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "MemberSuspended"
    assert not BudgetCharge.objects.exists()


def test_an_outsider_firm_is_refused(club, outsider, member):
    response = api_query(outsider, club, categories=["furniture"])
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "NotClubMember"


def test_it_needs_client_authentication(club, member):
    response = Client().post(
        "/api/v1/club/segments/query", json.dumps({"club": str(club.uid)}), content_type="application/json"
    )
    assert response.status_code == 401


def test_reciprocity_applies_to_statistics(club, insurer, insurer_member):
    response = api_query(insurer, club, categories=["furniture"])
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "ReciprocityRequired"


@pytest.mark.parametrize(
    "body",
    [
        {"week_from": "2026-13-01"},
        {"categories": "furniture"},
        {"epsilon": "-1"},
        {"week_from": "2020-01-06"},  # more than 13 weeks
    ],
)
def test_bad_input_gets_a_clear_error_and_no_charge(club, chairs, member, body):
    response = api_query(chairs, club, **body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidSegmentQuery"
    assert not BudgetCharge.objects.exists()


def test_future_weeks_are_refused(club, chairs, member):
    later = (this_week() + timedelta(weeks=2)).isoformat()
    response = api_query(chairs, club, week_to=later)
    assert response.json()["error"]["code"] == "InvalidSegmentQuery"


def test_the_answer_names_regions_and_weeks_not_people(club, admin, chairs, member):
    publish(club, admin, segment_min_people=10)
    pseudonyms = populate(club, member, {("furniture", "398:77"): 30})
    response = api_query(chairs, club, categories=["furniture"], epsilon="10")
    assert response.status_code == 200
    body = response.json()
    assert body["k"] == 10
    assert body["sensitivity"] == 1
    (cell,) = body["cells"]
    assert cell["region"] == "398:77"
    assert cell["week"] == this_week().isoformat()
    assert 35 < cell["region_centre"]["lat"] < 37
    assert not any(pseudonym in response.content.decode() for pseudonym in pseudonyms)
