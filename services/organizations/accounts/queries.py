"""Queries of accounts: the county's accounts for its admins. The logins are the platform stream's
account subjects (stream info lists them), each folded by the repository (cached), so no read-model
lags behind an admin's change."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.eventstore import stream_name
from shared.ids import PLATFORM
from shared.messaging import ok
from shared.service import Context
from services.organizations.accounts.commands import AccountView
from services.organizations.accounts.domain import Account

ACCOUNT_SUBJECTS = f"pb.{PLATFORM}.evt.org.account.*"


class ListAccounts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include_disabled: bool = Field(True, description="停用的账号也列出 / list disabled accounts too")


class AccountList(BaseModel):
    total: int = Field(description="账号数 / accounts")
    items: list[AccountView] = Field(description="本县账号（按登录名） / the county's accounts by login")


async def logins(ctx: Context) -> list[str]:
    info = await ctx.service.nc.jetstream().stream_info(stream_name(PLATFORM), subjects_filter=ACCOUNT_SUBJECTS)
    return sorted(subject.rsplit(".", 1)[1] for subject in (info.state.subjects or {}))


async def accounts_of(ctx: Context, county: str | None) -> list[Account]:
    found = []
    for login in await logins(ctx):
        account = (await ctx.service.repo.get(PLATFORM, Account, login)).state
        if account.exists and account.county == county:
            found.append(account)
    return found
