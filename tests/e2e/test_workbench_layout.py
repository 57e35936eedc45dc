"""Every workbench page at 1366×768 and at phone width, in Chinese and in English: nothing wider than
the screen (wide tables scroll inside their card), the page's own heading in the chosen language, and a
screenshot of each as a test artifact."""
from __future__ import annotations


import pytest

from tests.e2e.browser import DESKTOP, PHONE, browser, shot  # noqa: F401  (fixture)
from tests.e2e.test_workbench_browser import seed_county, unique
from tests.e2e.test_workbench_live import PASSWORD, sign_in

PAGES = {  # name: (path under the county, heading in Chinese, in English)
    "overview": ("", "总览", "Overview"),
    "coverage": ("/coverage?dimension=township", "覆盖情况", "Coverage"),
    "enterprises": ("/enterprises", "两新组织", "Enterprises"),
    "ratings": ("/ratings", "星级管理", "Star ratings"),
    "branch": ("/ratings/branches/qg-village", "侨港村", "侨港村"),
    "member": ("/members/zxl/rating", "张秀玲", "张秀玲"),
    "rectification": ("/rectification", "整顿台账", "Rectification"),
    "audit": ("/audit?kind=member&id=zxl", "审计查询", "Audit"),
    "imports": ("/imports", "数据导入", "Imports"),
    "accounts": ("/accounts", "账号", "Accounts"),
    "notifications": ("/notifications", "通知", "Notifications"),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_every_page_fits_the_screen_in_both_languages(browser, http, gateway, settings, lang):
    code, admin = await seed_county(http, settings)
    login = unique("li")
    r = await http.post(f"/api/v1/counties/{code}/accounts", headers=admin, json={
        "login": login, "name": "李", "role": "county_admin", "password": PASSWORD})
    assert r.status_code == 201, r.text
    context = await browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=gateway)
    try:
        page = await sign_in(context, login)
        await page.goto(f"/counties/{code}?lang={lang}")  # the choice is kept in a cookie
        for name, (path, zh, en) in PAGES.items():
            for viewport in (DESKTOP, PHONE):
                await page.set_viewport_size(viewport)
                response = await page.goto(f"/counties/{code}{path}")
                assert response.status == 200, (name, response.status)
                assert (en if lang == "en" else zh) in await page.text_content("h1"), name
                width = await page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport["width"] + 1, f"{name} at {viewport['width']}px is {width}px wide"
                await shot(page, f"page-{name}-{lang}-{viewport['width']}")
    finally:
        await context.close()
