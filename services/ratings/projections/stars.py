"""ratings.stars: points by category, stars with their colours, earned stars and star class — per rated
member or organization per year — plus the directory (member → branch → township) the distribution and
the commands' scope checks need.

    stars_tables.py   the tables
    stars_rows.py     what an event or a rating becomes as a row (pure, shared by both folds)
    stars_batch.py    the live fold, batch by batch
    stars_rebuild.py  the rebuild fold, the whole replay in memory (docs/decisions/007-rebuild-fold.md)
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Connection

from shared.catalog.organizations import MemberTransferred
from shared.envelope import StoredEvent
from shared.projection import Projection
from services.ratings.directory import Placements
from services.ratings.projections.stars_batch import StarsBatch
from services.ratings.projections.stars_rebuild import StarsRebuild
from services.ratings.projections.stars_tables import StarTables


class StarsProjection(Projection):
    name = "ratings.stars"
    subjects = ("org.organization.>", "org.member.>", "ratings.>")
    handles = frozenset({
        "OrganizationEstablished", "MemberRegistered", "MemberTransferred", "StarSchemeDefined",
        "MemberScored", "OrganizationScored", "ScoreRevoked", "RatingYearClosed", "RatingYearReopened",
    })

    def define_tables(self) -> None:
        t = self.tables = StarTables.define(self.table, self.suffix)
        self.organizations, self.members, self.schemes, self.years = t.organizations, t.members, t.schemes, t.years
        self.scores, self.points, self.stars = t.scores, t.points, t.stars

    def __init__(self, suffix: str = ""):
        super().__init__(suffix)
        self.placements = Placements()  # (county, kind, id) -> (branch, township) for commands, see directory.py

    def after_commit(self, county: str, events: Sequence[StoredEvent]) -> None:
        for ev in events:
            if isinstance(ev.event, MemberTransferred):
                self.placements.invalidate((county, "member", ev.event.member_id))

    def apply(self, conn: Connection, county: str, events: Sequence[StoredEvent]) -> None:
        batch = StarsBatch(self.tables, conn, county)
        batch.prefetch(events)
        for ev in events:
            batch.fold(ev)
        batch.write()

    def rebuild_fold(self, conn: Connection, county: str) -> StarsRebuild:
        return StarsRebuild(self.tables, conn, county)
