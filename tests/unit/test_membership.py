"""党籍异动 and mobile members, pure: which standing change may follow which, a member not in good
standing neither transferred nor registered as mobile, the months away from the rule table, the
receiving side required, and the rule table's v4 upcast."""
from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from services.organizations.membership.commands import ChangeStanding
from services.organizations.membership.domain import change_standing
from services.organizations.mobile.commands import RegisterMobileMember
from services.organizations.mobile.domain import MobileRecord
from services.organizations.registry.commands import TransferMember
from services.organizations.registry.domain import Member
from services.organizations.rules.baseline import NATIONAL_BASELINE
from shared.catalog.base import decode_event
from shared.catalog.organizations import MemberRegistered
from shared.catalog.rules import MobileRules, RulesAdopted
from tests.unit.domain_support import established, folded, refused

TODAY = date(2026, 6, 30)


def zhang() -> Member:
    return folded(Member("zhang-xiuling"), [MemberRegistered(
        member_id="zhang-xiuling", name="张秀玲", gender="female", membership_status="full",
        joined_on=date(2010, 7, 1), branch_id="qiaogang-village")])


def change(kind: str, on: date = date(2026, 1, 5)) -> ChangeStanding:
    return ChangeStanding(member_id="zhang-xiuling", change=kind, changed_on=on, reason="依据", decided_by="镇党委")


def test_standing_transitions():
    member = zhang()
    assert refused(lambda: change_standing(member, change("restored"), today=TODAY)).code == \
        "standing_change_not_allowed"  # nothing to restore
    folded(member, change_standing(member, change("suspended"), today=TODAY))
    assert member.standing == "suspended" and not member.in_good_standing
    [restored] = change_standing(member, change("restored"), today=TODAY)
    assert (restored.standing, restored.previous, restored.branch_id) == ("active", "suspended", "qiaogang-village")
    folded(member, [restored])
    folded(member, change_standing(member, change("deceased"), today=TODAY))
    for kind in ("left", "expelled", "suspended", "restored"):  # a death closes the record
        assert refused(lambda: change_standing(member, change(kind), today=TODAY)).code == \
            "standing_change_not_allowed"
    assert refused(lambda: change_standing(zhang(), change("left", date(2009, 1, 1)), today=TODAY)).code == \
        "before_joining"


def test_a_member_not_in_good_standing_is_neither_transferred_nor_registered_mobile():
    member = zhang()
    folded(member, change_standing(member, change("expelled"), today=TODAY))
    move = TransferMember(member_id=member.id, to_branch_id="qiaogang-community", transferred_on=TODAY)
    to = established("qiaogang-community", name="侨港镇社区党支部")
    assert refused(lambda: member.transfer(move, to_branch=to, today=TODAY)).code == "member_not_in_good_standing"
    away = RegisterMobileMember(member_id=member.id, away_since=date(2025, 1, 1), destination="广东省深圳市",
                                contact="13700000000", receiving_organization="粤海街道党工委", registered_on=TODAY)
    assert refused(lambda: MobileRecord(member.id).register(away, member=member, point=None, rules=MobileRules(),
                                                             today=TODAY)).code == "member_not_in_good_standing"


def test_mobile_registration_needs_the_months_away_and_a_receiving_side():
    member, record = zhang(), MobileRecord("zhang-xiuling")
    cmd = RegisterMobileMember(member_id=member.id, away_since=date(2026, 1, 1), destination="广东省深圳市",
                               contact="13700000000", receiving_organization="粤海街道党工委", registered_on=TODAY)
    assert refused(lambda: record.register(cmd, member=member, point=None, rules=MobileRules(), today=TODAY)).code \
        == "not_away_long_enough"  # five months and 29 days
    assert record.register(cmd, member=member, point=None, rules=MobileRules(min_months_away=3), today=TODAY)
    with pytest.raises(ValidationError):
        RegisterMobileMember(member_id=member.id, away_since=date(2025, 1, 1), destination="广东省深圳市",
                             contact="x", registered_on=TODAY)


def test_rule_table_v4_reads_older_tables_with_six_months():
    stored_v3 = RulesAdopted(table=NATIONAL_BASELINE).model_dump(mode="json")
    del stored_v3["table"]["mobile"]
    assert decode_event("RulesAdopted", 3, stored_v3).table.mobile.min_months_away == 6
