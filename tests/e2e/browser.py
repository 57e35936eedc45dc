"""Headless Chromium from Debian driven by Playwright's Python package (no browser download): the
fixture skips, saying why, only when no chromium is installed. Screenshots go to test-artifacts/."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str | None:
    for candidate in (os.environ.get("DANGJIAN_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")  # closed after the module: no browser left running for later tests
async def browser():
    path = chromium_path()
    if path is None:
        pytest.skip("no chromium installed (apt-get install chromium fonts-noto-cjk; .ci/run does it)")
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=path, headless=True,
                                            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            yield chromium
        finally:
            await chromium.close()


async def shot(page, name: str) -> Path:
    """A full-page screenshot kept as a test artifact."""
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
