"""Command handlers of the ratings service: load, decide (domain), append, reply. Each takes its command,
validated once with the request, as its second parameter; queries are in services/ratings/queries.py."""
from __future__ import annotations


from shared.auth import Actor
from shared.errors import forbidden, not_found
from shared.ids import new_id
from shared.messaging import ok
from shared.routes import Context, Routes, Runtime
from services.ratings import queries
from services.ratings.queries import today
from services.ratings.commands import CloseRatingYear, DefineStarScheme, RecordScore, ReopenRatingYear, RevokeScore
from services.ratings.directory import forget_transfer, placement
from services.ratings.domain import (PointsBook, RatingYear, StarScheme, StarSchemeBook, points_aggregate_id,
                                     scheme_aggregate_id)
from services.ratings.projections.stars import StarsProjection
from services.ratings.replies import RatingYearState, SchemeDefined, ScoreRecorded, ScoreRevocation
from services.ratings.standing import forget_standing, require_good_standing

YEAR_DETAIL = "只有县委组织部可以关闭或重开评星年度 / only the county department closes or reopens a year"
routes = Routes("ratings", writes=("ratings",))


def check_actor_may_rate(actor: Actor, branch_id: str | None, township_id: str | None) -> None:
    """A branch secretary rates only their own branch; a township operator only their township."""
    if actor.role == "branch_secretary" and actor.branch != branch_id:
        raise forbidden("支部书记只能为本支部党员记分 / a branch secretary may score only their own branch")
    if actor.role == "township_operator" and actor.township != township_id:
        raise forbidden("乡镇操作员只能为本乡镇记分 / a township operator may score only in their township")


async def year_is_open(ctx: Context, year: int) -> bool:
    return not (await ctx.service.repo.get(ctx.county, RatingYear, str(year))).state.closed


async def scheme_in_force(ctx: Context, year: int, rated_kind: str, township_id: str | None) -> StarScheme | None:
    for scope in ([township_id] if township_id else []) + [None]:
        book = (await ctx.service.repo.get(ctx.county, StarSchemeBook, scheme_aggregate_id(year, rated_kind, scope))).state
        if book.scheme is not None:
            return book.scheme
    return None


async def placed(ctx: Context, rated_kind: str, rated_id: str) -> tuple[str | None, str | None]:
    """(branch, township) of whom a score is for, from the star read-model's directory."""
    return await placement(ctx, ctx.service.projection(StarsProjection), rated_kind, rated_id)


@routes.reaction("org.member.*")
async def on_member_event(service: Runtime, county: str, envelope: dict) -> None:
    """A member changed branch: their cached placement is dropped (services/ratings/directory.py); or
    their standing changed: the county's standings are (services/ratings/standing.py)."""
    await forget_transfer(service, service.projection(StarsProjection), county, envelope)
    await forget_standing(service, county, envelope)


@routes.command("define_scheme", reply=SchemeDefined)
async def on_define_scheme(ctx: Context, cmd: DefineStarScheme) -> dict:
    """设星方案: define (or redefine) the star scheme of a year, county-wide or for one township."""
    ctx.require_county_department("只有县委组织部可以设定星级方案 / only the county department defines star schemes")
    is_open = await year_is_open(ctx, cmd.year)
    agg_id = scheme_aggregate_id(cmd.year, cmd.rated_kind, cmd.township_id)
    out = await ctx.service.repo.execute(ctx.county, StarSchemeBook, agg_id, ctx.meta, lambda b: b.define(cmd, is_open))
    return ok(SchemeDefined(scheme_id=agg_id, year=cmd.year, rated_kind=cmd.rated_kind), out.seq)


@routes.command("record_score", reply=ScoreRecorded)
async def on_record_score(ctx: Context, cmd: RecordScore) -> dict:
    """动态评星: record one score (award or deduction) for a member or an organization."""
    ctx.require_write()
    branch_id, township_id = await placed(ctx, cmd.rated_kind, cmd.rated_id)
    check_actor_may_rate(ctx.actor, branch_id, township_id)
    await require_good_standing(ctx, cmd.rated_kind, cmd.rated_id)
    # one after the other: both are cached aggregates almost always, and a gather costs two tasks
    is_open = await year_is_open(ctx, cmd.year)
    scheme = await scheme_in_force(ctx, cmd.year, cmd.rated_kind, township_id)
    score_id, day = new_id(), today()
    branch = branch_id if cmd.rated_kind == "member" else None
    out = await ctx.service.repo.execute(
        ctx.county, PointsBook, points_aggregate_id(cmd.year, cmd.rated_kind, cmd.rated_id), ctx.meta,
        lambda book: book.record(cmd, score_id=score_id, scheme=scheme, year_is_open=is_open, today=day,
                                 branch_id=branch),
        # a ScoreRecorded as a plain dict: this is the hot path, and ok() would only dump the model again
        result=lambda book, events: {"score_id": book.score_for_key(cmd.idempotency_key),
                                     "replayed": not events})
    return ok(out.result, out.seq or ctx.min_seq or 0)


@routes.command("revoke_score", reply=ScoreRevocation)
async def on_revoke_score(ctx: Context, cmd: RevokeScore) -> dict:
    """撤销积分: a correction is a new event with a reason; nothing is deleted."""
    ctx.require_write()
    score = await queries.find_score(ctx, cmd.score_id)
    if score is None:
        raise not_found("score_not_found", f"积分记录不存在 / score {cmd.score_id} not found", "score_id")
    branch_id, township_id = await placed(ctx, score["rated_kind"], score["rated_id"])
    check_actor_may_rate(ctx.actor, branch_id, township_id)
    is_open = await year_is_open(ctx, score["year"])
    out = await ctx.service.repo.execute(
        ctx.county, PointsBook, points_aggregate_id(score["year"], score["rated_kind"], score["rated_id"]), ctx.meta,
        lambda book: book.revoke(cmd.score_id, cmd.reason, is_open))
    return ok(ScoreRevocation(score_id=cmd.score_id, revoked=True), out.seq)


@routes.command("close_year", reply=RatingYearState)
async def on_close_year(ctx: Context, cmd: CloseRatingYear) -> dict:
    """年度关闭: after year-end evaluation no late scores are taken."""
    ctx.require_county_department(YEAR_DETAIL)
    out = await ctx.service.repo.execute(ctx.county, RatingYear, str(cmd.year), ctx.meta, lambda y: y.close(cmd.reason))
    return ok(RatingYearState(year=cmd.year, closed=True), out.seq)


@routes.command("reopen_year", reply=RatingYearState)
async def on_reopen_year(ctx: Context, cmd: ReopenRatingYear) -> dict:
    """年度重开: needs a reason, recorded in the log."""
    ctx.require_county_department(YEAR_DETAIL)
    out = await ctx.service.repo.execute(ctx.county, RatingYear, str(cmd.year), ctx.meta, lambda y: y.reopen(cmd.reason))
    return ok(RatingYearState(year=cmd.year, closed=False), out.seq)
