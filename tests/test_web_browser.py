"""The curators' console in a real headless Chromium, against SQLite and PostgreSQL: sign in, read the
overview chart, find a missed question on the gaps page, add it as a variant, and see the bot answer it.

Needs Debian's `chromium` and Playwright for Python; skips with a reason without them unless
REQUIRE_BROWSER=1 (CI). Screenshots go to SCREENSHOT_DIR (docs/ for the README's), else the test's tmp dir.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.persistence import db_url_fixture  # noqa: F401  (fixture)
from tests.skips import skip_or_fail
from tests.web import MISSED, TOKEN, running_console, seed

LAPTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        skip_or_fail("no chromium on this machine (apt-get install chromium)", unless="REQUIRE_BROWSER")
    return found


@pytest.fixture(name="browser")
async def browser_fixture() -> AsyncIterator[Any]:
    executable = chromium_path()
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        skip_or_fail(
            "Playwright for Python is not installed (pip install '.[test]')", unless="REQUIRE_BROWSER"
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            await browser.close()


def shots(tmp_path: Path) -> Path:
    directory = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


async def sign_in(page: Any, url: str, token: str, name: str = "Ada") -> None:
    await page.goto(url + "/")
    assert "/login" in page.url
    await page.fill("input[name=curator]", name)
    await page.fill("input[name=token]", token)
    await page.click("button.primary")


async def test_a_curator_closes_a_gap_and_the_bot_answers_it(
    browser: Any, db_url: str, tmp_path: Path
) -> None:
    async with running_console(db_url, tmp_path) as console:
        await seed(console.bot, console.clock, console.recorder)
        before = await console.bot.message(MISSED)
        assert "192" not in before.plain_text()
        context = await browser.new_context(viewport=LAPTOP)
        page = await context.new_page()

        await sign_in(page, console.url, TOKEN)
        await page.wait_for_selector("figure.chart svg rect.bar.answered")
        assert await page.locator("figure.chart").count() == 2
        assert int(await page.locator(".tile b").first.inner_text()) > 50
        await page.screenshot(path=str(shots(tmp_path) / "console-overview.png"), full_page=True)

        await page.click("nav >> text=Gaps")
        gap = page.locator("article.gap", has_text=MISSED)
        await gap.wait_for()
        assert "4×" in await gap.locator(".count").inner_text()
        listed = await page.locator("article.gap h2").all_inner_texts()
        assert not {"hi", "42", "thanks!"} & set(listed)
        await page.screenshot(path=str(shots(tmp_path) / "console-gaps.png"), full_page=True)

        await gap.locator("li", has_text="graviton5-cores").locator("button").click()
        diff = page.locator("pre.diff")
        await diff.wait_for()
        assert f"+        - {MISSED}" in await diff.inner_text()
        await page.click("#save")
        await page.wait_for_selector("#answer")
        assert "saved=graviton5-cores" in page.url
        assert "192" in await page.locator("#answer").inner_text()

        after = await console.bot.message(MISSED)
        assert "192" in after.plain_text()
        text = (console.directory / "graviton.yaml").read_text(encoding="utf-8")
        assert text.startswith("# yaml-language-server") and f"- {MISSED}\n" in text

        await page.click("nav >> text=Edits")
        edit = page.locator("details", has_text="graviton5-cores")
        await edit.wait_for()
        assert "Ada" in await edit.inner_text()
        await page.click("nav >> text=Gaps")
        assert await page.locator("article.gap", has_text=MISSED).count() == 0

        refused = await context.request.post(
            console.url + "/edits/save",
            form={"op": "add-variant", "fact_id": "graviton5-cores", "question": "sneaky"},
            max_redirects=0,
        )
        assert refused.status == 403
        assert "sneaky" not in (console.directory / "graviton.yaml").read_text(encoding="utf-8")
        await context.close()


async def test_a_wrong_token_is_refused(browser: Any, db_url: str, tmp_path: Path) -> None:
    async with running_console(db_url, tmp_path) as console:
        page = await browser.new_page(viewport=LAPTOP)
        await sign_in(page, console.url, "not-the-token")
        await page.wait_for_selector("[role=alert]")
        assert "not right" in await page.locator("[role=alert]").inner_text()
        await page.goto(console.url + "/gaps")
        assert "/login" in page.url
        await page.close()


async def test_the_pages_fit_a_phone(browser: Any, db_url: str, tmp_path: Path) -> None:
    async with running_console(db_url, tmp_path) as console:
        await seed(console.bot, console.clock, console.recorder)
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2)
        page = await context.new_page()
        await sign_in(page, console.url, TOKEN)
        for path, name in [("/", "overview"), ("/gaps", "gaps"), (f"/try?q={MISSED}", "try")]:
            await page.goto(console.url + path)
            await page.wait_for_selector("main h1")
            overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
            await page.screenshot(path=str(shots(tmp_path) / f"console-{name}-phone.png"), full_page=True)
        await context.close()
