"""Every operation of /openapi.json, every method and path, tried with a token of another county,
another township and another branch (and an auditor for writes), aimed at one township's and one
branch's data (tests/e2e/scope_fixture.py): a write must be refused (403/404); a read refused, or
answered without a trace of what the token may not see (README: Read rules). An operation the
fixture cannot fill fails the test by name, so a new endpoint cannot skip the scope check.

One county, built once; the whole run is a few hundred requests."""
from __future__ import annotations

import io
import re
import zipfile

import pytest

from shared.auth import Actor, issue_token
from tests.conftest import new_county
from tests.e2e import scope_fixture as fx_
from tests.e2e.scope_fixture import BODIES, EAST, EAST_A, EAST_B, QUERIES, WEST

REFUSED = (403, 404)
WRITE_OK = (200, 201, 409)  # the county admin's own probe: valid, maybe already done


def bearer(settings, role: str, county: str | None, **scope) -> dict[str, str]:
    actor = Actor(sub=f"{role}-scope", role=role, county=county, **scope)
    return {"Authorization": f"Bearer {issue_token(settings.secret(), actor)}"}


def operations(spec: dict):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield method.upper(), path, op


def fill(path: str, op: dict, values: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The URL with every path parameter filled, and the query parameters the fixture knows."""
    missing = [p["name"] for p in op.get("parameters", []) if p["in"] == "path" and p["name"] not in values]
    assert not missing, f"{op['operationId']}: add path parameter(s) {missing} to scope_fixture.paths()"
    url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
    queries = {**QUERIES, "prefix": values["county"]}  # a rollup of the fixture's county alone
    query = {p["name"]: queries[p["name"]] for p in op.get("parameters", [])
             if p["in"] == "query" and p["name"] in queries}
    unknown = [p["name"] for p in op.get("parameters", [])
               if p["in"] == "query" and p.get("required") and p["name"] not in queries]
    assert not unknown, f"{op['operationId']}: add query parameter(s) {unknown} to scope_fixture.QUERIES"
    return url, query


def text_of(resp) -> str:
    """What a client could read in the answer: JSON text, or the cells of a workbook."""
    if resp.content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(resp.content)) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    return resp.text


async def send(http, method: str, url: str, query: dict, body: dict | None, headers: dict):
    if body is not None and "file" in body:
        name, text, kind = body["file"]
        return await http.request(method, url, params=query, headers=headers,
                                  files={"file": (name, text.encode(), kind)})
    return await http.request(method, url, params=query, json=body, headers=headers)


@pytest.fixture(scope="module")
async def county(gateway, settings):
    import httpx

    code = new_county()
    async with httpx.AsyncClient(base_url=gateway, timeout=60) as http:
        fx = await fx_.build(http, code, bearer(settings, "platform_admin", None),
                             bearer(settings, "county_admin", code))
    return fx


async def test_township_operators_and_branch_secretaries_read_their_own(http, settings, county):
    """The narrowed reads still show the reader's own township or branch (not an empty answer for all).
    Runs first: the probes of the next test, sent by the county admin, change the county."""
    base = f"/api/v1/counties/{county.county}"
    west = bearer(settings, "township_operator", county.county, township="tw-west")
    east_b = bearer(settings, "branch_secretary", county.county, branch="east-b")

    async def get(path: str, headers: dict, **params):
        r = await http.get(f"{base}/{path}", headers=headers, params=params)
        assert r.status_code == 200, (path, r.text)
        return r.json()

    assert [t["township_id"] for t in (await get("townships", west))["items"]] == ["tw-west"]
    assert [t["township_id"] for t in (await get("townships", east_b))["items"]] == ["tw-east"]
    assert [o["organization_id"] for o in (await get("organizations", west))["items"]] == ["west-a"]
    assert [o["organization_id"] for o in (await get("organizations", east_b))["items"]] == ["east-b"]
    assert [m["member_id"] for m in (await get("members", west))["items"]] == ["m-west-a"]
    assert (await get("members/m-east-b", east_b))["name"] == "欧阳乙"
    assert [c["case_id"] for c in (await get("rectification-cases", west))["items"]] == ["2025.west-a"]
    summary = await get("rectification-summary", west)
    assert [(c["key"], c["listed"]) for c in summary["by_campaign"]] == [("2025", 1)]  # not the county's 2
    assert [e["enterprise_id"] for e in (await get("enterprises", west))["items"]] == ["ent-west"]
    rows = {(r["dimension"], r["key"]) for r in (await get("coverage", west))["rows"]}
    assert ("township", "tw-west") in rows and ("township", "tw-east") not in rows
    assert (await get("members/m-west-a/rating", west, year=2026))["total_points"] == 2
    distribution = await get("star-distribution", east_b, year=2026)
    assert distribution["members"]["rated"] == 1 and [b["branch_id"] for b in distribution["branches"]] == ["east-b"]
    assert (await get("star-schemes/2026", east_b, township_id="tw-east"))["township_id"] == "tw-east"
    r = await http.get(f"{base}/coverage", headers=east_b)
    assert r.status_code == 403 and "支部书记" in r.json()["detail"]


async def test_no_token_of_another_county_township_or_branch_reads_or_writes_what_is_not_its_own(
        http, settings, county):
    admin = bearer(settings, "county_admin", county.county)
    platform = bearer(settings, "platform_admin", None)
    everything = [county.county, *EAST, *EAST_B, *WEST]
    # whose tokens, and what each must not see
    outsiders = {
        "another county": (bearer(settings, "county_admin", new_county()), everything),
        "another province": (bearer(settings, "province_admin", None, scope_prefix="66"), everything),
        "another township": (bearer(settings, "township_operator", county.county, township="tw-west"), EAST + EAST_B),
        "another branch": (bearer(settings, "branch_secretary", county.county, branch="east-b"), EAST_A + WEST),
    }
    writers = {**outsiders, "auditor": (bearer(settings, "auditor", county.county), [])}
    spec = (await http.get("/openapi.json")).json()
    values = fx_.paths(county)
    leaks, reads, writes = [], [], []
    for method, path, op in operations(spec):
        name = op["operationId"]
        if name in fx_.NOT_SCOPED:
            continue
        url, query = fill(path, op, values)
        if method == "GET":
            reads.append(name)
            r = await http.get(url, params=query, headers=admin if "{county}" in path else platform)
            assert r.status_code == 200, f"{name}: the county's (platform's) own read failed: {r.text[:300]}"
            for who, (headers, secrets) in outsiders.items():
                r = await http.get(url, params=query, headers=headers)
                seen = [s for s in secrets if s in text_of(r)] if r.status_code == 200 else []
                if not (r.status_code in REFUSED or r.status_code == 200 and not seen):
                    leaks.append(f"GET {name} by {who}: {r.status_code} {seen or r.text[:200]}")
            continue
        assert name in BODIES, f"{method} {path} ({name}): add a valid probe body to scope_fixture.BODIES"
        writes.append(name)
        body = county.bodies.get(name, BODIES[name])
        for who, (headers, _) in writers.items():
            r = await send(http, method, url, query, body, headers)
            if r.status_code not in REFUSED:
                leaks.append(f"{method} {name} by {who}: {r.status_code} {r.text[-300:]}")
    assert not leaks, "\n".join(leaks)
    assert len(reads) >= 20 and len(writes) >= 42

    # the probes were real requests: the county admin may send each one (so a refusal above was scope,
    # not a malformed body or a missing object)
    invalid = []
    for method, path, op in operations(spec):
        if method == "GET" or op["operationId"] in ("add_county", "revoke_everywhere", *fx_.NOT_SCOPED):
            continue
        url, query = fill(path, op, values)
        r = await send(http, method, url, query, county.bodies.get(op["operationId"], BODIES[op["operationId"]]), admin)
        if r.status_code not in WRITE_OK:
            invalid.append(f"{method} {op['operationId']}: {r.status_code} {r.text[:200]}")
    assert not invalid, "probe bodies the county admin could not send:\n" + "\n".join(invalid)
