"""Handlers of accounts: opening, disabling, re-scoping and resetting accounts (county admins for
their county, platform admins for platform admins) and the public sign-in and password change, which
prove who they are with the password. Subjects are listed once, in HANDLERS at the end."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.auth import Actor, issue_token
from shared.envelope import Metadata
from shared.errors import DomainError, forbidden, invalid, not_found
from shared.ids import PLATFORM, new_id
from shared.messaging import ok
from shared.service import Context
from services.organizations.accounts.commands import (AccountRef, AccountView, ChangePassword, CreateAccount,
                                                      DisableAccount, EnableAccount, RescopeAccount, ResetPassword,
                                                      SessionIssued, SignIn)
from services.organizations.accounts.domain import COUNTY_ROLES, Account
from services.organizations.accounts.queries import AccountList, ListAccounts, accounts_of
from services.organizations.accounts.passwords import hash_password, spend_as_if_checked, verify_password
from services.organizations.registry.domain import Organization, Township

BAD_CREDENTIALS = "登录名或密码错误 / wrong login or password"


def view(account: Account) -> AccountView:
    until = account.locked_until.isoformat() if account.locked_until else None
    return AccountView(login=account.id, name=account.name, role=account.role, county=account.county,
                       township=account.township, branch=account.branch, disabled=account.disabled,
                       locked_until=until)


def _require_admin(ctx: Context) -> None:
    """County admins manage their county's accounts; platform admins anything (on the platform subject:
    platform admins only)."""
    ctx.require_write()
    if ctx.actor.role != "platform_admin" and (ctx.county == PLATFORM or ctx.actor.role != "county_admin"):
        raise forbidden("只有县委组织部管理员可以管理账号 / only a county admin manages accounts")


async def _scope_in_county(ctx: Context, role: str, township: str | None, branch: str | None) -> str | None:
    """Checks the township or branch exists in the county; a branch secretary keeps the branch's township."""
    if role == "township_operator" and township:
        if not (await ctx.service.repo.get(ctx.county, Township, township)).state.exists:
            raise invalid("unknown_township", "township_id", f"本县没有乡镇 {township} / no township {township} here")
    if role == "branch_secretary" and branch:
        org = (await ctx.service.repo.get(ctx.county, Organization, branch)).state
        if not org.exists:
            raise invalid("unknown_branch", "branch_id", f"本县没有党组织 {branch} / no organization {branch} here")
        return org.township_id
    return township


async def _managed(ctx: Context, login: str) -> Account:
    """An account of the subject's county (a platform admin's on the platform subject); 404 otherwise."""
    account = (await ctx.service.repo.get(PLATFORM, Account, login)).state
    county = None if ctx.county == PLATFORM else ctx.county
    if not account.exists or account.county != county:
        raise not_found("account_not_found", f"没有账号 {login} / no account {login}", "login")
    return account


async def on_create_account(ctx: Context, cmd: CreateAccount) -> dict:
    """开设账号: in a county, a county role; on the platform subject, a platform admin."""
    _require_admin(ctx)
    platform = ctx.county == PLATFORM
    if platform != (cmd.role == "platform_admin"):
        allowed = "platform_admin" if platform else ", ".join(COUNTY_ROLES)
        raise invalid("role_not_allowed", "role", f"此处只能开设 {allowed} / only {allowed} here")
    township = None if platform else await _scope_in_county(ctx, cmd.role, cmd.township_id, cmd.branch_id)
    password_hash = await hash_password(cmd.password)
    out = await ctx.service.repo.execute(PLATFORM, Account, cmd.login, ctx.meta, lambda a: a.create(
        cmd.login, cmd.name, cmd.role, None if platform else ctx.county, township, cmd.branch_id, password_hash))
    return ok(view(await _account(ctx, cmd.login)), out.seq)


async def _account(ctx: Context, login: str) -> Account:
    """The account as stored now (also right after a write whose acknowledgement was lost and retried)."""
    return (await ctx.service.repo.get(PLATFORM, Account, login)).state


async def _change(ctx: Context, login: str, decide) -> dict:
    _require_admin(ctx)
    await _managed(ctx, login)
    out = await ctx.service.repo.execute(PLATFORM, Account, login, ctx.meta, decide)
    return ok(view(await _account(ctx, login)), out.seq)


async def on_disable_account(ctx: Context, cmd: DisableAccount) -> dict:
    """停用账号."""
    if cmd.login == ctx.actor.sub:
        raise invalid("cannot_disable_self", "login", "不能停用自己的账号 / you cannot disable your own account")
    return await _change(ctx, cmd.login, lambda a: a.disable(cmd.reason))


async def on_enable_account(ctx: Context, cmd: EnableAccount) -> dict:
    """启用账号."""
    return await _change(ctx, cmd.login, lambda a: a.enable())


async def on_rescope_account(ctx: Context, cmd: RescopeAccount) -> dict:
    """调整角色与范围."""
    _require_admin(ctx)
    await _managed(ctx, cmd.login)
    township = await _scope_in_county(ctx, cmd.role, cmd.township_id, cmd.branch_id)
    return await _change(ctx, cmd.login, lambda a: a.rescope(cmd.role, township, cmd.branch_id))


