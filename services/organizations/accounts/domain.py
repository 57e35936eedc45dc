"""The account aggregate: who may sign in, with which role and scope; lockout after repeated failures.

Pure: the caller hashes and checks passwords (passwords.py) and passes "now" in. A login is one
aggregate in the platform stream, so two admins cannot open the same login twice (the second append
meets the first one's sequence)."""
from __future__ import annotations

from datetime import datetime, timedelta

from shared.aggregate import Aggregate
from shared.catalog.accounts import (AccountCreated, AccountDisabled, AccountEnabled, AccountRescoped,
                                     PasswordChanged, SignedIn, SignInFailed)
from shared.catalog.base import DomainEvent
from shared.errors import DomainError, conflict, invalid

MAX_FAILURES = 5                 # consecutive wrong passwords that lock the account
LOCKOUT = timedelta(minutes=15)  # how long; the lock ends by itself, or an admin resets the password
COUNTY_ROLES = ("county_admin", "township_operator", "branch_secretary", "auditor")


def scope_of(role: str, township: str | None, branch: str | None) -> tuple[str | None, str | None]:
    """The (township, branch) a role keeps: a township operator needs a township, a branch secretary
    a branch (and keeps its township); the others act county-wide."""
    if role == "township_operator":
        if not township:
            raise invalid("township_required", "township_id", "乡镇操作员须指定乡镇 / a township operator needs a township")
        return township, None
    if role == "branch_secretary":
        if not branch:
            raise invalid("branch_required", "branch_id", "支部书记须指定支部 / a branch secretary needs a branch")
        return township, branch
    return None, None


class Account(Aggregate):
    context, aggregate_type = "org", "account"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.name = ""
        self.role = ""
        self.county: str | None = None
        self.township: str | None = None
        self.branch: str | None = None
        self.password_hash = ""
        self.disabled = False
        self.failures = 0
        self.locked_until: datetime | None = None

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, AccountCreated):
            self.mark_exists()
            self.name, self.role, self.county = event.name, event.role, event.county
            self.township, self.branch, self.password_hash = event.township, event.branch, event.password_hash
        elif isinstance(event, AccountDisabled):
            self.disabled = True
        elif isinstance(event, AccountEnabled):
            self.disabled = False
        elif isinstance(event, AccountRescoped):
            self.role, self.township, self.branch = event.role, event.township, event.branch
        elif isinstance(event, PasswordChanged):
            self.password_hash, self.failures, self.locked_until = event.password_hash, 0, None
        elif isinstance(event, SignInFailed):
            self.failures = 0 if event.locked_until else self.failures + 1
            self.locked_until = event.locked_until or self.locked_until
        elif isinstance(event, SignedIn):
            self.failures, self.locked_until = 0, None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def create(self, login: str, name: str, role: str, county: str | None, township: str | None,
               branch: str | None, password_hash: str) -> list[DomainEvent]:
        if self.exists:
            raise conflict("login_taken", f"登录名 {login} 已被使用 / login {login} is taken")
        township, branch = scope_of(role, township, branch)
        return [AccountCreated(login=login, name=name, role=role, county=county, township=township, branch=branch,
                               password_hash=password_hash)]

    def disable(self, reason: str) -> list[DomainEvent]:
        return [] if self.disabled else [AccountDisabled(reason=reason)]

    def enable(self) -> list[DomainEvent]:
        return [AccountEnabled()] if self.disabled else []

    def rescope(self, role: str, township: str | None, branch: str | None) -> list[DomainEvent]:
        if self.role == "platform_admin" or role == "platform_admin":
            raise invalid("role_not_allowed", "role", "平台管理员不能与县级角色互换 / platform admin is not a county role")
        township, branch = scope_of(role, township, branch)
        return [AccountRescoped(role=role, township=township, branch=branch)]

    def set_password(self, password_hash: str, by_owner: bool) -> list[DomainEvent]:
        return [PasswordChanged(password_hash=password_hash, by_owner=by_owner)]

    def sign_in_failed(self, now: datetime) -> list[DomainEvent]:
        """The failure that makes MAX_FAILURES in a row locks the account for LOCKOUT."""
        locks = self.failures + 1 >= MAX_FAILURES
        return [SignInFailed(at=now, locked_until=now + LOCKOUT if locks else None)]

    def signed_in(self, now: datetime) -> list[DomainEvent]:
        """Recorded only when it ends a run of failures: sign-ins are not account changes, and an
        aggregate that grew with every sign-in would load ever slower."""
        if self.disabled:
            raise DomainError("account_disabled", "账号已停用 / this account is disabled", 403)
        return [SignedIn(at=now)] if self.failures or self.locked_until else []
