"""Report benchmark: how big the HTML report gets and how fast a slider recomputes it; and
how long `llmarch report` takes on the largest legal inputs.

    python bench/bench_report.py                    # N = 10, 100, 1000 components
    python bench/bench_report.py --sizes 10,100     # only some sizes
    python bench/bench_report.py --steps 40         # slider steps timed per size
    python bench/bench_report.py --large            # the two large inputs below, report against check
    python bench/bench_report.py --large --instances 2000 --tools 30 --runs 3

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

`--large` writes two inputs that are legal but large (the limits are in docs/language.md):

    template chain  `--instances` (default 19,999, under the 20,000-instance limit) instances
                    of a one-component template in a chain (`template_chain`; the `tiny`
                    template of bench/bench_templates.py)
    tool mesh       `--tools` (default 100) tools, each with an edge to every other one
                    (9,900 edges at 100: `tool_mesh`)

and runs `llmarch check FILE` and `llmarch report FILE -o FILE.html` on each as a user would,
in a subprocess with the compile cache off (`LLMARCH_NO_CACHE=1`, so both compile), `--runs`
times, interleaved; it prints the median wall time and peak resident memory of each (the
child's own rusage, `os.wait4`), their ratio, the size of the HTML and which diagram it holds.
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
from bench_templates import tiny_templated  # noqa: E402

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


def template_chain(instances: int) -> str:
    """`instances` instances of a one-component template (an llm with 3 attempts) in a chain."""
    return tiny_templated(instances)


def tool_mesh(tools: int, probability: str = "0.5%") -> str:
    """`tools` tools, each with an edge of `probability` to every other one: tools × (tools − 1)
    edges, one strongly connected component."""
    lines = [f'architecture "Mesh of {tools} tools"', "traffic = 1000 requests/day"]
    lines += [f"tool t{i} {{ cost = 0.001 USD }}" for i in range(tools)]
    lines += ["flow {", "  start -> t0"]
    lines += [f"  t{i} -> t{j} (p = {probability})" for i in range(tools) for j in range(tools) if i != j]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _run(args: list[str]) -> tuple[float, int, int]:
    """Wall seconds, peak resident memory in bytes and exit code of one command (its own
    rusage, not this process's)."""
    import os
    import subprocess
    env = dict(os.environ, LLMARCH_NO_CACHE="1")
    t0 = time.perf_counter()
    child = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - t0
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stderr.close()
    return elapsed, usage.ru_maxrss * 1024, child.returncode


def large(args) -> int:
    """The large inputs: `llmarch check` against `llmarch report`, as a user runs them."""
    import re
    exe = [sys.executable, "-m", "llmarch"]
    inputs = [(f"template chain ({args.instances:,} instances)", template_chain(args.instances)),
              (f"tool mesh ({args.tools} tools, {args.tools * (args.tools - 1):,} edges)", tool_mesh(args.tools))]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, text in inputs:
            source = Path(folder) / "input.llmarch"
            source.write_text(text, encoding="utf-8")
            out = Path(folder) / "report.html"
            checks, reports = [], []
            for _ in range(args.runs):
                checks.append(_run(exe + ["check", str(source)]))
                reports.append(_run(exe + ["report", str(source), "-o", str(out)]))
            if any(code != 0 for _, _, code in checks + reports):
                print(f"{name}: a command failed: {[c for *_, c in checks + reports]}", file=sys.stderr)
                return 1
            page = out.read_text(encoding="utf-8")
            kind = re.search(r'data-diagram="(\w+)"', page)
            check_s = statistics.median(t for t, _, _ in checks)
            report_s = statistics.median(t for t, _, _ in reports)
            rows.append([name, f"{check_s:.2f} s", f"{statistics.median(m for _, m, _ in checks) / 2**20:,.0f} MB",
                         f"{report_s:.2f} s", f"{statistics.median(m for _, m, _ in reports) / 2**20:,.0f} MB",
                         f"{report_s / check_s:.2f}", _size(len(page.encode())), kind.group(1) if kind else "none"])
    header = ["input", "check", "check peak", "report", "report peak", "report / check", "HTML", "diagram"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("| " + " | ".join(h.rjust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |")
    print()
    print(f"Python {platform.python_version()}, median of {args.runs} run(s) each, check and report interleaved, "
          f"compile cache off; diagram in full up to {report.DIAGRAM_LIMIT} components and "
          f"{report.DIAGRAM_EDGES} arrows, else summarized by cost vector")
    return 0


def _ms(x: float) -> str:
    if x < 0.1:
        return f"{x * 1000:.0f} µs"
    return f"{x:.2f} ms" if x < 10 else f"{x:.1f} ms"


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.2f} MiB"


def _diagram_kind(page: str) -> str:
    for kind in ("full", "summary"):
        if f'data-diagram="{kind}"' in page:
            return kind
    return "no"


def main() -> int:
    parser = argparse.ArgumentParser(description="HTML report size and slider recompute time")
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--large", action="store_true", help="time check and report on the two large inputs")
    parser.add_argument("--instances", type=int, default=19_999)
    parser.add_argument("--tools", type=int, default=100)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    if args.large:
        return large(args)
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
                         _diagram_kind(text)])
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
          f"table rows shown {report.TABLE_ROWS}, diagram in full up to {report.DIAGRAM_LIMIT} components and "
          f"{report.DIAGRAM_EDGES} arrows, "
          f"tornado bars {report.TORNADO_ROWS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
