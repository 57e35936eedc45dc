"""The notifications domain (pure): notification ids, rule settings in force, who sees what, which
subscription receives what, and the subscription aggregate with its named checks."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shared.aggregate import Aggregate
from shared.catalog.base import DomainEvent
from shared.catalog.notifications import (Filters, NotificationRulesAdopted, NotificationsRead, SubscriptionChanged,
                                          SubscriptionCreated, SubscriptionDisabled, SubscriptionRemoved,
                                          SubscriptionSecretRotated)
from shared.errors import DomainError, FieldError

COUNTY_WIDE = frozenset({"platform_admin", "county_admin", "auditor"})
DEFAULT_SETTINGS = NotificationRulesAdopted(effective_from=date(2000, 1, 1))
OPT_IN = frozenset({"member_star_changed"})


def notification_id(county: str, kind: str, key: str) -> str:
    """The same rule on the same cause (an event id, or a condition + period) always gives the same id,
    so deciding it again anywhere is refused by the log rather than issued twice."""
    return "n" + hashlib.sha256(f"{county}|{kind}|{key}".encode()).hexdigest()[:31]


@dataclass
class RuleSettings:
    """The county's rule settings, each version from its effective date."""

    versions: list[NotificationRulesAdopted] = field(default_factory=list)

    def in_force(self, day: date) -> NotificationRulesAdopted:
        valid = [v for v in self.versions if v.effective_from <= day]
        return max(valid, key=lambda v: v.effective_from) if valid else DEFAULT_SETTINGS

    def enabled(self, kind: str, day: date) -> bool:
        current = self.in_force(day)
        if kind in OPT_IN:
            return current.member_stars and kind not in current.kinds_off
        return kind not in current.kinds_off


def visible_to(role: str, township: str | None, branch: str | None,
               township_id: str | None, organization_id: str | None) -> bool:
    """A token's scope: the county department and auditors see the county; a township operator what
    concerns their township; a branch secretary what concerns their branch."""
    if role in COUNTY_WIDE:
        return True
    if role == "township_operator":
        return township_id is not None and township_id == township
    if role == "branch_secretary":
        return organization_id is not None and organization_id == branch
    return False


def matches(filters: dict[str, Any], owner_township: str | None, owner_organization: str | None,
            n: dict[str, Any]) -> bool:
    """Does a subscription (its filters and the owner's scope) receive notification `n`?"""
    if owner_township and n.get("township_id") != owner_township:
        return False
    if owner_organization and n.get("organization_id") != owner_organization:
        return False
    for key, value in (("township_ids", "township_id"), ("organization_ids", "organization_id"),
                       ("severities", "severity"), ("kinds", "kind")):
        if filters.get(key) and n.get(value) not in filters[key]:
            return False
    return True


class Subscription(Aggregate):
    context, aggregate_type = "notifications", "subscription"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.removed = False
        self.owner_township_id: str | None = None
        self.owner_organization_id: str | None = None
        self.channel: str | None = None
        self.secret_sealed: str | None = None

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, SubscriptionCreated):
            self.mark_exists()
            self.channel, self.secret_sealed = event.channel, event.secret_sealed
            self.owner_township_id, self.owner_organization_id = event.owner_township_id, event.owner_organization_id
        elif isinstance(event, SubscriptionSecretRotated):
            self.secret_sealed = event.secret_sealed
        elif isinstance(event, SubscriptionRemoved):
            self.removed = True

    def check_exists(self) -> None:
        if not self.exists:
            raise DomainError("not_found", f"订阅 {self.id} 不存在 / subscription {self.id} does not exist", 404)
        if self.removed:
            raise DomainError("subscription_removed", f"订阅 {self.id} 已删除 / subscription {self.id} was removed", 409)

    def check_owned_by(self, role: str, township: str | None, branch: str | None) -> None:
        """A township operator changes only their township's subscriptions, a secretary only their branch's."""
        if role in COUNTY_WIDE:
            return
        if (role == "township_operator" and self.owner_township_id == township) or \
                (role == "branch_secretary" and self.owner_organization_id == branch):
            return
        raise DomainError("forbidden", "无权修改该订阅 / this subscription is outside your scope", 403)

    def create(self, event: SubscriptionCreated) -> list[DomainEvent]:
        if self.exists:
            raise DomainError("conflict", f"订阅 {self.id} 已存在 / subscription {self.id} already exists", 409,
                              [FieldError("subscription_id", "already exists")])
        return [event]

    def change(self, event: SubscriptionChanged | SubscriptionSecretRotated | SubscriptionRemoved) -> list[DomainEvent]:
        self.check_exists()
        return [event]

    def disable(self, reason: str) -> list[DomainEvent]:
        return [] if self.removed else [SubscriptionDisabled(subscription_id=self.id, reason=reason)]


class Reader(Aggregate):
    """One user's read marks (a fold is not needed to decide: marking read is always allowed)."""

    context, aggregate_type = "notifications", "reader"

    def apply(self, event: DomainEvent) -> None:
        self.mark_exists()

    def mark(self, event: NotificationsRead) -> list[DomainEvent]:
        return [event]


class RuleSettingsAggregate(Aggregate):
    """The county's notification rule settings: any version may be adopted (each from its date)."""

    context, aggregate_type = "notifications", "settings"

    def apply(self, event: DomainEvent) -> None:
        self.mark_exists()


def check_filters_in_scope(role: str, township: str | None, branch: str | None, filters: Filters) -> None:
    """A township operator narrows only to their township; a branch secretary only to their branch."""
    if role in COUNTY_WIDE:
        return
    if role == "township_operator" and set(filters.township_ids) <= {township}:
        return
    if role == "branch_secretary" and not filters.township_ids and set(filters.organization_ids) <= {branch}:
        return
    raise DomainError("forbidden", "订阅范围超出权限 / the filters name townships or organizations outside your scope", 403,
                      [FieldError("filters", "outside your scope")])


def scoped_filters(role: str, township: str | None, branch: str | None) -> tuple[str | None, str | None]:
    """The owner scope a new subscription is bound to (None, None for the county department)."""
    if role == "township_operator":
        return township, None
    if role == "branch_secretary":
        return None, branch
    return None, None


__all__ = ["Filters", "RuleSettings", "Subscription", "Reader", "notification_id", "visible_to", "matches"]
