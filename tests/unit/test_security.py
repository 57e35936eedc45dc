"""Credentials, permissions, token rules and the edge's strict dates — without a broker."""
from __future__ import annotations

import os
import stat
from datetime import timedelta

import pytest

from services.cli import security as security_cli
from shared.auth import Actor, InvalidToken, TokenVerifier, issue_token, verify_token
from shared.credentials import COMPONENTS, SERVICES, Keyring, new_signing_key_pem, public_nkey
from shared.natsconf import authorization_block, permissions
from shared.settings import Settings
from tests.unit.gateway_support import COUNTY, SECRET, assert_problem, fields, token

ADMIN = Actor(sub="a", role="county_admin", county=COUNTY)


def test_first_start_generates_every_credential_private_to_the_owner(tmp_path):
    keyring = Keyring(tmp_path / "credentials").ensure()
    assert stat.S_IMODE(keyring.directory.stat().st_mode) == 0o700
    for name in [f"{c}.nk" for c in COMPONENTS] + ["jwt-signing.pem"]:
        assert stat.S_IMODE((keyring.directory / name).stat().st_mode) == 0o600, name
    seeds = {c: keyring.seed(c) for c in COMPONENTS}
    assert len(set(seeds.values())) == len(COMPONENTS) and all(s.startswith("SU") for s in seeds.values())
    assert Keyring(keyring.directory).ensure().seed("gateway") == seeds["gateway"]  # kept on the next start
    assert keyring.public_keys()["gateway"] == public_nkey(seeds["gateway"]).strip()
    assert "SU" not in repr(keyring)


def test_permissions_give_stream_management_to_the_operator_only():
    for component in COMPONENTS:
        allowed = permissions(component)["publish"]["allow"]
        management = [s for s in allowed if s.startswith(("$JS.API.STREAM.CREATE", "$JS.API.STREAM.DELETE",
                                                          "$JS.API.STREAM.PURGE", "$JS.API.STREAM.UPDATE",
                                                          "$JS.API.STREAM.MSG.DELETE", "$JS.API.>", "$JS.>"))]
        assert (management == [] and ">" not in allowed) == (component != "operator"), component
    assert "pb.*.evt.org.>" in permissions("organizations")["publish"]["allow"]
    for service in SERVICES:
        p = permissions(service)
        assert [s for s in p["publish"]["allow"] if s.startswith("pb.*.evt.")] == \
            [f"pb.*.evt.{ {'organizations': 'org'}.get(service, service)}.>"]
        assert not any(s.startswith("pb.*.cmd") or s.startswith("pb.*.qry") for s in p["publish"]["allow"])
        assert p["allow_responses"] is True
    assert not any(".evt." in s for s in permissions("gateway")["publish"]["allow"])
    block = authorization_block({"gateway": "UABC"})
    assert '"nkey": "UABC"' in block and '"pb.*.cmd.>"' in block


def test_tokens_are_eddsa_bounded_and_verified_with_the_public_key_only():
    from shared.credentials import verify_key_pem

    public = verify_key_pem(SECRET)
    assert verify_token(public, issue_token(SECRET, ADMIN)).sub == "a"
    with pytest.raises(InvalidToken, match="lifetime"):
        verify_token(public, issue_token(SECRET, ADMIN, timedelta(days=31)))
    with pytest.raises(InvalidToken):
        verify_token(public, issue_token(new_signing_key_pem(), ADMIN))
    with pytest.raises(InvalidToken):  # HS256 with the public key as "secret": the algorithm list refuses it
        import jwt
        verify_token(public, jwt.encode({"sub": "a", "role": "platform_admin", "iss": "dangjian", "iat": 1,
                                         "exp": 4102444800}, "x" * 32, algorithm="HS256"))
    verifier = TokenVerifier(public, max_ttl=timedelta(hours=2))
    t = issue_token(SECRET, ADMIN, timedelta(hours=1))
    assert verifier.actor(t) is verifier.actor(t) and verifier.actor(t).token == t
    with pytest.raises(InvalidToken, match="lifetime"):
        verifier.actor(issue_token(SECRET, ADMIN, timedelta(hours=3)))
    assert "token" not in ADMIN.model_dump()


def test_the_first_run_token_goes_to_a_terminal_or_to_a_private_file(tmp_path, capsys):
    settings = Settings(data_dir=tmp_path, first_token_ttl_minutes=60)
    settings.keyring().ensure()
    security_cli.announce_admin_token(settings, interactive=False)
    printed = capsys.readouterr().out
    path = tmp_path / "credentials" / "admin-token"
    token = path.read_text().strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and token not in printed and "valid 60 min" in printed
    claims = verify_token(settings.verify_key(), token)
    assert claims.role == "platform_admin"
    security_cli.announce_admin_token(settings, interactive=True)
    shown = capsys.readouterr().out
    assert "valid 60 min" in shown and shown.split()[-1].count(".") == 2  # the token itself, on a terminal


def test_without_the_signing_key_start_hands_out_no_token(tmp_path, capsys):
    settings = Settings(data_dir=tmp_path)  # e.g. a gateway container: public key only
    security_cli.announce_admin_token(settings, interactive=True)
    assert capsys.readouterr().out == "" and not (tmp_path / "credentials").exists()


@pytest.mark.parametrize("value", ["0", "1700000000", "2026-13-01", "yesterday", "2026-1-5"])
def test_as_of_must_be_a_date(http, fake, value):
    r = http.get(f"/api/v1/counties/{COUNTY}/coverage", params={"as_of": value}, headers=token())
    assert "as_of" in " ".join(fields(assert_problem(r, 422, "invalid_input")))
    assert fake.calls == []


def test_as_of_as_a_date_is_passed_on(http, fake):
    fake.answer("qry", "coverage", {"as_of": "2026-01-31", "rows": [], "targets": [], "members_without_organization": [],
                                    "no_organization_no_instructor": []})
    r = http.get(f"/api/v1/counties/{COUNTY}/coverage", params={"as_of": "2026-01-31"}, headers=token())
    assert r.status_code == 200, r.text
    assert fake.last[1] == {"as_of": "2026-01-31"}


def test_a_logged_traceback_shows_no_local_variables(capsys):
    import structlog

    from shared import logs

    secret = "eyJ" + os.urandom(12).hex()  # not in any source line the traceback shows
    saved = structlog.get_config()
    logs.configure("INFO")
    try:
        def handler(token: str) -> None:
            body = {"token": token}
            raise RuntimeError(f"failed for {len(body)} item")

        try:
            handler(secret)
        except RuntimeError:
            structlog.get_logger("t").exception("handler.failed")
    finally:
        structlog.configure(**saved)
    printed = capsys.readouterr()
    assert "handler.failed" in printed.out + printed.err and "RuntimeError" in printed.out + printed.err
    assert secret not in printed.out + printed.err
