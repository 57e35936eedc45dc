"""Rules of 党籍异动, pure: which change may follow which standing, and its date. The member is the
registry's aggregate; the event is the registry's (shared/catalog/membership.py).

Transitions: a member in good standing may die, leave, be expelled or suspended; a suspended member may
be restored (恢复党籍), or die, leave or be expelled; an expulsion may be revoked (restored, e.g. on
review). Death, leaving and a cancelled probation end the record."""
from __future__ import annotations

from datetime import date

from shared.catalog.base import DomainEvent
from shared.catalog.membership import MemberStandingChanged
from shared.errors import conflict, invalid, not_found
from services.organizations.membership.commands import ChangeStanding
from services.organizations.registry.domain import Member, check_not_future

NEW_STANDING = {"deceased": "deceased", "left": "left", "expelled": "expelled", "suspended": "suspended",
                "restored": "active"}
ALLOWED_FROM = {"deceased": {"active", "suspended"}, "left": {"active", "suspended"},
                "expelled": {"active", "suspended"}, "suspended": {"active"}, "restored": {"suspended", "expelled"}}
STANDING_ZH = {"active": "正常", "deceased": "已去世", "left": "已出党", "expelled": "已开除党籍",
               "suspended": "停止党籍", "cancelled": "已取消预备党员资格"}
# 开除、停止、恢复党籍 are decisions of Party organizations above the branch
UPPER_DECISIONS = frozenset({"expelled", "suspended", "restored"})


def change_standing(member: Member, cmd: ChangeStanding, *, today: date) -> list[DomainEvent]:
    check_member_exists(member)
    check_change_allowed(member, cmd.change)
    check_not_future(cmd.changed_on, today, "changed_on", "异动日期", "date")
    assert member.joined_on is not None
    if cmd.changed_on < member.joined_on:
        raise invalid("before_joining", "changed_on", f"异动日期早于入党日期（{member.joined_on}） / the date is "
                                                      f"before the member joined")
    return [MemberStandingChanged(member_id=member.id, standing=NEW_STANDING[cmd.change], previous=member.standing,
                                  changed_on=cmd.changed_on, reason=cmd.reason, decided_by=cmd.decided_by,
                                  branch_id=member.branch_id)]


def check_member_exists(member: Member) -> None:
    if not member.exists:
        raise not_found("member_not_found", f"党员 {member.id} 不存在于本县 / member not found in this county",
                        "member_id")


def check_change_allowed(member: Member, change: str) -> None:
    if member.standing not in ALLOWED_FROM[change]:
        raise conflict("standing_change_not_allowed",
                       f"党籍状态为“{STANDING_ZH.get(member.standing, member.standing)}”，不能登记此异动 / a member "
                       f"whose standing is {member.standing} cannot be recorded as {change}")
