from __future__ import annotations

import hashlib

import pytest

from club import services
from club.errors import AlreadyMember, InvalidRules, InvalidSanction, NotClubAdmin
from club.models import RuleVersion, Sanction, Standing
from club.selectors import membership_for

pytestmark = pytest.mark.django_db


def kinds(entries: list[dict]) -> list[str]:
    return [entry["kind"] for entry in entries]


def test_each_rules_version_is_published_on_the_ledger(club, admin, ledger_entries):
    second = services.rules_publish(
        club=club,
        admin=admin,
        contribute_categories=["furniture"],
        consume_categories=["furniture"],
        reciprocity_min_count=5,
        reciprocity_period_days=7,
        daily_contribution_quota=100,
    )
    assert second.version == 2
    assert club.current_rules() == second
    published = [entry for entry in ledger_entries if entry["kind"] == "club.rules.published"]
    # The recorder is autouse, so it also saw the fixture's version 1.
    assert [entry["body"]["version"] for entry in published] == [1, 2]
    last = published[-1]
    assert last["subject"] == f"club:{club.uid}"
    assert last["body"]["reciprocity"] == {"min_count": 5, "period_days": 7}
    assert last["body"]["quotas"] == {"daily_contributions": 100, "daily_reads": 0}
    assert second.ledger_entry_id == str(last["id"])


def test_rules_published_without_a_k_suppress_cells_below_ten_people(club, ledger_entries):
    rules = club.current_rules()  # HOME_LIFE_RULES name no k
    assert rules.segment_min_people == 10
    (published,) = [entry for entry in ledger_entries if entry["kind"] == "club.rules.published"]
    assert published["body"]["segments"]["min_people"] == 10


def test_only_club_admins_publish_rules(club, person):
    with pytest.raises(NotClubAdmin):
        services.rules_publish(
            club=club,
            admin=person,
            contribute_categories=["furniture"],
            consume_categories=["furniture"],
            reciprocity_min_count=1,
            reciprocity_period_days=1,
        )
    assert RuleVersion.objects.filter(club=club).count() == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"contribute_categories": []},
        {"consume_categories": ["Not A Category"]},
        {"reciprocity_period_days": 0},
        {"reciprocity_min_count": -1},
    ],
)
def test_invalid_rules_are_refused_and_nothing_is_written(club, admin, ledger_entries, overrides):
    before = len(ledger_entries)
    terms = {
        "contribute_categories": ["furniture"],
        "consume_categories": ["furniture"],
        "reciprocity_min_count": 1,
        "reciprocity_period_days": 30,
        **overrides,
    }
    with pytest.raises(InvalidRules):
        services.rules_publish(club=club, admin=admin, **terms)
    assert RuleVersion.objects.filter(club=club).count() == 1
    assert len(ledger_entries) == before


def test_admission_is_on_the_ledger_with_public_ids_only(club, admin, chairs, ledger_entries):
    membership = services.member_admit(club=club, admin=admin, partner=chairs.partner)
    entry = ledger_entries[-1]
    assert entry["kind"] == "club.member.admitted"
    assert entry["subject"] == f"partner:{chairs.partner.uid}"
    assert entry["body"]["membership"] == str(membership.uid)
    assert "Cosy" not in str(entry)
    with pytest.raises(AlreadyMember):
        services.member_admit(club=club, admin=admin, partner=chairs.partner)


def test_only_admins_admit(club, person, chairs):
    with pytest.raises(NotClubAdmin):
        services.member_admit(club=club, admin=person, partner=chairs.partner)


def test_a_sanction_changes_standing_and_the_ledger_holds_the_reason_hash(chairs_member, admin, ledger_entries):
    reason = "Sent the same purchase a thousand times."
    sanction = services.member_sanction(
        membership=chairs_member,
        admin=admin,
        standing=Standing.SUSPENDED,
        reason_code="quota_abuse",
        reason_text=reason,
    )
    chairs_member.refresh_from_db()
    assert chairs_member.standing == Standing.SUSPENDED
    entry = ledger_entries[-1]
    assert entry["kind"] == "club.member.sanctioned"
    assert entry["body"]["standing"] == "suspended"
    assert entry["body"]["reason_code"] == "quota_abuse"
    assert entry["body"]["reason_sha256"] == hashlib.sha256(reason.encode()).hexdigest()
    assert reason not in str(entry)
    assert sanction.ledger_entry_id == str(entry["id"])


def test_a_warning_is_on_the_ledger_and_the_member_is_still_served(club, chairs, chairs_member, admin, ledger_entries):
    services.member_sanction(
        membership=chairs_member,
        admin=admin,
        standing=Standing.WARNED,
        reason_code="quota_abuse",
        reason_text="Slow down.",
    )
    entry = ledger_entries[-1]
    assert (entry["kind"], entry["body"]["standing"]) == ("club.member.sanctioned", "warned")
    assert membership_for(club=club, partner=chairs.partner).standing == Standing.WARNED


@pytest.mark.parametrize(
    ("standing", "reason_code", "reason_text"),
    [("banished", "other", "x"), ("warned", "whim", "x"), ("warned", "other", "   ")],
)
def test_invalid_sanctions_are_refused(chairs_member, admin, standing, reason_code, reason_text):
    with pytest.raises(InvalidSanction):
        services.member_sanction(
            membership=chairs_member, admin=admin, standing=standing, reason_code=reason_code, reason_text=reason_text
        )
    chairs_member.refresh_from_db()
    assert chairs_member.standing == Standing.GOOD
    assert not Sanction.objects.exists()


def test_an_expelled_member_stays_expelled(chairs_member, admin):
    services.member_sanction(
        membership=chairs_member,
        admin=admin,
        standing="expelled",
        reason_code="rule_breach",
        reason_text="Resold data.",
    )
    with pytest.raises(InvalidSanction):
        services.member_sanction(
            membership=chairs_member, admin=admin, standing="good", reason_code="reinstated", reason_text="Sorry."
        )
