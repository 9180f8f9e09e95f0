"""Rendering benchmark: `llmarch render` on generated architectures.

    python bench/bench_render.py                  # N = 100 and 1000 components
    python bench/bench_render.py --sizes 10,100   # other sizes
    python bench/bench_render.py --no-layout      # skip Graphviz (DOT generation only)

For each N it generates the synthetic architecture of `bench_compile.py` (`generate(n)`)
and prints:

    compile   llmarch.compiler.pipeline.compile_file (parse .. symbolic model)
    evaluate  Evaluator.evaluate() at the defaults (generates the numpy evaluator)
    dot text  render.architecture_dot(compiled, evaluation): the lowered graph's numbers from the
              chain, the labels and the DOT text (best of --repeats); target: < 2 s at 1,000
    layout    Graphviz `dot -Tsvg` on that text, run once (a separate program; its time is
              reported, not a target), with its peak memory when GNU time is available
    DOT KB / SVG KB   output sizes

Above `render.SUMMARY_THRESHOLD` components the diagram is summarized (see docs/render.md).
Not a pytest test: it prints a table. Timings use time.perf_counter.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_compile import generate  # noqa: E402
from llmarch.compiler import render  # noqa: E402
from llmarch.compiler.pipeline import compile_file  # noqa: E402


def _layout(dot_path: Path, svg_path: Path, timeout: float) -> tuple[str, str]:
    """Run `dot -Tsvg` once; return (seconds, peak memory) as printed cells."""
    command = ["dot", "-Tsvg", str(dot_path), "-o", str(svg_path)]
    gnu_time = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)
    report = dot_path.with_suffix(".time")
    if gnu_time:
        command = [gnu_time, "-f", "%M", "-o", str(report)] + command
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"> {timeout:.0f}s", ""
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        return f"failed ({done.returncode})", ""
    memory = f"{int(report.read_text().split()[-1]) / 1024:.0f} MB" if gnu_time and report.exists() else ""
    return f"{seconds:.2f}s", memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-layout", action="store_true")
    parser.add_argument("--layout-timeout", type=float, default=600.0)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    layout = not args.no_layout and shutil.which("dot") is not None
    print(f"python {platform.python_version()}, {os.cpu_count()} cpus, "
          f"graphviz: {_graphviz_version() if layout else 'not run'}")
    print(f"summarized above {render.SUMMARY_THRESHOLD} components "
          f"({render.FULL_LABELS} full labels)")
    header = f"{'components':>10}  {'compile':>8}  {'evaluate':>8}  {'dot text':>8}  {'DOT KB':>7}  " \
             f"{'layout':>9}  {'dot mem':>8}  {'SVG KB':>7}"
    print(header)
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            path = Path(folder) / f"arch_{n}.llmarch"
            path.write_text(generate(n))
            start = time.perf_counter()
            compiled = compile_file(path)
            compile_time = time.perf_counter() - start
            start = time.perf_counter()
            result = compiled.evaluator.evaluate()
            evaluate_time = time.perf_counter() - start
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                text = render.architecture_dot(compiled, compiled.evaluator.evaluation())
                times.append(time.perf_counter() - start)
            dot_path = path.with_suffix(".dot")
            dot_path.write_text(text, encoding="utf-8")
            cells = ("", "", "")
            if layout:
                svg_path = path.with_suffix(".svg")
                seconds, memory = _layout(dot_path, svg_path, args.layout_timeout)
                size = f"{svg_path.stat().st_size / 1024:.0f}" if svg_path.exists() else ""
                cells = (seconds, memory, size)
            print(f"{n:>10,}  {compile_time:>7.3f}s  {evaluate_time:>7.3f}s  {min(times):>7.3f}s  "
                  f"{len(text.encode()) / 1024:>7.0f}  {cells[0]:>9}  {cells[1]:>8}  {cells[2]:>7}")


def _graphviz_version() -> str:
    done = subprocess.run(["dot", "-V"], capture_output=True, text=True)
    return done.stderr.strip().removeprefix("dot - graphviz version ")


if __name__ == "__main__":
    main()
