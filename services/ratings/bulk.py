"""Bulk scoring (积分表): many scores in one request — a township's month-end table, an integration's batch.

Each entry is exactly a record_score: validated, placed, scope-checked and decided on its own points
handbook, idempotent by its key, one event each. What is shared is the cost: one request and one token
check for up to 1,000 entries, the scheme and year looked up once per (year, kind, township), and every
accepted entry's event appended in ONE atomic batch (Repository.execute_many): all of them are stored
or, on a concurrent write to one of the handbooks, none, and the whole decision is taken again on fresh
state. A refused entry refuses only itself; the reply has one result per entry, in the order sent.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import ValidationError

from shared.aggregate import Decision
from shared.errors import DomainError
from shared.ids import new_id
from shared.messaging import ok, validation_error
from shared.routes import Context, Routes
from services.ratings.commands import RecordScore, RecordScores
from services.ratings.domain import PointsBook, points_aggregate_id
from services.ratings.handlers import check_actor_may_rate, placed, scheme_in_force, today, year_is_open
from services.ratings.replies import ScoresRecorded
from services.ratings.standing import require_good_standing

routes = Routes("ratings", writes=("ratings",))


def _refused(index: int, error: DomainError) -> dict[str, Any]:
    return {"index": index, "ok": False, "score_id": None, "replayed": False, "error": error.to_dict()}


class _Entry:
    __slots__ = ("index", "cmd", "score_id", "scheme", "is_open", "branch")

    def __init__(self, index, cmd, scheme, is_open, branch):
        self.index, self.cmd, self.score_id = index, cmd, new_id()
        self.scheme, self.is_open, self.branch = scheme, is_open, branch


async def _prepare(ctx: Context, cmd: RecordScores) -> tuple[dict[str, list[_Entry]], dict[int, dict]]:
    """Each entry validated, placed and scope-checked, with the scheme and year state it is decided under;
    grouped by points handbook (in the order sent). Refusals so far by index."""
    books: dict[str, list[_Entry]] = defaultdict(list)
    refused: dict[int, dict] = {}
    schemes: dict[tuple, Any] = {}
    years: dict[int, bool] = {}
    for i, raw in enumerate(cmd.scores):
        try:
            score = RecordScore.model_validate(raw)
            branch_id, township_id = await placed(ctx, score.rated_kind, score.rated_id)
            check_actor_may_rate(ctx.actor, branch_id, township_id)
            await require_good_standing(ctx, score.rated_kind, score.rated_id)
            if score.year not in years:
                years[score.year] = await year_is_open(ctx, score.year)
            key = (score.year, score.rated_kind, township_id)
            if key not in schemes:
                schemes[key] = await scheme_in_force(ctx, *key)
        except DomainError as exc:
            refused[i] = _refused(i, exc)
            continue
        except ValidationError as exc:
            refused[i] = _refused(i, validation_error(exc))
            continue
        branch = branch_id if score.rated_kind == "member" else None
        book = points_aggregate_id(score.year, score.rated_kind, score.rated_id)
        books[book].append(_Entry(i, score, schemes[key], years[score.year], branch))
    return books, refused


def decide_entries(books: list[PointsBook], entries: list[list[_Entry]], day) -> Decision:
    """Pure: every handbook's entries decided in turn on a draft of it (a later row sees an earlier row's
    idempotency key). The answer maps each entry's index to its result."""
    decision, answers = Decision(), {}
    for book, group in zip(books, entries):
        draft, events = book.draft(), []
        for e in group:
            try:
                new = draft.record(e.cmd, score_id=e.score_id, scheme=e.scheme, year_is_open=e.is_open, today=day,
                                   branch_id=e.branch)
            except DomainError as exc:
                answers[e.index] = _refused(e.index, exc)
                continue
            for ev in new:
                draft.apply(ev)
            events += new
            answers[e.index] = {"index": e.index, "ok": True, "score_id": draft.score_for_key(e.cmd.idempotency_key),
                                "replayed": not new, "error": None}
        decision.add(book, events)
    decision.answer = answers
    return decision


@routes.command("record_scores", reply=ScoresRecorded)
async def on_record_scores(ctx: Context, cmd: RecordScores) -> dict:
    """积分表: record up to 1,000 scores at once, each decided and answered on its own."""
    ctx.require_write()
    books, results = await _prepare(ctx, cmd)
    seq = 0
    if books:
        day, groups = today(), list(books.values())
        out = await ctx.service.repo.execute_many(
            ctx.county, ctx.meta, [(PointsBook, book) for book in books],
            lambda states: decide_entries(states, groups, day))
        results.update(out.result)
        seq = out.seq
    ordered = [results[i] for i in range(len(cmd.scores))]
    return ok({"results": ordered, "recorded": sum(r["ok"] and not r["replayed"] for r in ordered),
               "replayed": sum(r["replayed"] for r in ordered), "refused": sum(not r["ok"] for r in ordered)},
              seq or ctx.min_seq or 0)
