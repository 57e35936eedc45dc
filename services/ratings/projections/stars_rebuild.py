"""The star read-model's rebuild fold: the whole replay folded in memory, points and stars written once.

The live fold (stars_batch.py) rewrites the points and stars rows of every member a batch touches: over a
replay of 500k events with 20k members each of those rows would be rewritten ~50 times. Here the
directory, schemes, years and points stay in memory for the whole replay (a few dozen MB for a county);
score rows go to the table batch by batch, as they come (all of a county's would not fit comfortably);
points and stars rows are written once, at the end (docs/decisions/007-rebuild-fold.md).

The result equals the live fold's: a stars row exists for every (kind, id, year) ever scored, rated with
its final points, under the scheme in force and at the placement (branch, township) at the end — the
live fold recomputes a row whenever its points, its member's branch or its year's scheme change.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from services.ratings.projections.stars_rows import (POINTS_COLUMNS, SCORE_COLUMNS, in_force, member_row,
                                                     organization_row, scheme_key, scheme_row, score_values, star_row,
                                                     year_row)
from services.ratings.projections.stars_tables import StarTables
from services.ratings.scheme import StarScheme
from shared.catalog.organizations import MemberRegistered, MemberTransferred, OrganizationEstablished
from shared.catalog.ratings import (MemberScored, OrganizationScored, RatingYearClosed, RatingYearReopened,
                                    ScoreRevoked, StarSchemeDefined)
from shared.db import ListInsert, insert_rows
from shared.envelope import StoredEvent

IN_CHUNK = 500


# positions in a score row (SCORE_COLUMNS order)
_KIND, _ID, _YEAR, _CATEGORY, _POINTS, _REVOKED, _REASON = (SCORE_COLUMNS.index(c) for c in (
    "rated_kind", "rated_id", "year", "category", "points", "revoked", "revoke_reason"))


class StarsRebuild:
    """Folds a replayed county log into a StarsProjection's fresh, empty tables."""

    def __init__(self, tables: StarTables, conn: Connection, county: str):
        self.t, self.conn, self.county = tables, conn, county
        self.orgs: dict[str, dict] = {}
        self.members: dict[str, dict] = {}
        self.schemes: dict[tuple, StarSchemeDefined] = {}  # (year, kind, township id or "county") -> definition
        self.years: dict[int, dict] = {}
        self.points: dict[tuple, int] = {}                 # (kind, id, year, category) -> points, kept at 0 as live
        self._insert_scores = ListInsert(conn, tables.scores, SCORE_COLUMNS)
        self._deltas: deque[tuple[tuple, int]] = deque()  # from the writer thread (deque: thread-safe)
        # this fold never reads by the secondary indexes: built once at the end, not kept up row by row
        # (a score index on random member ids would rewrite most of its pages in every batch)
        self._indexes = [ix for table in (tables.scores, tables.stars) for ix in table.indexes]
        with conn.begin():
            for ix in self._indexes:
                ix.drop(conn)
        s = tables.scores.c
        self._revoke = tables.scores.update().where(s.county == bindparam("k_county"), s.score_id == bindparam("k_score")) \
            .values(revoked=True, revoke_reason=bindparam("k_reason"))

    def fold(self, events: Iterable[StoredEvent]) -> Callable[[], None]:
        """One replayed batch, consumed as it is decoded. Its writes, run by the replay's writer while the
        next batch is folded: revocations of earlier batches' scores are looked up and updated, then the
        batch's score rows inserted. Those revocations' effect on points comes back as deltas, added by a
        later fold or by finish (a sum: deferring it changes nothing)."""
        scores: dict[str, list] = {}
        later: list[ScoreRevoked] = []  # revocations of scores this batch did not add
        points = self.points
        self._take_deltas()
        for ev in events:
            e = ev.event
            if isinstance(e, (MemberScored, OrganizationScored)):
                row = scores[e.score_id] = score_values(self.county, ev)
                key = (row[_KIND], row[_ID], e.year, e.category)
                points[key] = points.get(key, 0) + e.points
            elif isinstance(e, ScoreRevoked):
                row = scores.get(e.score_id)
                if row is None:
                    later.append(e)
                elif not row[_REVOKED]:
                    row[_REVOKED], row[_REASON] = True, e.reason
                    points[(row[_KIND], row[_ID], row[_YEAR], row[_CATEGORY])] -= row[_POINTS]
            elif isinstance(e, MemberRegistered):
                self.members[e.member_id] = member_row(self.county, e)
            elif isinstance(e, MemberTransferred):
                member = self.members.get(e.member_id)
                if member:
                    member["branch_id"] = e.to_branch_id
            elif isinstance(e, OrganizationEstablished):
                self.orgs[e.organization_id] = organization_row(self.county, e)
            elif isinstance(e, StarSchemeDefined):
                self.schemes[scheme_key(e)] = e
            elif isinstance(e, (RatingYearClosed, RatingYearReopened)):
                self.years[e.year] = year_row(self.county, e)
        return lambda: self._write(later, list(scores.values()))

    def _write(self, later: list[ScoreRevoked], scores: list[list]) -> None:
        if later:  # before this batch's rows are in the table: a revocation never reaches a later score
            self._revoke_earlier(later)
        self._insert_scores(self.conn, scores)

    def _take_deltas(self) -> None:
        points, deltas = self.points, self._deltas
        while deltas:
            key, change = deltas.popleft()
            points[key] += change

    def _revoke_earlier(self, revocations: list[ScoreRevoked]) -> None:
        """Revocations of scores inserted by earlier batches: a few IN queries, one executemany update.
        Unknown or already revoked scores are ignored, as by the live fold. Runs in the replay's writer
        thread: the points they take away are handed to the folding thread as deltas."""
        wanted = sorted({e.score_id for e in revocations})
        s = self.t.scores.c
        found: dict[str, Any] = {}
        for i in range(0, len(wanted), IN_CHUNK):
            found.update((r.score_id, r) for r in self.conn.execute(
                select(s.score_id, s.rated_kind, s.rated_id, s.year, s.category, s.points, s.revoked)
                .where(s.county == self.county, s.score_id.in_(wanted[i:i + IN_CHUNK]))))
        updates = []
        for e in revocations:
            score = found.pop(e.score_id, None)  # popped: a second revocation of it finds nothing
            if score is not None and not score.revoked:
                self._deltas.append(((score.rated_kind, score.rated_id, score.year, score.category), -score.points))
                updates.append({"k_county": self.county, "k_score": e.score_id, "k_reason": e.reason})
        if updates:
            self.conn.execute(self._revoke, updates)

    def finish(self) -> None:
        t, conn = self.t, self.conn
        self._take_deltas()
        insert_rows(conn, t.organizations, list(self.orgs.values()))
        insert_rows(conn, t.members, list(self.members.values()))
        insert_rows(conn, t.schemes, [scheme_row(self.county, e) for e in self.schemes.values()])
        insert_rows(conn, t.years, list(self.years.values()))
        ListInsert(conn, t.points, POINTS_COLUMNS)(
            conn, [[self.county, *key, v] for key, v in self.points.items()])
        insert_rows(conn, t.stars, self._star_rows())
        for ix in self._indexes:
            ix.create(conn)

    def _star_rows(self) -> list[dict[str, Any]]:
        by_subject: dict[tuple, dict[str, int]] = {}
        for (k, i, y, c), v in self.points.items():
            by_subject.setdefault((k, i, y), {})[c] = v
        schemes = {key: StarScheme.from_event(e) for key, e in self.schemes.items()}
        rows = []
        for (kind, rid, year), cats in by_subject.items():
            branch_id, township_id = self._placement(kind, rid)
            rows.append(star_row(self.county, kind, rid, year, branch_id, township_id,
                                 in_force(schemes, year, kind, township_id), cats))
        return rows

    def _placement(self, kind: str, rid: str) -> tuple[str | None, str | None]:
        branch = (self.members.get(rid) or {}).get("branch_id") if kind == "member" else rid
        org = self.orgs.get(branch) if branch else None
        return branch, org["township_id"] if org else None
