"""Regenerate docs/img/watch.png and docs/img/watch-error.png, the screenshots of
`llmarch watch` in README.md and docs/editors.md:

    python docs/make_watch_screenshot.py [--report docs/img/watch.png] [--error docs/img/watch-error.png]
                                         [--chromium /usr/bin/chromium]

It copies examples/quickstart.llmarch to a temporary folder, serves it with `llmarch.api.watch`
(polling in the background, as the command does), opens the page in the system Chromium
driven by Playwright at 1100 × 700 pixels, and takes a picture of the report; then it
misspells a model name in the file (`model = smal`), waits for the page to reload with the
diagnostic, and takes a second picture, down to the page's last line. It refuses to take a picture if the page logged an
error or a warning, or asked anything but the watch server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from llmarch import api

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "quickstart.llmarch"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--hide-scrollbars", "--font-render-hinting=none"]
WIDTH, HEIGHT = 1100, 700


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", default=str(ROOT / "docs" / "img" / "watch.png"))
    parser.add_argument("--error", default=str(ROOT / "docs" / "img" / "watch-error.png"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    report, error = Path(args.report).resolve(), Path(args.error).resolve()

    from playwright.sync_api import expect, sync_playwright

    here = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)        # the page names the file as a reader would type it: quickstart.llmarch
        try:
            source = Path("quickstart.llmarch")
            text = EXAMPLE.read_text(encoding="utf-8")
            source.write_text(text, encoding="utf-8")
            with api.watch(source).start() as watch, sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
                page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=1)
                problems: list[str] = []
                page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                        if m.type in ("error", "warning") else None)
                page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
                page.on("request", lambda r: None if r.url.startswith(watch.url)
                        else problems.append(f"request {r.url}"))
                page.goto(watch.url)
                expect(page.locator('[data-fig="monthly_total"]').first).to_be_visible()
                shots = [(report, None)]
                broken = text.replace("model = small\n", "model = smal\n", 1)
                if broken == text:
                    sys.stderr.write("the example no longer has `model = small`: update this script\n")
                    return 1
                shots.append((error, broken))
                for output, new_text in shots:
                    if new_text is not None:
                        source.write_text(new_text, encoding="utf-8")
                        expect(page.locator("#lm-diagnostics")).to_contain_text("error[E", timeout=20_000)
                    if problems:
                        sys.stderr.write("\n".join(problems) + "\n")
                        return 1
                    output.parent.mkdir(parents=True, exist_ok=True)
                    if new_text is None:
                        page.screenshot(path=str(output))
                    else:   # the diagnostics page is short: down to its last line
                        bottom = page.evaluate("Math.ceil(document.querySelector('main').getBoundingClientRect().bottom)")
                        page.screenshot(path=str(output), clip={"x": 0, "y": 0, "width": WIDTH,
                                                                "height": min(HEIGHT, bottom)})
                    print(f"wrote {output}")
                browser.close()
        finally:
            os.chdir(here)
    return 0


if __name__ == "__main__":
    sys.exit(main())
