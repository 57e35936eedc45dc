"""A bounded schemathesis run against the real system (issue 9): every operation of /openapi.json with
generated valid and invalid input — a few dozen cases each — as the admin of a county built over HTTP
(tests/e2e/scope_fixture.py), so ids in paths point at real organizations, members, cases and units.
Fails on any 5xx and on any answer that does not match its documented schema (problem+json included).

The run is a subprocess (the schemathesis CLI): the gateway and the services keep serving on this
test's event loop meanwhile. One worker: with two, hypothesis' lambda descriptions (ast.parse in
threads) hit CPython 3.11's "AST constructor recursion depth mismatch" now and then — a tool error. SCHEMATHESIS_EXAMPLES raises the number of cases per operation for a
longer run by hand."""
from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import httpx
import pytest

from shared.auth import Actor, issue_token
from tests.conftest import new_county
from tests.e2e import scope_fixture

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))
TIME_LIMIT_S = int(os.environ.get("SCHEMATHESIS_TIME_LIMIT_S", "420"))


def token(settings, role: str, county: str | None) -> str:
    return issue_token(settings.secret(), Actor(sub=f"{role}-fuzz", role=role, county=county))


@pytest.mark.timeout(TIME_LIMIT_S + 120)
async def test_no_generated_input_gets_a_5xx_or_an_undocumented_answer(gateway, settings, tmp_path: Path):
    code = new_county()
    admin = token(settings, "county_admin", code)
    async with httpx.AsyncClient(base_url=gateway, timeout=60) as http:
        fx = await scope_fixture.build(http, code, {"Authorization": f"Bearer {token(settings, 'platform_admin', None)}"},
                                       {"Authorization": f"Bearer {admin}"})
    values = {**scope_fixture.paths(fx), "year": "2026"}
    config = tmp_path / "schemathesis.toml"
    config.write_text("[parameters]\n" + "".join(f'"path.{k}" = "{v}"\n' for k, v in values.items()))
    cli = Path(sys.executable).with_name("schemathesis")
    proc = await asyncio.create_subprocess_exec(
        str(cli), "--config-file", str(config), "run", f"{gateway}/openapi.json",
        "--checks", "not_a_server_error,response_schema_conformance", "--max-examples", str(EXAMPLES),
        "--seed", "20261201", "--generation-database", "none", "--header", f"Authorization: Bearer {admin}",
        "--request-timeout", "30", "--workers", "1", "--no-color", "--exclude-path", "/healthz",
        "--phases", os.environ.get("SCHEMATHESIS_PHASES", "coverage,fuzzing"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""})
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), TIME_LIMIT_S)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"schemathesis did not finish within {TIME_LIMIT_S} s") from None
    text = out.decode(errors="replace")
    print(text[text.find("SUMMARY"):])  # operations, phases, cases generated (shown with -s)
    assert proc.returncode == 0, text[-6000:]
    assert "passed" in text.lower(), text[-2000:]
