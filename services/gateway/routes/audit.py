"""Audit replay (巡查、纪检): ratings and the star distribution as of a business date as known at a recorded
time, with provenance; the paged score history → the ratings service; an organization's status
(lifecycle, classification, rectification) as of / as known at → the organizations service
(docs/decisions/016-audit-log.md)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from services.gateway.edge import ReadEdge
from services.gateway.params import IdPath, IdQuery, IsoDate, KnownAt, OptionalYearQuery
from services.gateway.problems import PROBLEM_RESPONSES, problems
from services.organizations.audit.handlers import OrganizationStatusAsOf
from services.ratings.audit_replies import RatingAsOf, ScoreHistory, StarDistributionAsOf
from shared.signing import EventKeys

SERVICE = "ratings"
router = APIRouter(prefix="/api/v1/counties/{county}/audit", tags=["audit"], responses=PROBLEM_RESPONSES)

AsOfQuery = Annotated[IsoDate | None, Query(description="业务日期 YYYY-MM-DD：该日及以前发生的积分；默认今天 / "
                                                     "business date: scores that occurred on or before it; default today")]
KnownAtQuery = Annotated[KnownAt | None, Query(description="记录时间：YYYY-MM-DD（当日北京时间结束）或带时区的时间；默认现在 / "
                                                         "recorded time: a date (its end, China time) or a date-time "
                                                         "with offset; only events recorded by then; default now")]


def _when(as_of, known_at) -> dict[str, Any]:
    return {"as_of": as_of.isoformat() if as_of else None, "known_at": known_at.isoformat() if known_at else None}


@router.get("/members/{member_id}/rating", response_model=RatingAsOf, responses=problems(404),
            summary="党员星级（某日、当时所知） / a member's stars as of a date, as known at a time")
async def member_rating_as_of(edge: ReadEdge, member_id: IdPath, year: OptionalYearQuery = None, as_of: AsOfQuery = None,
                              known_at: KnownAtQuery = None) -> Any:
    return await edge.read(SERVICE, "rating_as_of", {"rated_kind": "member", "rated_id": member_id, "year": year,
                                                     **_when(as_of, known_at)})


@router.get("/organizations/{organization_id}/rating", response_model=RatingAsOf, responses=problems(404),
            summary="党组织星级（某日、当时所知） / an organization's stars as of a date, as known at a time")
async def organization_rating_as_of(edge: ReadEdge, organization_id: IdPath, year: OptionalYearQuery = None,
                                    as_of: AsOfQuery = None, known_at: KnownAtQuery = None) -> Any:
    return await edge.read(SERVICE, "rating_as_of", {"rated_kind": "organization", "rated_id": organization_id,
                                                     "year": year, **_when(as_of, known_at)})


async def _history(edge, kind: str, rated_id: str, year: int, known_at, page: int, page_size: int) -> Any:
    return await edge.read(SERVICE, "score_history", {
        "rated_kind": kind, "rated_id": rated_id, "year": year, "page": page, "page_size": page_size,
        "known_at": known_at.isoformat() if known_at else None})


HistoryYear = Annotated[int, Query(ge=2000, le=2100, description="rating year")]
Page = Annotated[int, Query(ge=1, le=100_000, description="page, from 1")]
PageSize = Annotated[int, Query(ge=1, le=500, description="entries per page")]


@router.get("/members/{member_id}/scores", response_model=ScoreHistory, responses=problems(404),
            summary="党员积分手册（含撤销） / a member's score entries for a year, paged")
async def member_score_history(edge: ReadEdge, member_id: IdPath, year: HistoryYear, known_at: KnownAtQuery = None,
                               page: Page = 1, page_size: PageSize = 100) -> Any:
    return await _history(edge, "member", member_id, year, known_at, page, page_size)


@router.get("/organizations/{organization_id}/scores", response_model=ScoreHistory, responses=problems(404),
            summary="党组织积分手册（含撤销） / an organization's score entries for a year, paged")
async def organization_score_history(edge: ReadEdge, organization_id: IdPath, year: HistoryYear,
                                     known_at: KnownAtQuery = None, page: Page = 1, page_size: PageSize = 100) -> Any:
    return await _history(edge, "organization", organization_id, year, known_at, page, page_size)


@router.get("/star-distribution", response_model=StarDistributionAsOf,
            summary="星级分布（某日、当时所知） / the star distribution as of a date, as known at a time")
async def star_distribution_as_of(edge: ReadEdge, year: OptionalYearQuery = None, as_of: AsOfQuery = None,
                                  known_at: KnownAtQuery = None, township_id: IdQuery = None,
                                  branch_id: IdQuery = None) -> Any:
    return await edge.read(SERVICE, "star_distribution_as_of", {"year": year, "township_id": township_id,
                                                                "branch_id": branch_id, **_when(as_of, known_at)})


@router.get("/organizations/{organization_id}/status", response_model=OrganizationStatusAsOf, responses=problems(404),
            summary="党组织状态（存续、分类定级、整顿；某日、当时所知） / an organization's status as of a date, as known at a time")
async def organization_status_as_of(edge: ReadEdge, organization_id: IdPath, as_of: AsOfQuery = None,
                                    known_at: KnownAtQuery = None) -> Any:
    return await edge.read("organizations", "organization_status_as_of", {"organization_id": organization_id,
                                                                          **_when(as_of, known_at)})


class EventKey(BaseModel):
    writer: str = Field(description="the service that signs with it (organizations, ratings …; audit-export: manifests)")
    public_key: str = Field(description="Ed25519 public key, raw 32 bytes, base64url without padding")
    created_at: str = Field(description="when it was generated (UTC)")
    retired_at: str | None = Field(description="rotated: what it signed before stays valid")
    revoked_at: str | None = Field(None, description="revoked (leaked) at this time (UTC)")
    revoked_from: dict[str, int] | None = Field(None, description="county → first stream sequence where nothing it "
                                                                  "signed is valid; in other counties nothing is")


class EventKeyDocument(BaseModel):
    """The published event keys (event-keys.json): what auditors verify signatures and exports with."""

    keys: dict[str, EventKey] = Field(description="key id → key")


@router.get("/event-keys", response_model=EventKeyDocument,
            summary="事件签名公钥 / the public keys events and exports are signed with")
async def event_keys(edge: ReadEdge, request: Request) -> Any:
    return EventKeys.load(request.app.state.event_keys_path).document()