async def on_reset_password(ctx: Context, cmd: ResetPassword) -> dict:
    """重置密码 (also ends a lockout)."""
    _require_admin(ctx)
    await _managed(ctx, cmd.login)
    password_hash = await hash_password(cmd.password)
    return await _change(ctx, cmd.login, lambda a: a.set_password(password_hash, by_owner=False))


async def on_account(ctx: Context, cmd: AccountRef) -> dict:
    """One account of the county (admins)."""
    _require_admin(ctx)
    return ok(view(await _managed(ctx, cmd.login)))


async def on_list_accounts(ctx: Context, q: ListAccounts) -> dict:
    """本县账号 (admins): every account of the county, or the platform admins on the platform subject."""
    _require_admin(ctx)
    county = None if ctx.county == PLATFORM else ctx.county
    items = [view(a) for a in await accounts_of(ctx, county) if q.include_disabled or not a.disabled]
    return ok(AccountList(total=len(items), items=items))


async def _authenticate(ctx: Context, login: str, password: str) -> Account:
    """The account once its password is checked; each failure is recorded, the fifth in a row locks."""
    repo, meta = ctx.service.repo, Metadata(actor=f"sign-in:{login}", correlation_id=ctx.correlation_id or new_id())
    account = (await repo.get(PLATFORM, Account, login)).state
    if not account.exists:
        await spend_as_if_checked(password)
        raise DomainError("bad_credentials", BAD_CREDENTIALS, 401)
    now = datetime.now(UTC)
    if account.locked(now):
        raise _locked(account)
    if not await verify_password(account.password_hash, password):
        await repo.execute(PLATFORM, Account, login, meta, lambda a: a.sign_in_failed(now))
        account = await _account(ctx, login)
        raise _locked(account) if account.locked(now) else DomainError("bad_credentials", BAD_CREDENTIALS, 401)
    return account


def _locked(account: Account) -> DomainError:
    until = account.locked_until.astimezone(UTC).strftime("%H:%M UTC")
    return DomainError("account_locked", f"连续多次密码错误，账号已锁定至 {until} / too many failed sign-ins: "
                                         f"locked until {until}", 423)


async def on_sign_in(ctx: Context, cmd: SignIn) -> dict:
    """登录: checks the password (lockout after repeated failures) and mints a token for the account."""
    await _authenticate(ctx, cmd.login, cmd.password)
    meta = Metadata(actor=f"sign-in:{cmd.login}", correlation_id=ctx.correlation_id or new_id())
    out = await ctx.service.repo.execute(PLATFORM, Account, cmd.login, meta, lambda a: a.signed_in(datetime.now(UTC)))
    account = await _account(ctx, cmd.login)
    actor = Actor(sub=account.id, role=account.role, county=account.county, township=account.township,
                  branch=account.branch)
    ttl = timedelta(minutes=cmd.ttl_minutes)
    token = issue_token(_signing_key(ctx), actor, ttl)
    return ok(SessionIssued(token=token, expires_at=(datetime.now(UTC) + ttl).timestamp(), login=account.id,
                            name=account.name, role=account.role, county=account.county,
                            township=account.township, branch=account.branch), out.seq)


def _signing_key(ctx: Context) -> str:
    """This instance's token signing key; never generated here (the gateway would not know its pair)."""
    settings = ctx.service.settings
    if not settings.jwt_signing_key and not (settings.credentials_path / "jwt-signing.pem").exists():
        raise DomainError("sign_in_unavailable", "登录暂不可用 / this instance holds no token signing key", 503)
    return settings.secret()


async def on_change_password(ctx: Context, cmd: ChangePassword) -> dict:
    """修改密码: the owner proves the current password (failures count toward the lockout)."""
    account = await _authenticate(ctx, cmd.login, cmd.password)
    if account.disabled:
        raise DomainError("account_disabled", "账号已停用 / this account is disabled", 403)
    if cmd.new_password == cmd.password:
        raise invalid("password_unchanged", "new_password", "新密码不能与当前密码相同 / choose a different password")
    password_hash = await hash_password(cmd.new_password)
    meta = Metadata(actor=f"account:{cmd.login}", correlation_id=ctx.correlation_id or new_id())
    out = await ctx.service.repo.execute(PLATFORM, Account, cmd.login, meta,
                                         lambda a: a.set_password(password_hash, by_owner=True))
    return ok(view(await _account(ctx, cmd.login)), out.seq)


HANDLERS = (  # (kind, name, handler, reply): subject pb.<county|platform>.<kind>.organizations.<name>
    ("cmd", "create_account", on_create_account, AccountView),
    ("cmd", "disable_account", on_disable_account, AccountView),
    ("cmd", "enable_account", on_enable_account, AccountView),
    ("cmd", "rescope_account", on_rescope_account, AccountView),
    ("cmd", "reset_password", on_reset_password, AccountView),
    ("qry", "account", on_account, AccountView),
    ("qry", "list_accounts", on_list_accounts, AccountList),
    ("cmd", "sign_in", on_sign_in, SessionIssued),
    ("cmd", "change_password", on_change_password, AccountView),
)
PUBLIC = frozenset({"sign_in", "change_password"})  # no token; answered on pb.platform.cmd.organizations.<name>
