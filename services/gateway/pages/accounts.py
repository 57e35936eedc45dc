"""账号管理 for county admins: the county's accounts, opening one, disabling / enabling, re-scoping (another
role, township or branch) and resetting a password (all but enabling end the account's sessions at once,
as the API does). Each is an event of the account, with who did it."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from services.gateway.pages.forms import field_errors, refusal_errors
from services.gateway.pages.tables import table
from services.gateway.pages.web import SignInNeeded, check_form, county_page, edge_for, render, to_login
from services.gateway.routes.tokens import _revoke
from services.organizations.accounts.commands import (CreateAccount, DisableAccount, EnableAccount, RescopeAccount,
                                                      ResetPassword)
from shared.errors import DomainError

router = APIRouter()
ACTIONS = {"disable": ("disable_account", DisableAccount, True), "enable": ("enable_account", EnableAccount, False),
           "reset": ("reset_password", ResetPassword, True),
           "rescope": ("rescope_account", RescopeAccount, True)}  # name, command, ends the sessions
OPTIONAL = ("township_id", "branch_id")  # an empty select or field means none


async def _page(request: Request, county: str, actor, errors=None, form=None, status_code: int = 200) -> Response:
    edge = edge_for(request, actor, county)
    try:
        accounts = await edge.read("organizations", "list_accounts", {})
    except DomainError as exc:
        return render(request, "error.html", actor=actor, county=county, status_code=exc.status, message=exc.detail)
    towns = (await edge.read("organizations", "list_townships", {}))["items"]
    tbl = table(request, accounts["items"], ("login", "name", "role"), ("login", "name"), "login")
    return render(request, "accounts.html", actor=actor, county=county, tbl=tbl, townships=towns,
                  township_names={t["township_id"]: t["name"] or t["township_id"] for t in towns},
                  errors=errors or {}, form=form or {}, status_code=status_code)


@router.get("/counties/{county}/accounts")
async def accounts(request: Request, county: str) -> Response:
    try:
        actor, denied = county_page(request, county)
    except SignInNeeded:
        return to_login(request)
    return denied or await _page(request, county, actor)


@router.post("/counties/{county}/accounts")
async def accounts_form(request: Request, county: str) -> Response:
    try:
        actor, denied = county_page(request, county)
    except SignInNeeded:
        return to_login(request)
    if denied:
        return denied
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    check_form(request, form)
    edge = edge_for(request, actor, county)
    action = form.pop("action", "create")
    try:
        if action in ACTIONS:
            name, model, ends_sessions = ACTIONS[action]
            fields = {k: (form[k] or None) if k in OPTIONAL else form[k] for k in model.model_fields if k in form}
            cmd = model(**fields)
            await edge.write("organizations", name, cmd.model_dump())
            if ends_sessions:
                await _revoke(request, actor, cmd.login, county)
        else:
            cmd = CreateAccount(**{k: form.get(k) or None for k in CreateAccount.model_fields if k in form})
            await edge.write("organizations", "create_account", cmd.model_dump())
    except ValidationError as exc:
        return await _page(request, county, actor, field_errors(exc), {**form, "action": action}, 422)
    except DomainError as exc:
        return await _page(request, county, actor, refusal_errors(exc), {**form, "action": action}, exc.status)
    return RedirectResponse(f"/counties/{county}/accounts", status_code=303)
