"""The registry imports of issue 12 over the API — 发展党员, 流动党员, 服务站点, 党群服务中心, 设岗定责, 党代表工作室:
the template to fill in (`GET …/import/template`) and, for a refused file, its errors as a workbook.

Each import is all or nothing in its service (the same validation and scope as the single commands, ids
derived from each row's key so the same rows import again as nothing new). A refusal names every bad
cell as "row N: field"; sent with `Accept: <xlsx media type>`, the refusal (still 422) carries the
error workbook instead of problem+json: the uploaded rows as they were, each with its errors beside it
(services/gateway/pages/workbooks.py, the workbench's, is the one implementation of both workbooks)."""
from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, UploadFile
from fastapi.responses import Response

from services.gateway.edge import Edge, ReadEdge
from services.gateway.files import XLSX, XLSX_RESPONSES, content_disposition, upload_data
from services.gateway.pages.workbooks import error_workbook, template
from shared.errors import DomainError

SERVICE = "organizations"
ACCEPT_DOC = ("the xlsx media type: a refused file (422) answers its error workbook — every uploaded row with its "
              "errors beside it — instead of problem+json")
# kind: (title, columns, example row) — the example must import (tests/unit/test_registry_templates.py)
TEMPLATES: dict[str, tuple[str, list[str], list[Any]]] = {
    "applicants": ("发展党员导入模板",
                   ["姓名", "性别", "出生日期", "所在支部", "申请日期", "接收人", "确定积极分子日期", "培养联系人",
                    "确定发展对象日期", "决定机构"],
                   ["黄小燕", "女", "1996-03-08", "侨港镇侨港村党支部", "2024-03-01", "李卫东", "2024-09-01",
                    "张秀玲、李卫东", "2025-10-08", "支部委员会"]),
    "mobile-members": ("流动党员导入模板",
                       ["党员", "所在支部", "外出日期", "外出地点", "联系方式", "登记日期", "服务站点", "接收党组织"],
                       ["张秀玲", "侨港镇侨港村党支部", "2025-01-10", "广东省深圳市", "13800000000", "2025-08-01",
                        "深圳北海商会流动党员服务站", ""]),
    "mobile-service-points": ("流动党员服务站点导入模板", ["站点名称", "所在地", "依托单位", "联系人", "设立日期"],
                              ["深圳北海商会流动党员服务站", "广东省深圳市", "深圳北海商会", "林芳 13600000000",
                               "2024-01-01"]),
    "centres": ("党群服务中心导入模板",
                ["名称", "类型", "层级", "乡镇", "村社区党组织", "面积", "功能区", "服务窗口", "标识", "夜间可视", "地址",
                 "建成日期"],
                ["侨港村党群服务中心", "中心", "村", "侨港镇", "侨港镇侨港村党支部", "260",
                 "日常办公区、综合服务区、活动区、教育培训区", "党员服务、综合业务、帮办代办、咨询投诉", "是", "是",
                 "侨港路1号", "2024-06-01"]),
    "posts": ("设岗定责导入模板", ["支部", "岗位名称", "岗位类别", "岗位职责", "设岗日期", "党员"],
              ["侨港镇侨港村党支部", "政策宣传岗", "政策宣传", "入户宣讲惠民政策", "2026-01-05", "张秀玲、李卫东"]),
    "rooms": ("党代表工作室导入模板", ["工作室", "乡镇", "设立日期", "姓名", "身份", "代表层级", "进室日期", "负责人"],
              ["侨港镇党代表工作室", "侨港镇", "2023-05-01", "黄海燕", "党代表", "县级", "2023-05-01", "是"]),
}


def wants_workbook(accept: str | None) -> bool:
    return bool(accept) and XLSX in accept


async def run_import(edge: Edge, command: str, file: UploadFile, accept: str | None, kind: str) -> Any:
    """The service's import of the upload; a refused file as its error workbook when asked for."""
    data = await upload_data(file)
    try:
        return await edge.write(SERVICE, command, data)
    except DomainError as exc:
        if exc.status != 422 or not exc.errors or not wants_workbook(accept):
            raise
        errors = [{"field": e.field, "message": e.message} for e in exc.errors]
        content = error_workbook(data["filename"], base64.b64decode(data["content_b64"]), errors)
        title = TEMPLATES[kind][0].removesuffix("导入模板")
        return Response(content, status_code=422, media_type=XLSX, headers={
            "Content-Disposition": content_disposition(f"{title}导入错误.xlsx", f"{kind}-import-errors.xlsx")})


def template_response(kind: str) -> Response:
    filename, content = template(kind, TEMPLATES)
    return Response(content, media_type=XLSX,
                    headers={"Content-Disposition": content_disposition(filename, f"{kind}-template.xlsx")})


def add_template_route(router: APIRouter, path: str, kind: str, tags: list[str] | None = None) -> None:
    """GET <path>: the template of `kind` (the columns the import reads, one example row)."""
    title = TEMPLATES[kind][0]

    async def endpoint(edge: ReadEdge) -> Response:  # a signed-in reader of the county, as for every read
        return template_response(kind)
    endpoint.__doc__ = "导入模板：导入读取的各列及一行示例 / the columns the import reads, with one example row."
    router.add_api_route(path, endpoint, methods=["GET"], name=f"{kind.replace('-', '_')}_import_template",
                         response_class=Response, responses=XLSX_RESPONSES, tags=tags,
                         summary=f"{title}（Excel） / the import template (.xlsx)")
