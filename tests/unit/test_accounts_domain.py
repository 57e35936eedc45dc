"""The account aggregate: scopes per role, lockout after five failures in a row, its end."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.organizations.accounts.commands import CreateAccount, SignIn
from services.organizations.accounts.domain import LOCKOUT, MAX_FAILURES, Account
from shared.errors import DomainError


def fold(account: Account, events) -> Account:
    for event in events:
        account.apply(event)
    return account


def opened(role="township_operator", township="t1", branch=None) -> Account:
    account = Account("wang")
    return fold(account, account.create("wang", "王", role, "450503", township, branch, "$argon2id$x"))


def test_a_role_keeps_only_the_scope_it_needs():
    assert (opened().township, opened().branch) == ("t1", None)
    assert (opened("county_admin").township, opened("auditor").branch) == (None, None)
    with pytest.raises(DomainError) as exc:
        opened("township_operator", township=None)
    assert exc.value.errors[0].field == "township_id"
    with pytest.raises(DomainError) as exc:
        opened("branch_secretary", township="t1", branch=None)
    assert exc.value.errors[0].field == "branch_id"
    with pytest.raises(DomainError) as exc:
        opened().create("wang", "王", "auditor", "450503", None, None, "h")
    assert exc.value.code == "login_taken"


def test_the_fifth_failure_in_a_row_locks_until_the_lockout_ends():
    account, now = opened(), datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert account.signed_in(now) == []  # a sign-in changes nothing unless it ends a run of failures
    for i in range(MAX_FAILURES - 1):
        fold(account, account.sign_in_failed(now))
        assert not account.locked(now)
    fold(account, account.signed_in(now))  # a success starts the count again
    for i in range(MAX_FAILURES):
        assert not account.locked(now)
        fold(account, account.sign_in_failed(now))
    assert account.locked(now) and account.locked(now + LOCKOUT - timedelta(seconds=1))
    assert not account.locked(now + LOCKOUT)
    fold(account, account.set_password("$argon2id$new", by_owner=False))  # an admin's reset ends it
    assert not account.locked(now) and account.failures == 0


def test_a_disabled_account_cannot_sign_in_and_platform_roles_do_not_mix():
    account = opened()
    fold(account, account.disable("调离"))
    assert account.disable("again") == []
    with pytest.raises(DomainError) as exc:
        account.signed_in(datetime.now(UTC))
    assert exc.value.status == 403
    with pytest.raises(DomainError):
        account.rescope("platform_admin", None, None)


def test_logins_are_lowercased_and_passwords_kept_verbatim():
    cmd = CreateAccount(login=" Wang-01 ", name=" 王 ", role="auditor", password=" spaced pw ")
    assert (cmd.login, cmd.name, cmd.password) == ("wang-01", "王", " spaced pw ")
    with pytest.raises(ValueError):
        CreateAccount(login="wang.01", name="王", role="auditor", password="long-enough")
    with pytest.raises(ValueError):
        CreateAccount(login="wang", name="王", role="auditor", password="short")
    assert SignIn(login="WANG", password="x").login == "wang"
