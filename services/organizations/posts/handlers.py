"""Handlers of 无职党员设岗定责: posts, holders, public commitments and their reviews. A branch's posts are
managed by its secretary, its township's operator or the county department (scope.check_may_manage_branch);
the subjects are listed once, in HANDLERS at the end."""
from __future__ import annotations

from shared.ids import stable_id
from shared.messaging import ok
from shared.service import Context
from services.organizations import scope
from services.organizations.clock import today
from services.organizations.contracts import Workbook
from services.organizations.posts import queries
from services.organizations.posts.commands import (AssignPost, CommitmentChange, CommitmentReviewResult, DefinePost,
                                                   ImportPosts, MakeCommitment, PostChange, PostImport, ReleasePost,
                                                   ReviewCommitment)
from services.organizations.posts.domain import Commitment, Post, commitment_id, evidence_ref
from services.organizations.posts.post_sheet import import_posts
from services.organizations.registry.domain import Member, Organization


async def _state(ctx: Context, cls, aggregate_id: str):
    return (await ctx.service.repo.get(ctx.county, cls, aggregate_id)).state


async def _branch_in_scope(ctx: Context, branch_id: str) -> Organization:
    ctx.require_write()
    branch = await _state(ctx, Organization, branch_id)
    scope.check_may_manage_branch(ctx.actor, branch)
    return branch


def post_id_of(branch_id: str, name: str) -> str:
    """A post is named once per branch: defining it again (a retried request, an import) finds the same one."""
    return stable_id("post", branch_id, name)


async def on_define_post(ctx: Context, cmd: DefinePost) -> dict:
    """设岗: a post of the branch for members without office."""
    branch, day = await _branch_in_scope(ctx, cmd.branch_id), today()
    post_id = cmd.post_id or post_id_of(cmd.branch_id, cmd.name)
    out = await ctx.service.repo.execute(ctx.county, Post, post_id, ctx.meta,
                                         lambda p: p.define(cmd, branch=branch, today=day))
    return ok(PostChange(post_id=post_id), out.seq)


async def on_assign_post(ctx: Context, cmd: AssignPost) -> dict:
    """定责: a member without office of the post's branch takes the post."""
    ctx.require_write()
    post = await _state(ctx, Post, cmd.post_id)
    branch = await _branch_in_scope(ctx, post.branch_id) if post.exists else Organization("")
    member, day = await _state(ctx, Member, cmd.member_id), today()
    out = await ctx.service.repo.execute(ctx.county, Post, cmd.post_id, ctx.meta,
                                         lambda p: p.assign(cmd, member=member, branch=branch, today=day))
    return ok(PostChange(post_id=cmd.post_id), out.seq)


async def on_release_post(ctx: Context, cmd: ReleasePost) -> dict:
    """离岗."""
    ctx.require_write()
    post, day = await _state(ctx, Post, cmd.post_id), today()
    if post.exists:
        await _branch_in_scope(ctx, post.branch_id)
    out = await ctx.service.repo.execute(ctx.county, Post, cmd.post_id, ctx.meta,
                                         lambda p: p.release(cmd, today=day))
    return ok(PostChange(post_id=cmd.post_id), out.seq)


async def on_make_commitment(ctx: Context, cmd: MakeCommitment) -> dict:
    """公开承诺 of a member on a post, for a year."""
    ctx.require_write()
    post = await _state(ctx, Post, cmd.post_id)
    if post.exists:
        await _branch_in_scope(ctx, post.branch_id)
    member, day, the_id = await _state(ctx, Member, cmd.member_id), today(), commitment_id(cmd.year, cmd.member_id)
    out = await ctx.service.repo.execute(ctx.county, Commitment, the_id, ctx.meta,
                                         lambda c: c.make(cmd, post=post, member=member, today=day))
    return ok(CommitmentChange(commitment_id=the_id), out.seq)


async def on_review_commitment(ctx: Context, cmd: ReviewCommitment) -> dict:
    """践诺评议: the answer's evidence_ref is what a duty-star score cites."""
    ctx.require_write()
    the_id, day = commitment_id(cmd.year, cmd.member_id), today()
    commitment = await _state(ctx, Commitment, the_id)
    if commitment.exists:
        await _branch_in_scope(ctx, commitment.branch_id)
    out = await ctx.service.repo.execute(
        ctx.county, Commitment, the_id, ctx.meta, lambda c: c.review(cmd, today=day),
        result=lambda c, _: CommitmentReviewResult(commitment_id=c.id, fulfilled=bool(c.fulfilled),
                                                   evidence_ref=evidence_ref(c.id)))
    return ok(out.result, out.seq)


async def on_import_posts(ctx: Context, cmd: ImportPosts) -> dict:
    """批量导入岗位 (CSV/Excel), with the members assigned to each; any bad row refuses the whole file."""
    return ok(*await import_posts(ctx, cmd, post_id_of))


HANDLERS = (  # (kind, name, handler, reply): subject pb.<county>.<kind>.organizations.<name>
    ("cmd", "define_post", on_define_post, PostChange),
    ("cmd", "assign_post", on_assign_post, PostChange),
    ("cmd", "release_post", on_release_post, PostChange),
    ("cmd", "make_commitment", on_make_commitment, CommitmentChange),
    ("cmd", "review_commitment", on_review_commitment, CommitmentReviewResult),
    ("cmd", "import_posts", on_import_posts, PostImport),
    ("qry", "list_posts", queries.on_list_posts, queries.PostList),
    ("qry", "list_commitments", queries.on_list_commitments, queries.CommitmentList),
    ("qry", "posts_export", queries.on_posts_export, Workbook),
)
