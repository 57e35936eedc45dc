"""Accounts of people (账号): roles and scopes, Argon2 passwords, lockout, sign-in that mints the
same EdDSA token `dangjian token` does. Events in the platform stream (decision 019)."""
