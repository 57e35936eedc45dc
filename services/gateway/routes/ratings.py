"""Star schemes, scores, rating years and ratings → the ratings service."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, Path, Query, Request

from services.gateway import bodies
from services.gateway.auth import TOKEN_PATTERN
from services.gateway.edge import SEQ_HEADER, Edge, ReadEdge, WriteEdge, with_seq, written
from services.gateway.params import AsOfQuery, IdPath, OptionalYearQuery
from services.gateway.problems import PROBLEM_RESPONSES, problems
from services.ratings.commands import CloseRatingYear, DefineStarScheme, RecordScore, ReopenRatingYear, RevokeScore
from services.ratings.replies import (Rating, RatingYearState, SchemeDefined, SchemeView, ScoreRecorded,
                                      ScoreRevocation, StarDistribution)
from shared.catalog.ratings import RatedKind
from shared.errors import DomainError

SERVICE = "ratings"
router = APIRouter(prefix="/api/v1/counties/{county}", tags=["ratings"], responses=PROBLEM_RESPONSES)

YearPath = Annotated[int, Path(ge=2000, le=2100, description="rating year")]

SchemeDefinition = bodies.without(DefineStarScheme, "SchemeDefinition", {"year"})
ScoreEntry = bodies.without(RecordScore, "ScoreEntry", {"rated_kind", "rated_id"}, {"idempotency_key"},
                            doc=RecordScore.__doc__ + " idempotency_key may come as the Idempotency-Key header.")
Revocation = bodies.without(RevokeScore, "Revocation", {"score_id"})
YearClosing = bodies.without(CloseRatingYear, "YearClosing", {"year"})
YearReopening = bodies.without(ReopenRatingYear, "YearReopening", {"year"})
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=100,
                                                           description="used when the body has none")]


def this_year() -> int:
    return datetime.now(ZoneInfo("Asia/Shanghai")).year


@router.put("/star-schemes/{year}", summary="设星方案 / define (or replace) a star scheme",
            response_model=written(SchemeDefined), responses=problems(409))
async def define_scheme(body: SchemeDefinition, edge: WriteEdge, year: YearPath) -> dict[str, Any]:
    data = bodies.command(DefineStarScheme, {**body.model_dump(exclude_unset=True), "year": year},
                          {"year": "path.year"})
    return await edge.write(SERVICE, "define_scheme", data)


@router.get("/star-schemes/{year}", summary="查看设星方案 / the scheme in force", response_model=SchemeView,
            responses=problems(404))
async def get_scheme(edge: ReadEdge, year: YearPath, rated_kind: RatedKind = "member",
                     township_id: Annotated[str | None, Query(pattern=TOKEN_PATTERN)] = None) -> Any:
    return await edge.read(SERVICE, "get_scheme", {"year": year, "rated_kind": rated_kind, "township_id": township_id})


async def _score(request: Request, edge: Edge, body: Any, kind: str, rated_id: str, path_name: str,
                 key: str | None) -> dict:
    """Concurrent scores of one caller share a record_scores request (services/gateway/coalesce.py)."""
    data = {**body.model_dump(exclude_unset=True), "rated_kind": kind, "rated_id": rated_id}
    origins = {"rated_id": f"path.{path_name}"}
    if data.get("idempotency_key") is None and key is not None:
        data["idempotency_key"] = key
        origins["idempotency_key"] = "header.Idempotency-Key"
    command = bodies.command(RecordScore, data, origins)
    try:
        reply = await request.app.state.score_coalescer.record(edge.county, edge.actor, command, edge.correlation_id)
    except DomainError as exc:
        raise command.refusal(exc) from None
    edge.tracker.note(edge.actor.sub, edge.county, reply.seq)
    if reply.seq:
        edge.response.headers[SEQ_HEADER] = str(reply.seq)
    return with_seq(reply.data, reply.seq)


@router.post("/members/{member_id}/scores", status_code=201, summary="党员积分（加分/扣分） / score a member",
             response_model=written(ScoreRecorded), responses=problems(404, 409))
async def score_member(request: Request, body: ScoreEntry, edge: WriteEdge, member_id: IdPath,
                       idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    return await _score(request, edge, body, "member", member_id, "member_id", idempotency_key)


@router.post("/organizations/{organization_id}/scores", status_code=201,
             summary="党组织积分 / score an organization", response_model=written(ScoreRecorded),
             responses=problems(404, 409))
async def score_organization(request: Request, body: ScoreEntry, edge: WriteEdge, organization_id: IdPath,
                             idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    return await _score(request, edge, body, "organization", organization_id, "organization_id", idempotency_key)


@router.post("/scores/{score_id}/revocation", summary="撤销积分（留痕） / revoke a score with a reason",
             response_model=written(ScoreRevocation), responses=problems(404, 409))
async def revoke_score(body: Revocation, edge: WriteEdge, score_id: IdPath) -> dict[str, Any]:
    data = bodies.command(RevokeScore, {**body.model_dump(exclude_unset=True), "score_id": score_id},
                          {"score_id": "path.score_id"})
    return await edge.write(SERVICE, "revoke_score", data)


@router.post("/rating-years/{year}/close", summary="年度关闭 / close a rating year",
             response_model=written(RatingYearState), responses=problems(409))
async def close_year(body: YearClosing, edge: WriteEdge, year: YearPath) -> dict[str, Any]:
    data = bodies.command(CloseRatingYear, {**body.model_dump(exclude_unset=True), "year": year}, {"year": "path.year"})
    return await edge.write(SERVICE, "close_year", data)


@router.post("/rating-years/{year}/reopen", summary="年度重开（须说明原因） / reopen a closed year",
             response_model=written(RatingYearState), responses=problems(409))
async def reopen_year(body: YearReopening, edge: WriteEdge, year: YearPath) -> dict[str, Any]:
    data = bodies.command(ReopenRatingYear, {**body.model_dump(exclude_unset=True), "year": year}, {"year": "path.year"})
    return await edge.write(SERVICE, "reopen_year", data)


@router.get("/members/{member_id}/rating", summary="党员星级 / a member's stars for a year", response_model=Rating,
            responses=problems(404))
async def member_rating(edge: ReadEdge, member_id: IdPath, year: OptionalYearQuery = None) -> Any:
    return await edge.read(SERVICE, "member_rating", {"member_id": member_id, "year": year or this_year()})


@router.get("/organizations/{organization_id}/rating", summary="党组织星级 / an organization's stars for a year",
            response_model=Rating, responses=problems(404))
async def organization_rating(edge: ReadEdge, organization_id: IdPath, year: OptionalYearQuery = None) -> Any:
    return await edge.read(SERVICE, "organization_rating",
                           {"organization_id": organization_id, "year": year or this_year()})


@router.get("/star-distribution", summary="星级分布 / how many members at each star level",
            response_model=StarDistribution)
async def star_distribution(edge: ReadEdge, year: OptionalYearQuery = None, as_of: AsOfQuery = None) -> Any:
    """Members not in good standing (党籍异动: deceased, left, expelled, suspended, probation cancelled) on
    `as_of` are not counted — by default today, or the last day of a past year."""
    return await edge.read(SERVICE, "star_distribution", {"year": year or this_year(),
                                                          "as_of": as_of.isoformat() if as_of else None})
