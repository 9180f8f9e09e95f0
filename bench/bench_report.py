"""Report benchmark: how big the HTML report gets and how fast a slider recomputes it.

    python bench/bench_report.py                    # N = 10, 100, 1000 components
    python bench/bench_report.py --sizes 10,100     # only some sizes
    python bench/bench_report.py --steps 40         # slider steps timed per size

For each N it generates the compile benchmark's architecture (`generate(n)` in
bench/bench_compile.py), writes `llmarch report --scenario production` to a temporary
file and opens it from a file:// URL in the system Chromium (Playwright, executable path
set; nothing is downloaded). Inside the page, with `performance.now()`:

    model      one call of the generated model for the system and one for the happy path
               (`window.llmarchReport.compute`, timed over 200 calls), median of the steps
    script     one slider step: the `input` event's handler alone (model, summary, tables,
               cost vectors, budgets; and tornado + projection where they are live), median
    input      the same step followed by a forced layout (`document.body.offsetHeight`):
               what a reader waits for before the next frame, median and max of the steps
    release    the `change` event (when the slider is let go): everything, tornado and
               projection included, then a forced layout; median of 5

Columns outside the page: the time to write the report in Python (compile not included),
the size of the file, and the time from `goto` to the load event.

Not a pytest test: it prints a table. The slider moved is the first one (`requests_per_day`).
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_compile import generate  # noqa: E402

import llmarch  # noqa: E402
from llmarch.compiler import report  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

_STEPS = """([steps]) => {
  const input = document.querySelector('input[type=range][data-p]');
  const lo = +input.min, hi = +input.max, inputs = [], scripts = [], models = [], releases = [];
  for (let k = 0; k < steps; k++) {
    input.value = String(lo + (hi - lo) * (0.05 + 0.9 * ((k * 7) % steps) / steps));
    let t0 = performance.now();
    input.dispatchEvent(new Event('input', {bubbles: true}));
    const t1 = performance.now();
    void document.body.offsetHeight;
    inputs.push(performance.now() - t0);
    scripts.push(t1 - t0);
    const values = window.llmarchReport.values();
    t0 = performance.now();
    for (let r = 0; r < 200; r++) { window.llmarchReport.compute(values); }
    models.push((performance.now() - t0) / 200);
  }
  for (let k = 0; k < 5; k++) {
    input.value = String(lo + (hi - lo) * (0.2 + 0.1 * k));
    const t0 = performance.now();
    input.dispatchEvent(new Event('change', {bubbles: true}));
    void document.body.offsetHeight;
    releases.push(performance.now() - t0);
  }
  return {inputs, scripts, models, releases};
}"""


def _ms(x: float) -> str:
    if x < 0.1:
        return f"{x * 1000:.0f} µs"
    return f"{x:.2f} ms" if x < 10 else f"{x:.1f} ms"


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.2f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description="HTML report size and slider recompute time")
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
        for n in sizes:
            source = Path(folder) / f"synthetic_{n}.llmarch"
            source.write_text(generate(n))
            model = llmarch.load(source)
            t0 = time.perf_counter()
            text = model.report("production")
            write = time.perf_counter() - t0
            html = Path(folder) / f"report_{n}.html"
            html.write_text(text, encoding="utf-8")
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            problems = []
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            t0 = time.perf_counter()
            page.goto(html.as_uri())
            load = time.perf_counter() - t0
            timings = page.evaluate(_STEPS, [args.steps])
            page.close()
            if problems:
                print(f"N={n}: the page reported {problems[:3]}", file=sys.stderr)
                return 1
            data_live = '"live_analysis":true' in text
            sliders = text.count('<input type="range"')
            rows.append([f"{n:,}", f"{len(model.compiled.flow.graph):,}", f"{sliders:,}", _size(len(text.encode())),
                         f"{write:.2f} s", f"{load * 1000:.0f} ms", _ms(statistics.median(timings["models"])),
                         _ms(statistics.median(timings["scripts"])),
                         _ms(statistics.median(timings["inputs"])), _ms(max(timings["inputs"])),
                         _ms(statistics.median(timings["releases"])), "yes" if data_live else "on release",
                         "yes" if "<div class=\"diagram\">" in text else "no"])
        version = browser.version
        browser.close()
    header = ["N", "nodes", "sliders", "HTML", "write", "load", "model", "script", "input median", "input max",
              "release",
              "tornado live", "diagram"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("| " + " | ".join(h.rjust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |")
    print()
    print(f"Chromium {version}, Python {platform.python_version()}, {args.steps} slider steps per size; "
          f"table rows shown {report.TABLE_ROWS}, diagram up to {report.DIAGRAM_LIMIT} components, "
          f"tornado bars {report.TORNADO_ROWS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
