"""`llmarch watch` in a real browser (the system Chromium driven by Playwright, as in
test_report_browser.py): the page loads the report from the server, and follows the file
as it is edited, broken and fixed; the file's text never runs as markup, and the page's
policy lets it ask its server (no console error or warning).

Without a Chromium binary these tests are skipped, unless CI_REQUIRE_BROWSER=1."""

from __future__ import annotations

import os
import shutil

import pytest

from llmarch import api

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
WAIT = 20_000   # ms: how long the page may take to follow an edit (it polls every 0.3 s)
# 100 requests a day, 30-day months: 3,000 requests; one tool at 0.01 USD: $30.00 a month
BOT = ('architecture "watched bot"\nparam rpd = 100 requests/day in [10, 1000]\ntraffic = rpd\n'
       'tool t "the tool" { cost = 0.01 USD }\nflow { start -> t }\n')


def _chromium() -> str | None:
    for candidate in (shutil.which("chromium"), "/usr/bin/chromium", shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        sync_playwright = None
    missing = "no chromium binary (apt-get install chromium)" if executable is None else \
        "the playwright package is not installed" if sync_playwright is None else None
    if missing:
        if os.environ.get("CI_REQUIRE_BROWSER") == "1":
            pytest.fail(f"CI_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=ARGS)
        yield chromium
        chromium.close()


def test_the_page_follows_edits_errors_and_fixes(browser, tmp_path):
    from playwright.sync_api import expect

    path = tmp_path / "bot.llmarch"
    path.write_text(BOT, encoding="utf-8")
    with api.watch(path).start() as watch:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        console, errors, dialogs, requests = [], [], [], []
        page.on("console", lambda m: console.append((m.type, m.text)))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(watch.url)
        total = page.locator('[data-fig="monthly_total"]').first
        expect(total).to_have_text("$30.00")

        # an edit of the price: the page loads the new report by itself
        path.write_text(BOT.replace("0.01 USD", "0.05 USD"), encoding="utf-8")
        expect(total).to_have_text("$150.00", timeout=WAIT)
        # an edit of the traffic
        path.write_text(BOT.replace("0.01 USD", "0.05 USD").replace("= 100 requests", "= 200 requests"),
                        encoding="utf-8")
        expect(total).to_have_text("$300.00", timeout=WAIT)

        # broken, with markup in it: the diagnostic, as text
        path.write_text(BOT.replace('"the tool" { cost = 0.01 USD }', '"<img src=x onerror=alert(1)>" { cost = }'),
                        encoding="utf-8")
        diagnostics = page.locator("#lm-diagnostics")
        expect(diagnostics).to_contain_text("error[E", timeout=WAIT)
        text = diagnostics.inner_text()
        assert "bot.llmarch:4:48: error[E003]: unexpected `}`" in text and "<img src=x onerror=alert(1)>" in text and "^" in text
        assert page.locator("img").count() == 0 and page.locator('[data-fig="monthly_total"]').count() == 0
        expect(page.locator("#lm-watch-summary")).to_contain_text("1 error")

        # fixed: the report returns
        path.write_text(BOT, encoding="utf-8")
        expect(total).to_have_text("$30.00", timeout=WAIT)
        expect(page.locator("h1")).to_have_text("watched bot")

        assert errors == [] and dialogs == []
        assert [m for m in console if m[0] in ("error", "warning")] == []
        assert all(url.startswith(watch.url) for url in requests), requests
        assert any(url == watch.url + "version" for url in requests)
        page.close()


def test_a_stopped_server_is_said_on_the_page(browser, tmp_path):
    from playwright.sync_api import expect

    path = tmp_path / "bot.llmarch"
    path.write_text(BOT, encoding="utf-8")
    watch = api.watch(path).start()
    page = browser.new_page()
    page.goto(watch.url)
    expect(page.locator('[data-fig="monthly_total"]').first).to_have_text("$30.00")
    watch.close()
    expect(page.locator("#lm-watch-stopped")).to_contain_text("not answering", timeout=WAIT)
    expect(page.locator('[data-fig="monthly_total"]').first).to_have_text("$30.00")    # the last report stays
    page.close()
