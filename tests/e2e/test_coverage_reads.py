"""The as-of coverage figures and the monthly series share one read of the log per read-model
checkpoint: a unit entered afterwards (back-dated, as paper records are) is in the next answer of both,
for the writer at once (read-your-writes), and the figures of a date before it do not change."""
from __future__ import annotations

from services.organizations.enterprises.uscc import uscc_from_parts
from tests.e2e.test_workbench_browser import seed_county


def county_row(figures: dict) -> dict:
    return next(r for r in figures["rows"] if r["dimension"] == "county")


async def test_a_back_dated_unit_reaches_the_shared_reads_at_once(http, settings):
    code, admin = await seed_county(http, settings)
    C = f"/api/v1/counties/{code}"

    async def read(path: str, **params) -> dict:
        r = await http.get(f"{C}/{path}", headers=admin, params=params)
        assert r.status_code == 200, r.text
        return r.json()

    before = await read("coverage", as_of="2025-12-31")
    series = await read("coverage/series", from_month="2025-01-01", to_month="2025-12-01")
    assert county_row(before)["in_scope"] == series["months"][-1]["county"]["in_scope"] == 1  # the seeded unit

    r = await http.post(f"{C}/enterprises", headers=admin, json={
        "enterprise_id": "nets", "uscc": uscc_from_parts("450503", f"N{code}1"), "name": "侨港渔网厂",
        "unit_type": "非公企业", "township_id": "qiaogang", "industry": "制造业", "employees": 60, "full_members": 1,
        "registered_on": "2025-08-01"})
    assert r.status_code == 201, r.text

    after = await read("coverage", as_of="2025-12-31")
    series = await read("coverage/series", from_month="2025-01-01", to_month="2025-12-01")
    assert county_row(after)["in_scope"] == 2
    assert [m["county"]["in_scope"] for m in series["months"]][6:] == [1, 2, 2, 2, 2, 2]  # July, then August on
    assert county_row(await read("coverage", as_of="2025-07-31"))["in_scope"] == 1
