"""A county admin manages an account in the workbench (Debian chromium, Playwright): re-scoping it to
another township ends its open session at once and its pages then show the new township; a password
reset with a too-short password is refused in place, in Chinese; the new password signs in."""
from __future__ import annotations

from tests.e2e.browser import DESKTOP, browser, shot  # noqa: F401  (fixture)
from tests.e2e.test_workbench_browser import seed_county, unique
from tests.e2e.test_workbench_live import PASSWORD, sign_in


async def test_a_county_admin_rescopes_and_resets_an_account(browser, http, gateway, settings):
    code, admin = await seed_county(http, settings)
    li, wang = unique("li"), unique("wang")
    for login, role, extra in ((li, "county_admin", {}), (wang, "township_operator", {"township_id": "yintan"})):
        r = await http.post(f"/api/v1/counties/{code}/accounts", headers=admin, json={
            "login": login, "name": "测试", "role": role, "password": PASSWORD, **extra})
        assert r.status_code == 201, r.text
    admin_ctx = await browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=gateway)
    operator_ctx = await browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=gateway)
    try:
        operator = await sign_in(operator_ctx, wang)
        assert "侨港" not in await operator.text_content("main")  # 银滩镇's operator

        page = await sign_in(admin_ctx, li)
        await page.goto(f"/counties/{code}/accounts")
        row = page.locator("#accounts tr", has_text=wang)
        assert "银滩镇" in await row.text_content()
        await row.locator("summary").click()
        await row.locator("form.rescope select[name=township_id]").select_option("qiaogang")
        await row.locator("form.rescope button").click()
        row = page.locator("#accounts tr", has_text=wang)
        assert "侨港镇" in await row.text_content()

        await operator.reload()
        assert "/login" in operator.url  # re-scoping ended the open session

        await row.locator("summary").click()
        await row.locator("form.reset input[name=password]").fill("short")
        await row.locator("form.reset button").click()
        assert "至少 8 个字符" in await page.text_content(f"[id='{wang}-password-error']")
        await shot(page, "accounts-manage-error")
        row = page.locator("#accounts tr", has_text=wang)
        await row.locator("form.reset input[name=password]").fill("Xin-Mima-2026")
        await row.locator("form.reset button").click()
        assert not await page.locator(".field-error").count()

        await operator.fill("input[name=login]", wang)
        await operator.fill("input[name=password]", "Xin-Mima-2026")
        await operator.click("main button[type=submit]")
        await operator.wait_for_selector("body[data-charts-ready]")
        assert "侨港镇" in await operator.text_content("main")  # now 侨港镇's operator
        await shot(operator, "overview-rescoped-operator")
    finally:
        await admin_ctx.close()
        await operator_ctx.close()
