"""Chinese first, English alongside: page texts and the translation of validation messages (Pydantic's
English messages become Chinese for people; the API keeps the English too)."""
from __future__ import annotations

import re

LANGS = ("zh", "en")

# Pydantic's messages (pydantic_core) → Chinese; {n} / {v} carry the number or value of the message.
_MESSAGES: list[tuple[re.Pattern[str], str]] = [(re.compile(p), zh) for p, zh in [
    (r"^Field required$", "必填"),
    (r"^String should have at most (\d+) characters?$", "最多 {0} 个字符"),
    (r"^String should have at least (\d+) characters?$", "至少 {0} 个字符"),
    (r"^String should match pattern '.*'$", "格式不正确"),
    (r"^Input should be a valid integer.*$", "应为整数"),
    (r"^Input should be a valid number.*$", "应为数字"),
    (r"^Input should be a valid date.*$", "应为有效日期（如 2026-01-31）"),
    (r"^Input should be greater than or equal to (\S+)$", "不能小于 {0}"),
    (r"^Input should be less than or equal to (\S+)$", "不能大于 {0}"),
    (r"^Input should be greater than (\S+)$", "应大于 {0}"),
    (r"^Input should be less than (\S+)$", "应小于 {0}"),
    (r"^Input should be (.+)$", "应为 {0} 之一"),
    (r"^Value error, (.*)$", "{0}"),
    (r"^Extra inputs are not permitted$", "不允许的字段"),
]]
_HAS_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def chinese(message: str) -> str:
    """The Chinese of a validation message ('String should have at most 40 characters' → '最多 40 个字符');
    a message that is Chinese already (the domain's "中文 / English") keeps its Chinese part."""
    if _HAS_CHINESE.search(message):
        return message.split(" / ", 1)[0]
    for pattern, zh in _MESSAGES:
        m = pattern.match(message)
        if m:
            return zh.format(*m.groups())
    return message


def bilingual(message: str) -> str:
    """'最多 40 个字符 / String should have at most 40 characters' (the English kept for integrations)."""
    zh = chinese(message)
    return message if zh == message else f"{zh} / {message}"


