"""Who may act where: a township operator only in their township, a branch secretary only in their
branch, the county department (county_admin, platform_admin) anywhere in its county; auditors read.
Handlers check the loaded aggregates here before the domain decides (issue 9: every write enforces it)."""
from __future__ import annotations

from shared.auth import Actor
from shared.errors import forbidden
from services.organizations.registry.domain import Organization

OUTSIDE_TOWNSHIP = "乡镇操作员只能处理本乡镇的事务 / a township operator acts only in their township"


def check_in_township(actor: Actor, township_id: str | None, detail: str = OUTSIDE_TOWNSHIP) -> None:
    """A township operator acts only on what belongs to their township."""
    if actor.role == "township_operator" and township_id != actor.township:
        raise forbidden(detail)


def check_not_branch_secretary(actor: Actor, detail: str) -> None:
    if actor.role == "branch_secretary":
        raise forbidden(detail)


def check_registry_scope(actor: Actor, township_id: str | None, outside: str, not_secretaries: str) -> None:
    """Registries of the county's and the townships' (centres, units, rooms): a township operator acts on
    their township's entries only, branch secretaries on none."""
    check_in_township(actor, township_id, outside)
    check_not_branch_secretary(actor, not_secretaries)


def check_may_manage_branch(actor: Actor, branch: Organization) -> None:
    """Members of a branch are managed by its secretary, its township's operator or the county."""
    if actor.role == "branch_secretary" and actor.branch != branch.id:
        raise forbidden("支部书记只能管理本支部党员 / a branch secretary manages only their own branch")
    check_in_township(actor, branch.township_id,
                      "乡镇操作员只能管理本乡镇党员 / a township operator manages only their township")


def may_read(actor: Actor, organization: dict | None) -> bool:
    """Rows held by an organization (an `organizations_by_id` entry) a reader may see (README: Read
    rules): `Actor.sees` by the organization's township and id; unknown ownership is outside."""
    return actor.sees(organization["township_id"] if organization else None,
                      organization["organization_id"] if organization else None)


def check_may_import_into(actor: Actor, branch: Organization) -> None:
    """An import registers members of the branches it names: each must be within the actor's scope."""
    if actor.role == "branch_secretary" and actor.branch != branch.id:
        raise forbidden("支部书记只能导入本支部党员 / a branch secretary imports only their own branch")
    if actor.role == "township_operator" and branch.exists and branch.township_id != actor.township:
        raise forbidden("乡镇操作员只能导入本乡镇党员 / a township operator imports only their township")


# -- reads (README: Read rules) ------------------------------------------------------------------
OUTSIDE_READ = "无权查看本乡镇（本支部）以外的数据 / outside your township or branch"


def check_sees(actor: Actor, township_id: str | None, organization_id: str | None, what: str) -> None:
    """One thing of the county (an organization, a member, a case, a unit): refused outside the scope."""
    if not actor.sees(township_id, organization_id):
        raise forbidden(f"{OUTSIDE_READ}: {what}")


def check_not_branch_secretary_read(actor: Actor, what: str) -> None:
    """Figures a branch secretary has no part in (两新组织 coverage): the county department and townships."""
    if actor.role == "branch_secretary":
        raise forbidden(f"支部书记无权查看{what} / a branch secretary may not read {what}")
