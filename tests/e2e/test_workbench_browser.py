"""The workbench in a real browser (Debian chromium, Playwright): sign-in and lockout, the county
overview with its charts at 1366×768 and phone width, field errors in Chinese in place, a county
outside the account's scope. Screenshots of each page are saved in test-artifacts/."""
from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from urllib.parse import urlencode

from openpyxl import load_workbook

from services.organizations.enterprises.uscc import uscc_from_parts
from shared.auth import Actor, issue_token
from tests.conftest import new_county
from tests.e2e.browser import ARTIFACTS, DESKTOP, PHONE, browser, shot  # noqa: F401  (fixture)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


async def seed_county(http, settings) -> tuple[str, dict[str, str]]:
    """A county with two townships, a branch with a scored member, and an enterprise (via the API)."""
    admin = {"Authorization": f"Bearer {issue_token(settings.secret(), Actor(sub='seed', role='platform_admin'))}"}
    code, year = new_county(), date.today().year
    C = f"/api/v1/counties/{code}"

    async def ok(method: str, url: str, body: dict) -> dict:
        r = await http.request(method, url, json=body, headers=admin)
        assert r.status_code in (200, 201), r.text
        return r.json()

    await ok("POST", "/api/v1/counties", {"county_code": code, "name": "工作台县"})
    await ok("POST", f"{C}/townships", {"township_id": "qiaogang", "name": "侨港镇"})
    await ok("POST", f"{C}/townships", {"township_id": "yintan", "name": "银滩镇"})
    await ok("POST", f"{C}/organizations", {"organization_id": "qg-village", "name": "侨港镇侨港村党支部",
             "organization_type": "branch", "host_unit_type": "village", "township_id": "qiaogang",
             "approved_by": "中共侨港镇委员会", "approved_on": "2019-05-04"})
    await ok("POST", f"{C}/members", {"member_id": "zxl", "name": "张秀玲", "gender": "女", "birth_date": "1980-05-01",
             "membership_status": "正式党员", "joined_on": "2010-07-01", "branch_id": "qg-village"})
    await ok("PUT", f"{C}/star-schemes/{year}", {"name": f"{year}年党员星级管理", "preset": "beihai-5"})
    await ok("POST", f"{C}/members/zxl/scores", {"year": year, "category": "lead_by_example", "points": 10,
             "reason": "带头参与防汛抢险", "occurred_on": f"{year}-01-01", "idempotency_key": "seed-1"})
    await ok("POST", f"{C}/enterprises", {"enterprise_id": "seafood", "uscc": uscc_from_parts("450503", f"E{code}1"),
             "name": "侨港海产品加工有限公司", "unit_type": "非公企业", "township_id": "qiaogang", "industry": "制造业",
             "employees": 45, "full_members": 3, "registered_on": "2025-01-15"})
    await ok("POST", f"{C}/rectification-cases", {"organization_id": "qg-village", "campaign": str(year),
             "reasons": ["weak_service"], "screened_on": f"{year}-01-05", "decided_on": f"{year}-01-15"})
    return code, admin


