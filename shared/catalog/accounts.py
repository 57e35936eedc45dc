"""Accounts of people who sign in (who may act, with which role and scope) and what happened to them.

They live in the platform stream (`PB_platform`, subjects `pb.platform.evt.org.account.<login>`), one
aggregate per login, so a login is unique across the deployment and sign-in needs no county
(docs/decisions/019-workbench-accounts.md). The envelope's actor says who granted what, and when.
"""
from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.catalog.base import DomainEvent


class AccountCreated(DomainEvent, context="org", aggregate="account"):
    login: str
    name: str
    role: str
    county: str | None = None
    township: str | None = None
    branch: str | None = None
    password_hash: str = Field(description="Argon2id hash (argon2-cffi); never the password")


class AccountDisabled(DomainEvent, context="org", aggregate="account"):
    reason: str


class AccountEnabled(DomainEvent, context="org", aggregate="account"):
    pass


class AccountRescoped(DomainEvent, context="org", aggregate="account"):
    """A new role and scope within the same county."""

    role: str
    township: str | None = None
    branch: str | None = None


class PasswordChanged(DomainEvent, context="org", aggregate="account"):
    password_hash: str
    by_owner: bool = Field(description="changed by the account's owner (True) or reset by an admin")


class SignInFailed(DomainEvent, context="org", aggregate="account"):
    at: datetime
    locked_until: datetime | None = Field(None, description="set when this failure locked the account")


class SignedIn(DomainEvent, context="org", aggregate="account"):
    at: datetime
