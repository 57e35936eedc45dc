"""Argon2id password hashes (argon2-cffi, RFC 9106 low-memory profile). Hashing costs tens of
milliseconds of CPU, so it runs in a worker thread (argon2's C code releases the GIL)."""
from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
    return await asyncio.to_thread(check)


@cache
def _unknown_login_hash() -> str:
    return _hasher.hash("no such account")


async def spend_as_if_checked(password: str) -> None:
    """An unknown login takes as long as a wrong password (no probing which logins exist)."""
    await verify_password(await asyncio.to_thread(_unknown_login_hash), password)
