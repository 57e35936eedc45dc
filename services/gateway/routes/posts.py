"""无职党员设岗定责 (posts for members without office): posts, holders, public commitments and their
reviews, the import and the ledger → the organizations service."""
# No `from __future__ import annotations`: the route factory annotates with its arguments.
from typing import Annotated, Any

from fastapi import APIRouter, File, Header, Path, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from services.gateway import bodies
from services.gateway.auth import TOKEN_PATTERN
from services.gateway.edge import ReadEdge, WriteEdge, written
from services.gateway.registry_imports import ACCEPT_DOC, add_template_route, run_import
from services.gateway.files import XLSX_RESPONSES, xlsx_download
from services.gateway.params import IdQuery, YearQuery
from services.gateway.problems import PROBLEM_RESPONSES
from services.organizations.contracts import body_of
from services.organizations.posts.commands import (AssignPost, CommitmentChange, CommitmentReviewResult, DefinePost,
                                                   MakeCommitment, PostChange, PostImport, ReleasePost,
                                                   ReviewCommitment)
from services.organizations.posts.queries import CommitmentList, PostList

SERVICE = "organizations"
router = APIRouter(prefix="/api/v1/counties/{county}", tags=["posts"], responses=PROBLEM_RESPONSES)



@router.post("/posts", status_code=201, response_model=written(PostChange),
             summary="设岗 / define a post of a branch for members without office")
async def define_post(body: DefinePost, edge: WriteEdge) -> dict[str, Any]:
    """The post's id derives from the branch and the name unless given: defining it again is refused (409)."""
    return await edge.write(SERVICE, "define_post", body.model_dump(mode="json"))


@router.get("/posts", response_model=PostList, summary="岗位及在岗党员 / posts and who holds them")
async def list_posts(edge: ReadEdge, branch_id: IdQuery = None) -> Any:
    return await edge.read(SERVICE, "list_posts", {"branch_id": branch_id})


@router.post("/posts/import", status_code=201, response_model=written(PostImport),
             summary="导入岗位（CSV/Excel） / import posts and their holders (≤10 MB)")
async def import_posts(edge: WriteEdge,
                       file: Annotated[UploadFile, File(description=".csv 或 .xlsx，≤10 MB")],
                       accept: Annotated[str | None, Header(description=ACCEPT_DOC)] = None) -> Any:
    """Columns 支部, 岗位名称, 岗位类别, 岗位职责, 设岗日期 and optional 党员 (names in the branch, 、-separated).
    All or nothing; the ledger's first sheet imports again unchanged."""
    return await run_import(edge, "import_posts", file, accept, "posts")


add_template_route(router, "/posts/import/template", "posts")


@router.get("/posts.xlsx", response_class=Response, responses=XLSX_RESPONSES,
            summary="导出设岗定责台账（Excel） / download posts, holders and a year's commitments")
async def export_posts(edge: ReadEdge, year: YearQuery, branch_id: IdQuery = None) -> Response:
    return await xlsx_download(edge, SERVICE, "posts_export", {"year": year, "branch_id": branch_id},
                               f"posts_{edge.county}_{year}.xlsx")


@router.post("/commitments", status_code=201, response_model=written(CommitmentChange),
             summary="公开承诺 / a member on a post makes the year's public commitment")
async def make_commitment(body: MakeCommitment, edge: WriteEdge) -> dict[str, Any]:
    return await edge.write(SERVICE, "make_commitment", body.model_dump(mode="json"))


@router.post("/commitments/review", response_model=written(CommitmentReviewResult),
             summary="践诺评议 / review the fulfilment of a member's commitment")
async def review_commitment(body: ReviewCommitment, edge: WriteEdge) -> dict[str, Any]:
    """The answer's `evidence_ref` is what a duty-star (职责星) score cites as its `evidence_ref`."""
    return await edge.write(SERVICE, "review_commitment", body.model_dump(mode="json"))


@router.get("/commitments", response_model=CommitmentList,
            summary="承诺与评议 / a year's commitments and reviews")
async def list_commitments(edge: ReadEdge, year: YearQuery, branch_id: IdQuery = None,
                           member_id: IdQuery = None) -> Any:
    return await edge.read(SERVICE, "list_commitments", {"year": year, "branch_id": branch_id, "member_id": member_id})


def _post_command(segment: str, model: type[BaseModel], command: str, summary: str) -> None:
    body_model = body_of(model, "post_id")

    async def endpoint(body: body_model, edge: WriteEdge,  # type: ignore[valid-type]
                       post_id: Annotated[str, Path(pattern=TOKEN_PATTERN, description="岗位编号 / post")]
                       ) -> dict[str, Any]:
        data = bodies.command(model, {**body.model_dump(exclude_unset=True), "post_id": post_id},
                              {"post_id": "path.post_id"})
        return await edge.write(SERVICE, command, data)

    router.add_api_route(f"/posts/{{post_id}}/{segment}", endpoint, methods=["POST"], name=command,
                         response_model=written(PostChange), summary=summary, description=model.__doc__)


_post_command("holders", AssignPost, "assign_post", "定责 / assign a member without office to the post")
_post_command("release", ReleasePost, "release_post", "离岗 / a member leaves the post")
