"""The live notification feed in the workbench (Debian chromium, Playwright): while two people have their
inbox open, another session (an integration's bearer token) flags branches as weak; each notification
appears without a reload in the inbox of those whose scope covers it, the unread badge counts it, a
township operator never sees another township's; marking all read clears the badge; the overview lists
the recent ones. The sign-in form refuses a post without its CSRF token."""
from __future__ import annotations

import asyncio
from datetime import date

from tests.e2e.browser import DESKTOP, PHONE, browser, shot  # noqa: F401  (fixture)
from tests.e2e.test_workbench_browser import seed_county, unique

PASSWORD = "Gongzuo-2026"


async def sign_in(context, login: str):
    page = await context.new_page()
    await page.goto("/login")
    await page.fill("input[name=login]", login)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_url("**/counties/*")
    return page


async def founding_notified(http, base: str, headers: dict, organizations: set[str]) -> None:
    for _ in range(200):
        r = await http.get(f"{base}/notifications", headers=headers, params={"size": 100})
        assert r.status_code == 200, r.text
        if organizations <= {i["organization_id"] for i in r.json()["items"] if i["kind"] == "organization_founded"}:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no founding notification of {organizations}")


async def test_notifications_arrive_live_in_scope_and_are_marked_read(browser, http, gateway, settings):
    code, admin = await seed_county(http, settings)
    C, year = f"/api/v1/counties/{code}", date.today().year
    li, wang = unique("li"), unique("wang")
    for login, role, extra in ((li, "county_admin", {}), (wang, "township_operator", {"township_id": "yintan"})):
        r = await http.post(f"{C}/accounts", headers=admin, json={"login": login, "name": "测试", "role": role,
                                                                   "password": PASSWORD, **extra})
        assert r.status_code == 201, r.text
    for org, name, town in (("qg-harbour", "侨港镇港口社区党支部", "qiaogang"), ("yt-village", "银滩镇白虎头村党支部", "yintan")):
        r = await http.post(f"{C}/organizations", headers=admin, json={
            "organization_id": org, "name": name, "organization_type": "branch", "host_unit_type": "village",
            "township_id": town, "approved_by": "中共北海市银海区委员会", "approved_on": "2019-05-04"})
        assert r.status_code == 201, r.text
    await founding_notified(http, C, admin, {"qg-harbour", "yt-village"})  # before the pages count the unread

    county_ctx = await browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=gateway)
    town_ctx = await browser.new_context(viewport=PHONE, locale="zh-CN", base_url=gateway)
    try:
        county_page, town_page = await sign_in(county_ctx, li), await sign_in(town_ctx, wang)
        for page in (county_page, town_page):
            await page.goto(f"/counties/{code}/notifications")
            await page.wait_for_selector("body[data-live=on]")
        before = int(await county_page.text_content("#inbox-unread"))
        town_before = int(await town_page.text_content("#inbox-unread"))

        # another session flags one branch of each township; the operator's comes second
        for org in ("qg-harbour", "yt-village"):
            r = await http.post(f"{C}/rectification-cases", headers=admin, json={
                "organization_id": org, "campaign": str(year), "reasons": ["weak_service"],
                "screened_on": f"{year}-01-05", "decided_on": f"{year}-01-15"})
            assert r.status_code == 201, r.text

        harbour = "#notification-list li.fresh:has-text('侨港镇港口社区党支部被列为软弱涣散党组织')"
        village = "#notification-list li.fresh:has-text('银滩镇白虎头村党支部被列为软弱涣散党组织')"
        await county_page.wait_for_selector(harbour)
        await county_page.wait_for_selector(village)
        link = await county_page.get_attribute(f"{harbour} a", "href")
        assert link == f"/counties/{code}/rectification/{year}.qg-harbour"
        assert int(await county_page.text_content("#unread-badge")) == before + 2
        assert int(await county_page.text_content("#inbox-unread")) == before + 2
        await town_page.wait_for_selector(village)  # issued after the harbour's: that one was never sent here
        assert "侨港" not in await town_page.text_content("#notification-list")
        assert int(await town_page.text_content("#unread-badge")) == town_before + 1
        await shot(county_page, "notifications-live")
        await shot(town_page, "notifications-live-phone")
        assert await town_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1

        # the same inbox after a reload (server-rendered), then everything marked read
        await county_page.reload()
        assert "港口社区" in await county_page.text_content("#notification-list")
        await county_page.click("#mark-all button")
        await county_page.wait_for_selector("body[data-live=on]")
        assert await county_page.text_content("#inbox-unread") == "0"
        assert await county_page.is_hidden("#unread-badge")
        assert int(await town_page.text_content("#unread-badge")) == town_before + 1  # read marks are per person

        # the overview's recent notifications lead to the case
        await county_page.goto(f"/counties/{code}")
        await county_page.click("#recent-notifications a:has-text('港口社区')")
        assert "列入整顿" in await county_page.text_content("#timeline")
        await town_page.goto(f"/counties/{code}")
        assert "侨港" not in await town_page.text_content("#recent-notifications")
    finally:
        await county_ctx.close()
        await town_ctx.close()


async def test_the_sign_in_form_needs_its_csrf_token(http, gateway):
    form = await http.get("/login")
    assert 'name="csrf_token"' in form.text and "dangjian_login_csrf" in form.headers["set-cookie"]
    http.cookies.clear()  # another site's form: no cookie of ours comes with it (SameSite=Strict)
    forged = await http.post("/login", data={"login": "anyone", "password": "whatever", "csrf_token": "x"},
                             follow_redirects=False)
    assert forged.status_code == 403 and "表单已过期" in forged.text
    assert "dangjian_session" not in forged.headers.get("set-cookie", "")
