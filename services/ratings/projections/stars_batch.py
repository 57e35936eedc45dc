"""The live fold of the star read-model, batch-wise: load the touched rows once, fold the batch in memory,
write each table with one executemany (an ORM round trip per event would cap rebuilds near 2,700
events/s). A stars row is recomputed whenever its points, its member's branch or its year's scheme change.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from shared.catalog.organizations import MemberRegistered, MemberTransferred, OrganizationEstablished
from shared.catalog.ratings import (MemberScored, OrganizationScored, RatingYearClosed, RatingYearReopened,
                                    ScoreRevoked, StarSchemeDefined)
from shared.db import insert_rows, upsert
from shared.envelope import StoredEvent
from shared.rows import chunks
from services.ratings.projections.stars_rows import (member_row, organization_row, scheme_definition, scheme_key,
                                                     scheme_row, score_row, star_row, year_row)
from services.ratings.projections.stars_tables import StarTables
from services.ratings.scheme import StarScheme

class StarsBatch:
    """One batch's working set: rows loaded once, folded in memory, written once."""

    def __init__(self, tables: StarTables, conn: Connection, county: str):
        self.t, self.conn, self.county = tables, conn, county
        self.orgs: dict[str, dict] = {}
        self.members: dict[str, dict] = {}
        self.schemes: dict[tuple, dict] = {}
        self.years: dict[int, dict] = {}
        self.new_scores: dict[str, dict] = {}
        self.revocations: dict[str, str] = {}
        self.deltas: dict[tuple, int] = defaultdict(int)  # (kind, id, year, category) -> points
        self.touched: set[tuple] = set()                  # (kind, id, year) whose stars change
        self.moved_members: set[str] = set()
        self._known: dict[tuple, Any] = {}                # lookups of committed rows and schemes
        self._schemes_loaded = False
        self.rescheme: set[tuple] = set()                 # (year, kind) whose scheme changed

    def fold(self, ev: StoredEvent) -> None:
        e = ev.event
        if isinstance(e, OrganizationEstablished):
            self.orgs[e.organization_id] = organization_row(self.county, e)
        elif isinstance(e, MemberRegistered):
            self.members[e.member_id] = member_row(self.county, e)
        elif isinstance(e, MemberTransferred):
            row = self.members.get(e.member_id) or self._known.get(("member", e.member_id)) \
                or self._load_member(e.member_id)
            if row:
                self.members[e.member_id] = {**row, "branch_id": e.to_branch_id}
                self.moved_members.add(e.member_id)
        elif isinstance(e, StarSchemeDefined):
            key = scheme_key(e)
            self.schemes[key] = scheme_row(self.county, e)
            self._known[("scheme", *key)] = StarScheme.from_event(e)
            self.rescheme.add((e.year, e.rated_kind))
        elif isinstance(e, (MemberScored, OrganizationScored)):
            row = self.new_scores[e.score_id] = score_row(self.county, ev)
            kind, rid = row["rated_kind"], row["rated_id"]
            self.deltas[(kind, rid, e.year, e.category)] += e.points
            self.touched.add((kind, rid, e.year))
        elif isinstance(e, ScoreRevoked):
            score = self.new_scores.get(e.score_id) or self._load_score(e.score_id)
            if score and not score["revoked"]:
                if e.score_id in self.new_scores:
                    self.new_scores[e.score_id] = {**score, "revoked": True, "revoke_reason": e.reason}
                else:
                    self.revocations[e.score_id] = e.reason
                self.deltas[(score["rated_kind"], score["rated_id"], score["year"], score["category"])] -= score["points"]
                self.touched.add((score["rated_kind"], score["rated_id"], score["year"]))
        elif isinstance(e, (RatingYearClosed, RatingYearReopened)):
            self.years[e.year] = year_row(self.county, e)

    def prefetch(self, events: Sequence[StoredEvent]) -> None:
        """Load every committed member, organization, scheme and revoked score the batch refers to
        with a few IN queries, instead of one SELECT per event (the rebuild's hot spot)."""
        members, orgs, scores = set(), set(), set()
        for ev in events:
            e = ev.event
            if isinstance(e, (MemberScored, MemberTransferred)):
                members.add(e.member_id)
            elif isinstance(e, OrganizationScored):
                orgs.add(e.organization_id)
            elif isinstance(e, ScoreRevoked):
                scores.add(e.score_id)
        m, o, sc = self.t.members, self.t.organizations, self.t.scores
        for chunk in chunks(sorted(members)):
            for row in self.conn.execute(select(m).where(m.c.county == self.county, m.c.member_id.in_(chunk))):
                self._known[("member", row.member_id)] = dict(row._mapping)
                orgs.add(row.branch_id)
        for member_id in members:
            self._known.setdefault(("member", member_id), None)
        for chunk in chunks(sorted(orgs)):
            for row in self.conn.execute(select(o).where(o.c.county == self.county, o.c.organization_id.in_(chunk))):
                self._known[("org", row.organization_id)] = dict(row._mapping)
        for chunk in chunks(sorted(scores)):
            for row in self.conn.execute(select(sc).where(sc.c.county == self.county, sc.c.score_id.in_(chunk))):
                self._known[("score", row.score_id)] = dict(row._mapping)
        s = self.t.schemes.c
        for row in self.conn.execute(select(s.year, s.rated_kind, s.scope, s.definition).where(s.county == self.county)):
            key = ("scheme", row.year, row.rated_kind, row.scope)
            self._known[key] = StarScheme.from_event(scheme_definition(row.definition))
        self._schemes_loaded = True

    # -- lookups (rows committed by earlier batches) ------------------------------------------------
    def _load_member(self, member_id: str) -> dict | None:
        if ("member", member_id) in self._known:
            return self._known[("member", member_id)]
        row = self.conn.execute(select(self.t.members).where(self.t.members.c.county == self.county,
                                                             self.t.members.c.member_id == member_id)).first()
        return dict(row._mapping) if row else None

    def _load_score(self, score_id: str) -> dict | None:
        if ("score", score_id) in self._known:
            return self._known[("score", score_id)]
        s = self.t.scores
        row = self.conn.execute(select(s).where(s.c.county == self.county, s.c.score_id == score_id)).first()
        return dict(row._mapping) if row else None

    # -- write --------------------------------------------------------------------------------------
    def write(self) -> None:
        t, conn = self.t, self.conn
        upsert(conn, t.organizations, list(self.orgs.values()), ["county", "organization_id"])
        upsert(conn, t.members, list(self.members.values()), ["county", "member_id"])
        upsert(conn, t.schemes, list(self.schemes.values()), ["county", "year", "rated_kind", "scope"])
        upsert(conn, t.years, list(self.years.values()), ["county", "year"])
        insert_rows(conn, t.scores, list(self.new_scores.values()))
        for score_id, reason in self.revocations.items():
            conn.execute(t.scores.update().where(t.scores.c.county == self.county, t.scores.c.score_id == score_id)
                         .values(revoked=True, revoke_reason=reason))
        self._add_moved_and_reschemed()
        if not self.touched:
            return
        points = self._points_with_deltas()
        upsert(conn, t.points, [{"county": self.county, "rated_kind": k, "rated_id": i, "year": y, "category": c,
                                 "points": v} for (k, i, y, c), v in points.items()],
               ["county", "rated_kind", "rated_id", "year", "category"])
        upsert(conn, t.stars, self._star_rows(points), ["county", "rated_kind", "rated_id", "year"])

    def _add_moved_and_reschemed(self) -> None:
        """Stars rows whose branch changed or whose scheme was redefined are recomputed too."""
        st = self.t.stars.c
        if self.moved_members:
            for chunk in chunks(sorted(self.moved_members)):
                for r in self.conn.execute(select(st.rated_kind, st.rated_id, st.year).where(
                        st.county == self.county, st.rated_kind == "member", st.rated_id.in_(chunk))):
                    self.touched.add(tuple(r))
        for year, kind in self.rescheme:
            for r in self.conn.execute(select(st.rated_kind, st.rated_id, st.year).where(
                    st.county == self.county, st.year == year, st.rated_kind == kind)):
                self.touched.add(tuple(r))

    def _points_with_deltas(self) -> dict[tuple, int]:
        pt = self.t.points.c
        points: dict[tuple, int] = {}
        ids = sorted({rid for _, rid, _ in self.touched})
        for chunk in chunks(ids, 900):  # by id only (a cached statement); kind and year filtered here
            rows = self.conn.execute(select(pt.rated_kind, pt.rated_id, pt.year, pt.category, pt.points).where(
                pt.county == self.county, pt.rated_id.in_(chunk)))
            for k, i, y, c, v in rows:
                if (k, i, y) in self.touched:
                    points[(k, i, y, c)] = v
        for key, delta in self.deltas.items():
            points[key] = points.get(key, 0) + delta
        return points

    def _star_rows(self, points: dict[tuple, int]) -> list[dict[str, Any]]:
        by_subject: dict[tuple, dict[str, int]] = {key: {} for key in self.touched}
        for (k, i, y, c), v in points.items():
            by_subject[(k, i, y)][c] = v
        rows = []
        for (kind, rid, year), cats in by_subject.items():
            branch_id, township_id = self._placement(kind, rid)
            rows.append(star_row(self.county, kind, rid, year, branch_id, township_id,
                                 self._scheme(year, kind, township_id), cats))
        return rows

    def _placement(self, kind: str, rid: str) -> tuple[str | None, str | None]:
        """(branch, township) of a rated member or organization, as of this batch."""
        if kind == "member":
            m = self.members.get(rid)
            if m is None:
                key = ("member", rid)
                if key not in self._known:
                    self._known[key] = self._load_member(rid)
                m = self._known[key]
            branch = m["branch_id"] if m else None
            return branch, self._org_township(branch) if branch else None
        return rid, self._org_township(rid)

    def _org_township(self, org_id: str) -> str | None:
        org = self.orgs.get(org_id)
        if org is None:
            key = ("org", org_id)
            if key not in self._known:
                o = self.t.organizations.c
                row = self.conn.execute(select(self.t.organizations).where(
                    o.county == self.county, o.organization_id == org_id)).first()
                self._known[key] = dict(row._mapping) if row else None
            org = self._known[key]
        return org["township_id"] if org else None

    def _scheme(self, year: int, kind: str, township_id: str | None) -> StarScheme | None:
        """The scheme in force: the township's own for that year, else the county's."""
        for scope in ([township_id] if township_id else []) + ["county"]:
            key = ("scheme", year, kind, scope)
            if key not in self._known and not self._schemes_loaded:
                s = self.t.schemes.c
                row = self.conn.execute(select(s.definition).where(
                    s.county == self.county, s.year == year, s.rated_kind == kind, s.scope == scope)).first()
                self._known[key] = StarScheme.from_event(scheme_definition(row.definition)) \
                    if row else None
            if self._known.get(key) is not None:
                return self._known[key]
        return None