TEXT = {
    "zh": {"title": "党建工作台", "login": "登录", "logout": "退出", "login_name": "登录名", "password": "密码",
           "overview": "总览", "coverage": "覆盖情况", "ratings": "星级管理", "rectification": "整顿台账",
           "enterprises": "两新组织", "accounts": "账号", "change_password": "修改密码", "new_password": "新密码",
           "current_password": "当前密码", "save": "保存", "county": "县（区）", "as_of": "统计日期",
           "targets": "目标任务", "rate": "完成率", "target": "要求", "shortfall": "差距单位", "met": "已达标",
           "not_met": "未达标", "stars": "星级分布", "members_rated": "参评党员", "cases": "整顿案例",
           "listed": "列入", "rectified": "销号", "conversion": "转化率", "overdue": "超期未销号",
           "elections": "换届提醒", "due": "换届期限", "none": "暂无", "lang": "English",
           "organization_coverage": "组织覆盖率", "work_coverage": "工作覆盖率", "township": "乡镇",
           "in_scope": "应建单位", "organized": "已建", "notifications": "最新通知", "star_n": "{0}星",
           "search": "查询", "total": "共", "prev": "上一页", "next": "下一页", "branch": "支部", "member": "党员",
           "own_stars": "本组织星级", "record_score": "记录积分", "category": "星级类别", "points": "分值",
           "reason": "事由", "occurred_on": "发生日期", "revoke": "撤销", "revoked": "已撤销", "scores": "积分记录",
           "total_stars": "已获星数", "total_points": "总积分", "year": "年度", "members": "党员",
           "recorded_by": "记录人", "earned": "已获得", "star_class": "类别",
           "dimension": "维度", "dim_township": "乡镇", "dim_industry": "行业", "dim_size_band": "规模",
           "dim_unit_type": "单位类型", "trend": "月度趋势", "download_xlsx": "下载Excel统计表",
           "all": "全部", "unit_type": "单位类型", "industry": "行业", "status": "状态", "unit_name": "单位名称",
           "employees": "从业人员", "full_members": "正式党员", "v_operating": "正常经营", "v_suspended": "停业",
           "v_deregistered": "注销", "v_private_enterprise": "非公企业", "v_social_organization": "社会组织",
           "campaign": "批次", "due_on": "整顿期限", "next_step": "下一步", "case_open": "未销号", "case_flagged": "已列入",
           "case_planned": "整顿中", "case_township_accepted": "乡镇已验收", "case_rectified": "已销号",
           "reasons": "软弱涣散情形", "plan": "整顿方案", "first_secretary": "第一书记", "liaison_leader": "包联领导",
           "timeline": "整顿过程", "ev_OrganizationFlaggedWeak": "列入整顿", "ev_RectificationPlanned": "制定方案",
           "ev_RectificationProgressReported": "报告进展", "ev_RectificationAcceptedByTownship": "乡镇验收",
           "ev_BranchRectified": "县级验收销号", "ev_SecretaryReplaced": "调整书记",
           "ev_FirstSecretaryAssigned": "选派第一书记", "ev_LiaisonLeaderAssigned": "确定包联领导",
           "ev_RectificationExtended": "延期", "person": "姓名", "role": "角色", "scope": "范围", "whole_county": "全县",
           "disabled": "已停用", "locked": "已锁定", "active": "正常", "enable": "启用", "disable": "停用",
           "new_account": "开设账号", "role_county_admin": "县级管理员", "role_township_operator": "乡镇操作员",
           "role_branch_secretary": "支部书记", "role_auditor": "审计员", "role_platform_admin": "平台管理员",
           "imports": "数据导入", "import_members": "导入党员", "import_enterprises": "导入两新组织", "import_scores": "导入积分表",
           "template": "下载Excel模板", "file": "文件（.csv 或 .xlsx）", "upload": "上传导入",
           "error_workbook": "下载错误清单（Excel）", "audit": "审计查询", "kind": "对象", "rated_id": "编号",
           "known_at": "当时所知（记录时间）", "state_then": "当时的状态", "events_behind": "依据的事件",
           "recorded_at": "记录时间", "counted": "计入", "later": "此后才撤销", "manage": "调整", "rescope": "调整角色与范围",
           "reset_password": "重置密码", "inbox": "通知", "unread": "未读", "mark_all_read": "全部标为已读",
           "mark_read": "标为已读", "unread_only": "只看未读", "live": "实时", "sev_info": "一般", "sev_warning": "提醒",
           "sev_critical": "重要", "all_notifications": "全部通知", "occurred": "日期", "severity": "级别"},
    "en": {"title": "Party-building workbench", "login": "Sign in", "logout": "Sign out", "login_name": "Login",
           "password": "Password", "overview": "Overview", "coverage": "Coverage", "ratings": "Star ratings",
           "rectification": "Rectification", "enterprises": "Enterprises", "accounts": "Accounts",
           "change_password": "Change password", "new_password": "New password",
           "current_password": "Current password", "save": "Save", "county": "County", "as_of": "As of",
           "targets": "Targets", "rate": "Achieved", "target": "Target", "shortfall": "Falling short",
           "met": "met", "not_met": "not met", "stars": "Star distribution", "members_rated": "Members rated",
           "cases": "Rectification cases", "listed": "Listed", "rectified": "Rectified", "conversion": "Conversion",
           "overdue": "Overdue", "elections": "Elections due", "due": "Due", "none": "None", "lang": "中文",
           "organization_coverage": "Organization coverage", "work_coverage": "Work coverage",
           "township": "Township", "in_scope": "In scope", "organized": "Organized",
           "notifications": "Recent notifications", "star_n": "{0} stars",
           "search": "Search", "total": "Total", "prev": "Previous", "next": "Next", "branch": "Branch",
           "member": "Member", "own_stars": "Own stars", "record_score": "Record a score", "category": "Star",
           "points": "Points", "reason": "Reason", "occurred_on": "Occurred on", "revoke": "Revoke",
           "revoked": "revoked", "scores": "Scores", "total_stars": "Stars earned", "total_points": "Points",
           "year": "Year", "members": "Members", "recorded_by": "Recorded by", "earned": "earned",
           "star_class": "Class", "dimension": "By", "dim_township": "Township", "dim_industry": "Industry",
           "dim_size_band": "Size band", "dim_unit_type": "Unit type", "trend": "Monthly trend",
           "download_xlsx": "Download Excel table", "all": "all", "unit_type": "Unit type", "industry": "Industry",
           "status": "Status", "unit_name": "Unit", "employees": "Employees", "full_members": "Full members",
           "v_operating": "operating", "v_suspended": "suspended", "v_deregistered": "deregistered",
           "v_private_enterprise": "private enterprise", "v_social_organization": "social organization",
           "campaign": "Campaign", "due_on": "Due", "next_step": "Next step", "case_open": "open",
           "case_flagged": "listed", "case_planned": "in progress", "case_township_accepted": "accepted by township",
           "case_rectified": "rectified", "reasons": "Reasons", "plan": "Plan", "first_secretary": "First secretary",
           "liaison_leader": "Liaison leader", "timeline": "Timeline", "person": "Name", "role": "Role",
           "scope": "Scope", "whole_county": "whole county", "disabled": "disabled", "locked": "locked",
           "active": "active", "enable": "Enable", "disable": "Disable", "new_account": "Open an account",
           "role_county_admin": "county admin", "role_township_operator": "township operator",
           "role_branch_secretary": "branch secretary", "role_auditor": "auditor",
           "role_platform_admin": "platform admin", "imports": "Imports", "import_members": "Import members",
           "import_enterprises": "Import enterprises", "import_scores": "Import a score sheet", "template": "Download the Excel template",
           "file": "File (.csv or .xlsx)", "upload": "Upload", "error_workbook": "Download the errors (Excel)",
           "audit": "Audit", "kind": "Of", "rated_id": "Id", "known_at": "Known at (recorded time)",
           "state_then": "State then", "events_behind": "Events behind it", "recorded_at": "Recorded at",
           "counted": "Counted", "later": "revoked only later",
           "manage": "Manage", "rescope": "Change role and scope", "reset_password": "Reset password",
           "inbox": "Notifications", "unread": "unread", "mark_all_read": "Mark all read", "mark_read": "Mark read",
           "unread_only": "Unread only", "live": "live", "sev_info": "info", "sev_warning": "warning",
           "sev_critical": "critical", "all_notifications": "All notifications", "occurred": "Date",
           "severity": "Severity"},
}


def texts(lang: str) -> dict[str, str]:
    return TEXT["en" if lang == "en" else "zh"]
