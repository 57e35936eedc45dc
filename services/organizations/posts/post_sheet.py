"""设岗定责 as a spreadsheet: the post import (支部, 岗位名称, 岗位类别, 岗位职责, 设岗日期, 党员 — all rows or
none, members named as in their branch) and the ledger export, whose first sheet imports again.

A post's id comes from its branch and name, so importing the same file again defines nothing twice and
assigns only members not yet on the post."""
from __future__ import annotations

import asyncio
import copy
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from shared.aggregate import Aggregate, Decision
from shared.errors import DomainError, FieldError, invalid
from shared.service import Context
from shared.spreadsheet import (CellError, RowError, SheetError, choice, header_columns, lookup, parse_cells,
                                parse_date, read_table, required_text, sheet_rows, text, validation_errors)
from services.organizations import scope
from services.organizations.clock import today
from services.organizations.posts.commands import (CATEGORY_ALIASES, CATEGORY_NAMES, GRADE_NAMES, AssignPost,
                                                   DefinePost, ImportPosts, PostImport)
from services.organizations.posts.domain import Post
from services.organizations.registry.domain import Member, Organization
from services.organizations.registry.queries import branch_lookup, member_ids_of
from services.organizations.registry.registration import import_refused, row_errors
from services.organizations.upload import file_content

COLUMNS = [("branch_id", "支部"), ("name", "岗位名称"), ("category", "岗位类别"), ("duties", "岗位职责"),
           ("defined_on", "设岗日期"), ("members", "党员")]
HEADERS = {**{zh: f for f, zh in COLUMNS}, **{f: f for f, _ in COLUMNS}, "党支部": "branch_id", "所在支部": "branch_id",
           "岗位": "name", "类别": "category", "职责": "duties", "在岗党员": "members"}
_NOISE = re.compile(r"[\s*＊]|[（(][^）)]*[）)]")
_LIST = re.compile(r"[、,，;；/\s]+")


@dataclass
class PostRow:
    number: int
    post: DefinePost
    member_names: list[str] = field(default_factory=list)


def parse_post_file(filename: str, content: bytes, branches: Mapping[str, str]) -> tuple[list[PostRow], list[RowError]]:
    parsers = {"branch_id": lookup(branches, "支部", "branch"), "name": required_text("岗位名称", "post name", 40),
               "category": choice(CATEGORY_ALIASES, "岗位类别", "category", "政策宣传/环境卫生/矛盾调解/关爱老人/…"),
               "duties": required_text("岗位职责", "duties", 300), "defined_on": parse_date,
               "members": lambda v: [w for w in _LIST.split(text(v)) if w]}
    rows, errors, seen = [], [], {}
    try:
        for number, values in sheet_rows(read_table(filename, content), lambda h: header_columns(h, HEADERS, _NOISE),
                                         {f: zh for f, zh in COLUMNS[:5]}, errors):
            problems: list[RowError] = []
            parsed = parse_cells(number, values, parsers, problems)
            if "defined_on" in parsed and parsed["defined_on"] is None:
                problems.append(RowError(number, "defined_on", "设岗日期不能为空 / date is required"))
            key = (parsed.get("branch_id"), parsed.get("name"))
            if not problems and seen.setdefault(key, number) != number:
                problems.append(RowError(number, "name", f"与第 {seen[key]} 行重复 / same post as row {seen[key]}"))
            if problems:
                errors += problems
                continue
            members = parsed.pop("members")
            try:
                rows.append(PostRow(number, DefinePost(**parsed), members))
            except ValidationError as e:
                errors += validation_errors(number, e)
    except (CellError, SheetError) as e:
        return [], [RowError(1, "file", str(e))]
    return rows, errors


