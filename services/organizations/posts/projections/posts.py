"""organizations.posts: each branch's posts (设岗), their current holders (定责), and the members'
yearly commitments with their reviews (公开承诺, 践诺评议). Few events (a branch has a handful of posts),
so each is written as it comes, in the batch's transaction."""
from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy import Boolean, Column, Date, Integer, String, Text, delete
from sqlalchemy.engine import Connection

from shared.catalog import posts as p
from shared.db import upsert
from shared.envelope import StoredEvent
from shared.projection import Projection
from services.organizations.posts.domain import evidence_ref


class PostsProjection(Projection):
    name = "organizations.posts"
    subjects = ("org.post.>", "org.commitment.>")
    handles = frozenset({"PostDefined", "PostAssigned", "PostReleased", "CommitmentMade", "CommitmentReviewed"})

    def define_tables(self) -> None:
        t = self.table
        self.posts = t(
            "org_post", Column("county", String(6), primary_key=True), Column("post_id", String(64), primary_key=True),
            Column("branch_id", String(64), nullable=False, index=True), Column("name", String(40), nullable=False),
            Column("category", String(20), nullable=False), Column("duties", Text, nullable=False),
            Column("defined_on", Date, nullable=False))
        self.holders = t(
            "org_post_holder", Column("county", String(6), primary_key=True),
            Column("post_id", String(64), primary_key=True), Column("member_id", String(64), primary_key=True),
            Column("member_name", String(40), nullable=False), Column("assigned_on", Date, nullable=False))
        self.commitments = t(
            "org_commitment", Column("county", String(6), primary_key=True),
            Column("commitment_id", String(80), primary_key=True), Column("member_id", String(64), nullable=False),
            Column("member_name", String(40), nullable=False), Column("branch_id", String(64), nullable=False),
            Column("post_id", String(64), nullable=False), Column("year", Integer, nullable=False, index=True),
            Column("items", Text, nullable=False), Column("made_on", Date, nullable=False),
            Column("published_at", String(60), nullable=False), Column("reviewed_on", Date),
            Column("reviewed_by", String(60)), Column("grade", String(10)), Column("fulfilled", Boolean),
            Column("note", Text), Column("evidence_ref", String(120)))

    def apply(self, conn: Connection, county: str, events: Sequence[StoredEvent]) -> None:
        for ev in events:
            e = ev.event
            if isinstance(e, p.PostDefined):
                upsert(conn, self.posts, [{"county": county, "post_id": e.post_id, "branch_id": e.branch_id,
                                           "name": e.name, "category": e.category, "duties": e.duties,
                                           "defined_on": e.defined_on}], ["county", "post_id"])
            elif isinstance(e, p.PostAssigned):
                upsert(conn, self.holders, [{"county": county, "post_id": e.post_id, "member_id": e.member_id,
                                             "member_name": e.member_name, "assigned_on": e.assigned_on}],
                       ["county", "post_id", "member_id"])
            elif isinstance(e, p.PostReleased):
                h = self.holders.c
                conn.execute(delete(self.holders).where(h.county == county, h.post_id == e.post_id,
                                                        h.member_id == e.member_id))
            elif isinstance(e, p.CommitmentMade):
                upsert(conn, self.commitments, [{
                    "county": county, "commitment_id": e.commitment_id, "member_id": e.member_id,
                    "member_name": e.member_name, "branch_id": e.branch_id, "post_id": e.post_id, "year": e.year,
                    "items": orjson.dumps(list(e.items)).decode(), "made_on": e.made_on,
                    "published_at": e.published_at}], ["county", "commitment_id"])
            elif isinstance(e, p.CommitmentReviewed):
                c = self.commitments.c
                conn.execute(self.commitments.update().where(c.county == county, c.commitment_id == e.commitment_id)
                             .values(reviewed_on=e.reviewed_on, reviewed_by=e.reviewed_by, grade=e.grade,
                                     fulfilled=e.fulfilled, note=e.note, evidence_ref=evidence_ref(e.commitment_id)))
