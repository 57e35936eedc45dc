"""organizations.registry: counties, townships, organizations and members as tables to list and look up
(lifecycle events change the organization rows: names, types, parents, status, terms). The rows come
from registry_rows.py, shared with the rebuild fold (registry_rebuild.py)."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Boolean, Column, Date, Index, Integer, String
from sqlalchemy import select
from sqlalchemy.engine import Connection

from shared.catalog.membership import MembershipStatusChanged, MemberStandingChanged
from shared.catalog.organizations import (CountyAdded, MemberRegistered, MemberTransferred, OrganizationEstablished,
                                          TownshipAdded)
from shared.db import upsert
from shared.envelope import StoredEvent
from shared.projection import Projection
from services.organizations.registry.projections.registry_rebuild import RegistryRebuild
from services.organizations.registry.projections.registry_rows import (LIFECYCLE, MEMBER_COLUMNS, lifecycle_changes,
                                                                       member_change, member_values,
                                                                       organization_row, standing_row)


class RegistryProjection(Projection):
    name = "organizations.registry"
    subjects = ("org.county.>", "org.township.>", "org.organization.>", "org.member.>")
    handles = frozenset({"CountyAdded", "TownshipAdded", "OrganizationEstablished", "MemberRegistered",
                         "MemberTransferred", "MembershipStatusChanged", "MemberStandingChanged", *LIFECYCLE})

    def define_tables(self) -> None:
        t = self.table
        self.counties = t("org_county", Column("county", String(6), primary_key=True), Column("name", String(40)))
        self.townships = t("org_township", Column("county", String(6), primary_key=True),
                           Column("township_id", String(64), primary_key=True), Column("name", String(40)),
                           Column("code", String(12)))
        self.organizations = t("org_organization", Column("county", String(6), primary_key=True),
                               Column("organization_id", String(64), primary_key=True),
                               Column("name", String(80), nullable=False),
                               Column("organization_type", String(24), nullable=False),
                               Column("host_unit_type", String(24), nullable=False),
                               Column("parent_id", String(64)), Column("township_id", String(64)),
                               Column("approved_by", String(40)), Column("approved_on", Date),
                               Column("status", String(12), nullable=False, default="active"),
                               Column("merged_into", String(64)), Column("secretary", String(40)),
                               Column("elected_on", Date), Column("term_ends_on", Date),
                               Column("election_due_on", Date), Column("secretary_only", Boolean),
                               Column("seq", Integer, nullable=False))
        self.members = t("org_member", Column("county", String(6), primary_key=True),
                         Column("member_id", String(64), primary_key=True), Column("name", String(40), nullable=False),
                         Column("gender", String(8)), Column("birth_date", Date),
                         Column("membership_status", String(16)), Column("joined_on", Date),
                         Column("branch_id", String(64), nullable=False), Column("import_id", String(64)),
                         Column("seq", Integer, nullable=False),
                         Index(f"ix_org_member_branch{self.suffix}", "county", "branch_id"))
        # 党籍异动: a row per member whose standing changed (a table of its own: no column to add to
        # read-models built before it existed, and members in good standing need no row)
        self.standings = t("org_member_standing", Column("county", String(6), primary_key=True),
                           Column("member_id", String(64), primary_key=True),
                           Column("standing", String(16), nullable=False), Column("reason", String(200)),
                           Column("changed_on", Date), Column("decided_by", String(40)))

    def apply(self, conn: Connection, county: str, events: Sequence[StoredEvent]) -> None:
        counties, townships, orgs, members, standings = {}, {}, {}, {}, {}
        for ev in events:
            e = ev.event
            if isinstance(e, CountyAdded):
                counties[county] = {"county": county, "name": e.name}
            elif isinstance(e, TownshipAdded):
                townships[e.township_id] = {"county": county, "township_id": e.township_id, "name": e.name,
                                            "code": e.code}
            elif isinstance(e, OrganizationEstablished):
                orgs[e.organization_id] = organization_row(county, ev)
            elif ev.type in LIFECYCLE:
                org_id = e.organization_id
                if org_id not in orgs:  # fold onto the committed row
                    row = conn.execute(select(self.organizations).where(
                        self.organizations.c.county == county, self.organizations.c.organization_id == org_id)).first()
                    if row is None:
                        continue
                    orgs[org_id] = dict(row._mapping)
                orgs[org_id].update(lifecycle_changes(e))
            elif isinstance(e, MemberRegistered):
                members[e.member_id] = dict(zip(MEMBER_COLUMNS, member_values(county, ev)))
            elif isinstance(e, (MemberTransferred, MembershipStatusChanged)):
                change = member_change(e)
                if e.member_id in members:
                    members[e.member_id].update(change)
                else:
                    conn.execute(self.members.update().where(self.members.c.county == county,
                                                             self.members.c.member_id == e.member_id).values(**change))
            elif isinstance(e, MemberStandingChanged):
                standings[e.member_id] = standing_row(county, e)
        upsert(conn, self.counties, list(counties.values()), ["county"])
        upsert(conn, self.townships, list(townships.values()), ["county", "township_id"])
        upsert(conn, self.organizations, list(orgs.values()), ["county", "organization_id"])
        upsert(conn, self.members, list(members.values()), ["county", "member_id"])
        upsert(conn, self.standings, list(standings.values()), ["county", "member_id"])

    def rebuild_fold(self, conn: Connection, county: str) -> RegistryRebuild:
        return RegistryRebuild(self, conn, county)