def define_posts(rows: Sequence[PostRow], posts: Mapping[str, Post], branches: Mapping[str, Organization],
                 members: Mapping[str, list[Member]], post_id_of: Callable[[str, str], str], *, today: date,
                 errors: Sequence[FieldError] = (), check_scope: Callable[[Organization], None] = lambda b: None
                 ) -> Decision:
    """`members`: each branch's members (names are looked up there; a name held twice is refused)."""
    problems, decision, already, assigned = list(errors), Decision(), 0, 0
    for row in rows:
        cmd, branch = row.post, branches[row.post.branch_id]
        post = posts[post_id_of(cmd.branch_id, cmd.name)]
        try:
            check_scope(branch)
            events = [] if post.exists else post.define(cmd, branch=branch, today=today)
            already += post.exists
            state = copy.deepcopy(post)  # the decision folds its own events on a copy, never on the loaded state
            for e in events:
                state.apply(e)
            for name in row.member_names:
                found = [m for m in members.get(branch.id, []) if m.name == name]
                if len(found) != 1:
                    raise invalid("member_name", "members", f"支部中{'没有' if not found else '有重名的'}党员“{name}” / "
                                                            f"{'no' if not found else 'more than one'} member named {name}")
                if found[0].id in state.holders:
                    continue
                new = state.assign(AssignPost(post_id=post.id, member_id=found[0].id, assigned_on=cmd.defined_on),
                                   member=found[0], branch=branch, today=today)
                for e in new:
                    state.apply(e)
                events += new
                assigned += 1
            decision.add(post, events)
        except DomainError as exc:
            problems += row_errors(row.number, exc)
    if problems:
        raise import_refused(problems)
    decision.answer = PostImport(imported=len(rows) - already, assigned=assigned, already_imported=already)
    return decision


async def import_posts(ctx: Context, cmd: ImportPosts, post_id_of: Callable[[str, str], str]) -> tuple[PostImport, int]:
    ctx.require_write()
    content = file_content(cmd)
    rows, row_problems = parse_post_file(cmd.filename or "posts.csv", content, await branch_lookup(ctx))
    errors = [FieldError(f"row {e.row}: {e.field}", e.message) for e in row_problems]
    if not rows and not errors:
        raise invalid("empty_file", "file", "文件中没有岗位数据 / the file has no post rows")
    branch_ids = sorted({r.post.branch_id for r in rows})
    branches = {b.state.id: b.state for b in await ctx.service.repo.load_many(
        ctx.county, [(Organization, b) for b in branch_ids])}
    for branch in branches.values():  # a branch outside the actor's scope refuses the file as a whole (403)
        scope.check_may_manage_branch(ctx.actor, branch)
    member_lists = await asyncio.gather(*(member_ids_of(ctx, b) for b in branch_ids))
    members: dict[str, list[Member]] = {}
    for branch_id, ids in zip(branch_ids, member_lists):
        members[branch_id] = [m.state for m in await ctx.service.repo.load_many(ctx.county, [(Member, i) for i in ids])]
    refs = [(Post, post_id_of(r.post.branch_id, r.post.name)) for r in rows]
    day = today()

    def decide(states: list[Aggregate]):
        return define_posts(rows, {s.id: s for s in states}, branches, members, post_id_of, today=day, errors=errors,
                            check_scope=lambda branch: scope.check_may_manage_branch(ctx.actor, branch))
    out = await ctx.service.repo.execute_many(ctx.county, ctx.meta, refs, decide, chunked=True)
    return out.result, out.seq


def ledger_xlsx(posts: Sequence[dict], commitments: Sequence[dict], branch_names: Mapping[str, str]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "岗位"
    ws.append([zh for _, zh in COLUMNS] + ["岗位编号"])
    for p in posts:
        ws.append([branch_names.get(p["branch_id"], p["branch_id"]), p["name"], CATEGORY_NAMES[p["category"]],
                   p["duties"], p["defined_on"], "、".join(h["member_name"] for h in p["holders"]), p["post_id"]])
    sheet = wb.create_sheet("承诺与评议")
    sheet.append(["支部", "姓名", "年度", "承诺事项", "承诺日期", "公开方式", "评议日期", "评议主体", "评议等次", "是否践诺",
                  "评议凭证"])
    for c in commitments:
        sheet.append([branch_names.get(c["branch_id"], c["branch_id"]), c["member_name"], c["year"],
                      "；".join(c["items"]), c["made_on"], c["published_at"], c["reviewed_on"], c["reviewed_by"],
                      GRADE_NAMES.get(c["grade"] or "", ""), _yes_no(c["fulfilled"]), c["evidence_ref"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _yes_no(value: Any) -> str:
    return "" if value is None else "是" if value else "否"
