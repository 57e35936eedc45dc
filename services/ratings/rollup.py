"""The ratings side of a provincial rollup (issue 14): one county's star figures for a rating year, for
a token covering the county (shared/routes.py `province`); the gateway adds the counties up."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.messaging import ok
from shared.routes import Context, Routes
from services.ratings.commands import RatingYearNumber
from services.ratings.queries import distribution_of

routes = Routes("ratings")


class StarRollupQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    year: RatingYearNumber


class StarFigure(BaseModel):
    year: int = Field(description="评星年度 / rating year")
    members_rated: int = Field(description="已评星党员 / members with a rating")
    members_by_stars: dict[str, int] = Field(description="党员星级分布 / members per number of earned stars")
    organizations_rated: int = Field(description="已评星党组织 / organizations with a rating")
    class_one: int = Field(description="一类党组织 / organizations in 一类")
    class_two: int = Field(description="二类党组织 / organizations in 二类")


@routes.query("county_rollup", reply=StarFigure, province=True)
async def on_county_rollup(ctx: Context, q: StarRollupQuery) -> dict:
    """The county's star distribution for the year, as the star read-model holds it now."""
    d = await distribution_of(ctx, q.year)
    return ok(StarFigure(year=q.year, members_rated=d.members.rated, members_by_stars=d.members.by_stars,
                         organizations_rated=d.organizations.rated, class_one=d.organizations.class_one,
                         class_two=d.organizations.class_two))
