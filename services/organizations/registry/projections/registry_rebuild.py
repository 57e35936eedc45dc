"""The registry's rebuild fold: organizations in memory for the whole replay, members inserted as they come.

The live fold (registry.apply) folds a lifecycle event or a transfer of a row that an earlier batch wrote
with a statement of its own (a select of the organization, an update of the member), and writes every
batch with upserts: over a replay those per-event statements cost more than the rest of the fold. Here the
organizations (a few thousand per county, rewritten by their lifecycle events) stay in memory and are
written once at the end; member rows (tens of thousands, each written by its registration) go to the
table batch by batch in multi-row upserts, and transfers of members of earlier batches in one
executemany update per batch (docs/decisions/007-rebuild-fold.md).

The result equals the live fold's whatever the batches: a registration replaces the whole row and a
transfer changes its branch, in log order (the earlier batches' transfers are applied before this
batch's rows are written, so a transfer never reaches a later registration).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.engine import Connection

from services.organizations.registry.projections.registry_rows import (LIFECYCLE, MEMBER_COLUMNS, lifecycle_changes,
                                                                       member_values, organization_row,
                                                                       standing_row)
from shared.catalog.membership import MembershipStatusChanged, MemberStandingChanged
from shared.catalog.organizations import (CountyAdded, MemberRegistered, MemberTransferred, OrganizationEstablished,
                                          TownshipAdded)
from shared.db import ListInsert, insert_rows
from shared.envelope import StoredEvent

_BRANCH = MEMBER_COLUMNS.index("branch_id")
_STATUS = MEMBER_COLUMNS.index("membership_status")


class RegistryRebuild:
    """Folds a replayed county log into a RegistryProjection's fresh, empty tables."""

    def __init__(self, p: Any, conn: Connection, county: str):  # p: the RegistryProjection whose fresh tables fill
        self.p, self.conn, self.county = p, conn, county
        self.counties: dict[str, dict] = {}
        self.townships: dict[str, dict] = {}
        self.orgs: dict[str, dict] = {}
        self.standings: dict[str, dict] = {}  # 党籍异动: few, written once at the end
        self._upsert_members = ListInsert(conn, p.members, MEMBER_COLUMNS, keys=("county", "member_id"))
        # nothing reads by the member index during the replay: built once at the end
        self._indexes = list(p.members.indexes)
        with conn.begin():
            for ix in self._indexes:
                ix.drop(conn)
        m = p.members.c
        self._transfer = p.members.update().where(m.county == bindparam("k_county"),
                                                  m.member_id == bindparam("k_member")) \
            .values(branch_id=bindparam("k_branch"))
        self._status = p.members.update().where(m.county == bindparam("k_county"),
                                                m.member_id == bindparam("k_member")) \
            .values(membership_status=bindparam("k_status"))

    def fold(self, events: Iterable[StoredEvent]) -> Callable[[], None]:
        county, orgs = self.county, self.orgs
        members: dict[str, list] = {}
        moved: list[dict] = []  # transfers of members that earlier batches wrote, in log order
        flagged: list[dict] = []  # 转正 of members that earlier batches wrote
        for ev in events:
            e = ev.event
            if isinstance(e, MemberRegistered):
                members[e.member_id] = member_values(county, ev)
            elif isinstance(e, MemberTransferred):
                member = members.get(e.member_id)
                if member is not None:
                    member[_BRANCH] = e.to_branch_id
                else:  # an unknown member is left alone, as by the live fold's update
                    moved.append({"k_county": county, "k_member": e.member_id, "k_branch": e.to_branch_id})
            elif isinstance(e, MembershipStatusChanged):
                member = members.get(e.member_id)
                if member is not None:
                    member[_STATUS] = e.membership_status
                else:
                    flagged.append({"k_county": county, "k_member": e.member_id, "k_status": e.membership_status})
            elif isinstance(e, MemberStandingChanged):
                self.standings[e.member_id] = standing_row(county, e)
            elif ev.type in LIFECYCLE:
                org = orgs.get(e.organization_id)
                if org is not None:  # a lifecycle event of an unknown organization is skipped, as live
                    org.update(lifecycle_changes(e))
            elif isinstance(e, OrganizationEstablished):
                orgs[e.organization_id] = organization_row(county, ev)
            elif isinstance(e, TownshipAdded):
                self.townships[e.township_id] = {"county": county, "township_id": e.township_id, "name": e.name,
                                                 "code": e.code}
            elif isinstance(e, CountyAdded):
                self.counties[county] = {"county": county, "name": e.name}
        return lambda: self._write(moved, flagged, list(members.values()))

    def _write(self, moved: list[dict], flagged: list[dict], members: list[list]) -> None:
        if moved:
            self.conn.execute(self._transfer, moved)
        if flagged:
            self.conn.execute(self._status, flagged)
        self._upsert_members(self.conn, members)

    def finish(self) -> None:
        p, conn = self.p, self.conn
        insert_rows(conn, p.counties, list(self.counties.values()))
        insert_rows(conn, p.townships, list(self.townships.values()))
        insert_rows(conn, p.organizations, list(self.orgs.values()))
        insert_rows(conn, p.standings, list(self.standings.values()))
        for ix in self._indexes:
            ix.create(conn)
