"""Helpers of the pure-domain unit tests: fold events onto an aggregate, catch a refusal, and an
established organization of 银海区 to act on."""
from __future__ import annotations

from datetime import date

import pytest

from services.organizations.registry.domain import Organization
from shared.catalog.organizations import OrganizationEstablished
from shared.errors import DomainError


def folded(agg, events):
    for ev in events:
        agg.apply(ev)
    return agg


def refused(call) -> DomainError:
    with pytest.raises(DomainError) as info:
        call()
    return info.value


def established(org_id: str = "qiaogang-village", org_type: str = "branch", host: str = "village",
                parent: str | None = "qg-committee", township: str | None = "qiaogang",
                name: str = "侨港镇侨港村党支部") -> Organization:
    return folded(Organization(org_id), [OrganizationEstablished(
        organization_id=org_id, name=name, organization_type=org_type, host_unit_type=host, parent_id=parent,
        township_id=township, approved_by="中共银海区委组织部", approved_on=date(2016, 3, 1))])
