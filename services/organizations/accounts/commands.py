"""Commands of the accounts context and their replies. Passwords are never trimmed or echoed back."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.organizations.contracts import Command, blank_to_none

LOGIN_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,39}$"
AccountRole = Literal["platform_admin", "county_admin", "township_operator", "branch_secretary", "auditor"]
PASSWORD_MIN = 8


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


class _Secret(BaseModel):
    """Commands carrying a password: text is not trimmed (a space may belong to a password)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Login = Field(pattern=LOGIN_PATTERN, description="登录名：小写字母、数字、_ 或 -，2–40位 / login, 2-40 of a-z 0-9 _ -")
Password = Field(min_length=PASSWORD_MIN, max_length=128, description="密码，至少8位 / password, at least 8 characters")


class CreateAccount(_Secret):
    """开设账号 / Open an account in the county (or, on the platform subject, a platform admin)."""

    login: str = Login
    name: str = Field(min_length=1, max_length=40, description="姓名 / the person's name")
    role: AccountRole = Field(description="角色 / role")
    township_id: str | None = Field(None, max_length=64, description="乡镇（乡镇操作员） / township of a township operator")
    branch_id: str | None = Field(None, max_length=64, description="支部（支部书记） / branch of a branch secretary")
    password: str = Password

    _norm_login = field_validator("login", mode="before")(_lower)
    _blank = field_validator("township_id", "branch_id", mode="before")(blank_to_none)

    @field_validator("name", mode="before")
    @classmethod
    def _trim(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


class AccountRef(Command):
    login: str = Login
    _norm_login = field_validator("login", mode="before")(_lower)


class DisableAccount(AccountRef):
    """停用账号 / Disable an account (its sessions end)."""

    reason: str = Field(min_length=1, max_length=200, description="停用原因 / why")


class EnableAccount(AccountRef):
    """启用账号 / Enable a disabled account again."""


class RescopeAccount(AccountRef):
    """调整角色和范围 / Give an account another role or scope in the same county (its sessions end)."""

    role: AccountRole = Field(description="角色 / role")
    township_id: str | None = Field(None, max_length=64, description="乡镇 / township (township operator)")
    branch_id: str | None = Field(None, max_length=64, description="支部 / branch (branch secretary)")
    _blank = field_validator("township_id", "branch_id", mode="before")(blank_to_none)


class ResetPassword(_Secret):
    """重置密码 / An admin sets a new password (the account's sessions end)."""

    login: str = Login
    password: str = Password
    _norm_login = field_validator("login", mode="before")(_lower)


class SignIn(_Secret):
    """登录 / Sign in with a login and password."""

    login: str = Field(min_length=1, max_length=40, description="登录名 / login")
    password: str = Field(min_length=1, max_length=128, description="密码 / password")
    ttl_minutes: int = Field(480, ge=5, le=1440, description="会话时长（分钟） / session lifetime in minutes")
    _norm_login = field_validator("login", mode="before")(_lower)


class ChangePassword(_Secret):
    """修改密码 / The owner changes their password, proving the current one."""

    login: str = Field(min_length=1, max_length=40, description="登录名 / login")
    password: str = Field(min_length=1, max_length=128, description="当前密码 / current password")
    new_password: str = Password
    _norm_login = field_validator("login", mode="before")(_lower)


class AccountView(BaseModel):
    """An account as admins see it (never its password hash)."""

    login: str = Field(description="登录名 / login")
    name: str = Field(description="姓名 / name")
    role: AccountRole = Field(description="角色 / role")
    county: str | None = Field(description="县 / county (none for a platform admin)")
    township: str | None = Field(description="乡镇 / township scope")
    branch: str | None = Field(description="支部 / branch scope")
    disabled: bool = Field(description="已停用 / disabled")
    locked_until: str | None = Field(description="锁定至 / locked after failed sign-ins until (UTC ISO)")


class SessionIssued(BaseModel):
    """A signed-in session: the bearer token and who it names."""

    token: str = Field(description="EdDSA JWT, the same kind `dangjian token` mints")
    expires_at: float = Field(description="Unix time the token expires")
    login: str = Field(description="登录名 / login (the token's sub)")
    name: str = Field(description="姓名 / name")
    role: AccountRole = Field(description="角色 / role")
    county: str | None = Field(description="县 / county")
    township: str | None = Field(description="乡镇 / township")
    branch: str | None = Field(description="支部 / branch")
