"""Regenerate docs/img/report.png and docs/img/report-narrow.png, the screenshots in
docs/report.md:

    python docs/make_screenshot.py [--output docs/img/report.png] [--narrow docs/img/report-narrow.png]
                                   [--chromium /usr/bin/chromium]

It writes the HTML report of the support example (scenario `production`) to a temporary
file, opens it from a file:// URL in the system Chromium driven by Playwright (which never
downloads a browser here), and takes a screenshot of the top of the page at a laptop's
1366 × 768 pixels and at a phone's 390 × 844 (the narrow layout: the sliders above the
report). It refuses to take a picture if the page logged an error, asked for anything but
itself, or scrolls sideways.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import llmarch

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "support_assistant.llmarch"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--hide-scrollbars", "--font-render-hinting=none"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(ROOT / "docs" / "img" / "report.png"))
    parser.add_argument("--narrow", default=str(ROOT / "docs" / "img" / "report-narrow.png"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    # the path as a reader would type it, so the page shows `examples/support_assistant.llmarch`
    page_text = llmarch.load(EXAMPLE.relative_to(ROOT) if Path.cwd() == ROOT else EXAMPLE).report("production")
    with tempfile.TemporaryDirectory() as folder:
        html = Path(folder) / "report.html"
        html.write_text(page_text, encoding="utf-8")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
            for output, width, height in ((args.output, 1366, 768), (args.narrow, 390, 844)):
                page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
                problems: list[str] = []
                page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                        if m.type in ("error", "warning") else None)
                page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
                page.on("request", lambda r: None if r.url.startswith("file://") else problems.append(f"request {r.url}"))
                page.goto(html.as_uri())
                page.wait_for_load_state("load")
                if page.evaluate("document.documentElement.scrollWidth") > width:
                    problems.append(f"the page scrolls sideways at {width} pixels")
                if problems:
                    browser.close()
                    sys.stderr.write("\n".join(problems) + "\n")
                    return 1
                out = Path(output)
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out))
                page.close()
                print(f"wrote {output}")
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
