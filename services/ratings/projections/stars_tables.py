"""The tables of the star read-model (ratings.stars), one definition for the live projection, its live
fold and its rebuild fold."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Boolean, Column, Date, DateTime, Index, Integer, String, Table, Text


@dataclass(frozen=True)
class StarTables:
    organizations: Table   # directory: organization -> township (folded from organizations' events)
    members: Table         # directory: member -> branch
    schemes: Table         # the scheme defined per (year, rated kind, scope)
    years: Table           # closed / reopened rating years
    scores: Table          # every score entry, revoked ones marked
    points: Table          # points per (rated, year, category)
    stars: Table           # the rating per (rated, year): stars JSON, total, class

    @classmethod
    def define(cls, table: Callable[..., Table], suffix: str) -> "StarTables":
        """`table(base name, *columns)` makes a table of the projection (its name carries `suffix`)."""
        return cls(
            organizations=table("ratings_directory_organization",
                                Column("county", String(6), primary_key=True),
                                Column("organization_id", String(64), primary_key=True),
                                Column("name", String(80)), Column("organization_type", String(24)),
                                Column("township_id", String(64))),
            members=table("ratings_directory_member",
                          Column("county", String(6), primary_key=True),
                          Column("member_id", String(64), primary_key=True),
                          Column("name", String(40)), Column("branch_id", String(64), nullable=False)),
            schemes=table("ratings_scheme",
                          Column("county", String(6), primary_key=True), Column("year", Integer, primary_key=True),
                          Column("rated_kind", String(12), primary_key=True),
                          Column("scope", String(64), primary_key=True),  # township id or "county"
                          Column("definition", Text, nullable=False)),    # StarSchemeDefined payload JSON
            years=table("ratings_year",
                        Column("county", String(6), primary_key=True), Column("year", Integer, primary_key=True),
                        Column("closed", Boolean, nullable=False), Column("reason", Text)),
            scores=table("ratings_score",
                         Column("county", String(6), primary_key=True),
                         Column("score_id", String(64), primary_key=True),
                         Column("rated_kind", String(12), nullable=False), Column("rated_id", String(64), nullable=False),
                         Column("year", Integer, nullable=False), Column("category", String(40), nullable=False),
                         Column("points", Integer, nullable=False), Column("reason", Text, nullable=False),
                         Column("evidence_ref", String(200)), Column("occurred_on", Date, nullable=False),
                         Column("idempotency_key", String(100), nullable=False),
                         Column("actor", String(120)), Column("recorded_at", DateTime(timezone=True)),
                         Column("seq", Integer, nullable=False),
                         Column("revoked", Boolean, nullable=False, default=False), Column("revoke_reason", Text),
                         Index(f"ix_ratings_score_rated{suffix}", "county", "rated_id", "year")),
            points=table("ratings_points",
                         Column("county", String(6), primary_key=True), Column("rated_kind", String(12), primary_key=True),
                         Column("rated_id", String(64), primary_key=True), Column("year", Integer, primary_key=True),
                         Column("category", String(40), primary_key=True), Column("points", Integer, nullable=False)),
            stars=table("ratings_stars",
                        Column("county", String(6), primary_key=True), Column("rated_kind", String(12), primary_key=True),
                        Column("rated_id", String(64), primary_key=True), Column("year", Integer, primary_key=True),
                        Column("branch_id", String(64)), Column("township_id", String(64)),
                        Column("total_stars", Integer, nullable=False), Column("star_class", String(12)),
                        Column("stars", Text, nullable=False),
                        Index(f"ix_ratings_stars_year{suffix}", "county", "year", "rated_kind")),
        )
