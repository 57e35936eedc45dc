"""Rules of mobile members (流动党员) and service points, pure. A member's mobile record: away recorded
→ registered as mobile (after the rule table's months away, with a receiving organization or an open
service point) → returned. The member stays in their branch (双重管理): nothing here moves the
relationship; a transfer is the registry's."""
from __future__ import annotations

from datetime import date

from shared.aggregate import Aggregate
from shared.catalog import mobile as ev
from shared.catalog.base import DomainEvent
from shared.catalog.rules import MobileRules
from shared.errors import conflict, invalid, not_found
from services.organizations.lifecycle.elections import add_months
from services.organizations.mobile.commands import (CloseServicePoint, RecordMemberAway, RecordMemberReturn,
                                                    RegisterMobileMember, RegisterServicePoint)
from services.organizations.registry.domain import Member, check_not_future


class MobileRecord(Aggregate):
    context, aggregate_type = "org", "mobile"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.status: str | None = None  # away / mobile / returned
        self.away_since: date | None = None

    def apply(self, event: DomainEvent) -> None:
        self.mark_exists()
        if isinstance(event, ev.MemberAwayRecorded):
            self.status, self.away_since = "away", event.away_since
        elif isinstance(event, ev.MobileMemberRegistered):
            self.status, self.away_since = "mobile", event.away_since
        elif isinstance(event, ev.MobileMemberReturned):
            self.status = "returned"

    def record_away(self, cmd: RecordMemberAway, *, member: Member, today: date) -> list[DomainEvent]:
        check_member_in_good_standing(member)
        if self.status in ("away", "mobile"):
            raise conflict("already_away", "该党员已登记外出 / the member is already recorded as away")
        check_not_future(cmd.away_since, today, "away_since", "外出日期", "date away")
        assert member.branch_id is not None
        return [ev.MemberAwayRecorded(member_id=member.id, away_since=cmd.away_since, destination=cmd.destination,
                                      branch_id=member.branch_id)]

    def register(self, cmd: RegisterMobileMember, *, member: Member, point: ServicePoint | None, rules: MobileRules,
                 today: date) -> list[DomainEvent]:
        check_member_in_good_standing(member)
        if self.status == "mobile":
            raise conflict("already_mobile", "该党员已登记为流动党员 / the member is already registered as mobile")
        check_not_future(cmd.registered_on, today, "registered_on", "登记日期", "registration date")
        if cmd.registered_on < add_months(cmd.away_since, rules.min_months_away):
            raise invalid("not_away_long_enough", "away_since",
                          f"外出不满{rules.min_months_away}个月，不登记为流动党员 / away for less than "
                          f"{rules.min_months_away} months: not a mobile member")
        if cmd.service_point_id is not None:
            check_service_point_open(point, cmd.registered_on)
        assert member.branch_id is not None
        return [ev.MobileMemberRegistered(
            member_id=member.id, away_since=cmd.away_since, destination=cmd.destination, contact=cmd.contact,
            receiving_organization=cmd.receiving_organization, service_point_id=cmd.service_point_id,
            registered_on=cmd.registered_on, branch_id=member.branch_id)]

    def record_return(self, cmd: RecordMemberReturn, *, today: date) -> list[DomainEvent]:
        if self.status not in ("away", "mobile"):
            raise conflict("not_away", "该党员未登记外出 / the member is not recorded as away")
        check_not_future(cmd.returned_on, today, "returned_on", "返回日期", "date back")
        assert self.away_since is not None
        if cmd.returned_on < self.away_since:
            raise invalid("returned_before_leaving", "returned_on", f"返回日期早于外出日期（{self.away_since}） / "
                                                                     f"back before leaving")
        return [ev.MobileMemberReturned(member_id=self.id, returned_on=cmd.returned_on)]


class ServicePoint(Aggregate):
    context, aggregate_type = "org", "service_point"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.name: str | None = None
        self.opened_on: date | None = None
        self.closed_on: date | None = None

    def apply(self, event: DomainEvent) -> None:
        self.mark_exists()
        if isinstance(event, ev.ServicePointRegistered):
            self.name, self.opened_on = event.name, event.opened_on
        elif isinstance(event, ev.ServicePointClosed):
            self.closed_on = event.closed_on

    def register(self, cmd: RegisterServicePoint, *, today: date) -> list[DomainEvent]:
        if self.exists:
            raise conflict("service_point_exists", f"服务站点 {self.id} 已登记 / service point already registered")
        check_not_future(cmd.opened_on, today, "opened_on", "设立日期", "opening date")
        return [ev.ServicePointRegistered(service_point_id=self.id, name=cmd.name, location=cmd.location,
                                          host=cmd.host, contact=cmd.contact, opened_on=cmd.opened_on)]

    def close(self, cmd: CloseServicePoint, *, today: date) -> list[DomainEvent]:
        check_service_point_open(self, cmd.closed_on)
        check_not_future(cmd.closed_on, today, "closed_on", "撤销日期", "closing date")
        assert self.opened_on is not None
        if cmd.closed_on < self.opened_on:
            raise invalid("closed_before_opening", "closed_on", "撤销日期早于设立日期 / closed before it opened")
        return [ev.ServicePointClosed(service_point_id=self.id, closed_on=cmd.closed_on, reason=cmd.reason)]


def check_member_in_good_standing(member: Member) -> None:
    if not member.exists:
        raise not_found("member_not_found", f"党员 {member.id} 不存在于本县 / member not found in this county",
                        "member_id")
    if not member.in_good_standing:
        raise conflict("member_not_in_good_standing", "该党员党籍状态不正常 / the member is not in good standing")


def check_service_point_open(point: ServicePoint | None, on: date) -> None:
    if point is None or not point.exists:
        raise not_found("service_point_not_found", "服务站点不存在于本县 / service point not found in this county",
                        "service_point_id")
    if point.closed_on is not None and point.closed_on <= on:
        raise conflict("service_point_closed", f"服务站点已于 {point.closed_on} 撤销 / the service point is closed")