async def test_sign_in_lockout_overview_and_scope(browser, http, gateway, settings):
    code, admin = await seed_county(http, settings)
    li, wang, zhao = unique("li"), unique("wang"), unique("zhao")
    for login, role, extra in ((li, "county_admin", {}), (wang, "township_operator", {"township_id": "yintan"}),
                               (zhao, "township_operator", {"township_id": "yintan"})):
        r = await http.post(f"/api/v1/counties/{code}/accounts", headers=admin, json={
            "login": login, "name": "李" if login == li else "王", "role": role, "password": "Gongzuo-2026", **extra})
        assert r.status_code == 201, r.text

    context = await browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=gateway)
    page = await context.new_page()
    try:
        await page.goto("/")
        assert page.url.endswith("/login?next=/")
        await shot(page, "login")
        # five wrong passwords: the message says the account is locked, the right password no longer works
        for attempt in range(5):
            await page.fill("input[name=login]", wang)
            await page.fill("input[name=password]", f"wrong-{attempt}")
            await page.click("main button[type=submit]")
        assert "锁定" in await page.text_content("#form-error")
        await page.fill("input[name=login]", wang)
        await page.fill("input[name=password]", "Gongzuo-2026")
        await page.click("main button[type=submit]")
        assert "锁定" in await page.text_content("#form-error")
        await shot(page, "login-locked")

        await page.fill("input[name=login]", li)
        await page.fill("input[name=password]", "Gongzuo-2026")
        await page.click("main button[type=submit]")
        await page.wait_for_selector("body[data-charts-ready]")
        assert page.url.endswith(f"/counties/{code}")
        assert await page.locator("#chart-stars canvas").count() == 1
        assert "侨港镇" in await page.text_content("#targets") or "%" in await page.text_content("#targets")
        cookies = await context.cookies()
        session = next(c for c in cookies if c["name"] == "dangjian_session")
        assert session["httpOnly"] and session["sameSite"] == "Strict"
        assert await page.evaluate("document.cookie.includes('dangjian_session')") is False
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= DESKTOP["width"], "no horizontal scrolling at 1366×768"
        await shot(page, "overview-1366")
        await page.set_viewport_size(PHONE)
        await page.reload()
        await page.wait_for_selector("body[data-charts-ready]")
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
        await shot(page, "overview-phone")
        await page.set_viewport_size(DESKTOP)

        # another county is outside the account's scope
        response = await page.goto(f"/counties/{new_county()}")
        assert response.status == 403 and "无权" in await page.text_content("main")

        # a field error in Chinese, in place
        await page.goto("/password")
        await page.fill("input[name=password]", "Gongzuo-2026")
        await page.fill("input[name=new_password]", "short")
        await page.click("main button[type=submit]")
        assert "至少 8 个字符" in await page.text_content("#new_password-error")
        await shot(page, "password-field-error")

        # recording a score: a field error in place first, then the star it earns
        await page.goto(f"/counties/{code}/ratings")
        await page.click("#branches a:has-text('侨港村')")
        await page.click("#members a:has-text('张秀玲')")
        assert await page.text_content("#total-stars") == "1"
        await page.select_option("select[name=category]", index=1)
        await page.fill("input[name=reason]", "帮扶困难群众")
        await page.click("#record-score")
        assert "应为整数" in await page.text_content("#points-error")
        await page.fill("input[name=points]", "10")
        await page.click("#record-score")
        await page.wait_for_selector("#total-stars")
        assert await page.text_content("#total-stars") == "2"
        assert "帮扶困难群众" in await page.text_content("#scores")
        await shot(page, "member-rating")
        between = datetime.now(UTC).isoformat()  # recorded, not yet revoked
        await asyncio.sleep(1)
        await page.fill("#scores form.revoke input[name=revoke_reason] >> nth=0", "重复记录")
        await page.click("#scores form.revoke button >> nth=0")
        assert await page.text_content("#total-stars") == "1"

        # the audit view: as known just before the revocation, two stars; as known now, one, and the revocation
        await page.goto(f"/counties/{code}/audit?" + urlencode({"kind": "member", "id": "zxl", "known_at": between}))
        assert await page.text_content("#audit-stars") == "2"
        await page.goto(f"/counties/{code}/audit?kind=member&id=zxl")
        assert await page.text_content("#audit-stars") == "1"
        events = await page.text_content("#audit-events")
        assert "重复记录" in events and "帮扶困难群众" in events and f"county_admin:{li}" in events
        await shot(page, "audit")

        # coverage drill-down with an as-of date, and the enterprises table
        await page.goto(f"/counties/{code}/coverage?dimension=industry&as_of={date.today().isoformat()}")
        await page.wait_for_selector("body[data-charts-ready]")
        assert "制造业" in await page.text_content("#rows")
        await shot(page, "coverage")
        await page.goto(f"/counties/{code}/enterprises?industry=制造业")
        assert "侨港海产品加工有限公司" in await page.text_content("#units")
        await shot(page, "enterprises")
        await page.goto(f"/counties/{code}/rectification?status=open")
        await page.click("#cases a:has-text('侨港村')")
        assert "列入整顿" in await page.text_content("#timeline")
        assert "整顿方案" in await page.text_content("#next-step")
        await shot(page, "rectification-case")

        # an import with a bad row: refused as a whole, the row's error in place and in a workbook
        await page.goto(f"/counties/{code}/imports")
        csv = ("姓名,性别,出生日期,党员类型,入党日期,所在支部\n"
               "李卫东,男,1975-03-02,正式党员,2001-07-01,侨港镇侨港村党支部\n"
               "黄海燕,女,1982-13-40,正式党员,2008-07-01,侨港镇侨港村党支部\n")
        await page.set_input_files("#import-members input[type=file]", files=[
            {"name": "members.csv", "mimeType": "text/csv", "buffer": csv.encode()}])
        await page.click("#import-members button[type=submit]")
        await page.wait_for_selector("#import-members .download:not([hidden])")
        assert "row 3" in await page.text_content("#import-members .errors")
        await shot(page, "import-errors")
        async with page.expect_download() as info:
            await page.click("#import-members .download a")
        path = ARTIFACTS / "import-errors.xlsx"
        await (await info.value).save_as(path)
        sheet = load_workbook(path).active
        assert sheet.cell(1, 2).value == "错误" and sheet.cell(3, 3).value == "黄海燕" and sheet.cell(3, 2).value
        assert not sheet.cell(2, 2).value  # the good row has no error
        async with page.expect_download() as info:
            await page.click("#import-members a:has-text('模板')")
        assert (await info.value).suggested_filename.endswith(".xlsx")
        # a score sheet: each row stands alone; the refused one is shown, the good one recorded
        sheet_csv = ("对象编号,类别,分值,事由,发生日期\n"
                     f"zxl,lead_by_example,2,带头参与义务植树,{date.today().year}-03-12\n"
                     f"zxl,lead_by_example,0,无效分值,{date.today().year}-03-12\n")
        await page.set_input_files("#import-scores input[type=file]", files=[
            {"name": "scores.csv", "mimeType": "text/csv", "buffer": sheet_csv.encode()}])
        await page.click("#import-scores button[type=submit]")
        await page.wait_for_selector("#import-scores .download:not([hidden])")
        assert "row 3" in await page.text_content("#import-scores .errors")
        assert "1 行未导入" in await page.text_content("#import-scores .result")

        # accounts: the English validation message of a 41-character name is shown in Chinese, in place
        await page.goto(f"/counties/{code}/accounts")
        newcomer = unique("chen")
        await page.fill("#new-account input[name=login]", newcomer)
        await page.fill("#new-account input[name=name]", "陈" * 41)
        await page.fill("#new-account input[name=password]", "Gongzuo-2026")
        await page.select_option("#new-account select[name=role]", "auditor")
        await page.click("#new-account button[type=submit]")
        assert await page.text_content("#name-error") == "最多 40 个字符"
        await page.fill("#new-account input[name=name]", "陈审计")
        await page.fill("#new-account input[name=password]", "Gongzuo-2026")
        await page.click("#new-account button[type=submit]")
        row = page.locator("#accounts tr", has_text=newcomer)
        assert "审计员" in await row.text_content()
        await row.locator("input[name=reason]").fill("调离")
        await row.locator("form.revoke button").click()
        assert "已停用" in await page.locator("#accounts tr", has_text=newcomer).text_content()
        await shot(page, "accounts")

        await page.goto(f"/counties/{code}")
        await page.click("text=退出")
        assert "/login" in page.url
        await page.goto(f"/counties/{code}")
        assert "/login" in page.url  # the session ended

        # a township operator of 银滩镇 sees nothing of 侨港镇, whatever the URL asks for
        await page.fill("input[name=login]", zhao)
        await page.fill("input[name=password]", "Gongzuo-2026")
        await page.click("main button[type=submit]")
        await page.wait_for_selector("body[data-charts-ready]")
        assert "侨港" not in await page.text_content("main")
        await shot(page, "overview-township-operator")
        await page.goto(f"/counties/{code}/enterprises?township_id=qiaogang")
        assert "侨港海产品" not in await page.text_content("main")
        await page.goto(f"/counties/{code}/ratings")
        assert "侨港村" not in await page.text_content("main")
        await page.goto(f"/counties/{code}/coverage")
        assert "侨港" not in await page.text_content("main")
    finally:
        await context.close()
