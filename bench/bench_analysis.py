"""Benchmarks for the analyses (issue: sensitivity, growth and what-if).

Prints three tables:

1. a sweep of 1,000,000 scenarios of the support example (target: under 1 s);
2. the full gradient of generated architectures of 100 and 1,000 components
   (target: 1,000 components under 2 s, building the derivative code included);
3. the generated evaluator against a hand-written numpy formula of the same model
   (examples/quickstart.llmarch), on the same 1,000,000 points (target: within 3x).

Run: python bench/bench_analysis.py  (about a minute on 2 cores). A script, not a test.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import llmarch  # noqa: E402
from bench_compile import generate  # noqa: E402
from llmarch.compiler.analysis import parse_grid  # noqa: E402


def best(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def sweep_table() -> None:
    model = llmarch.load(ROOT / "examples" / "support_assistant.llmarch")
    grids = [parse_grid("cache_hit=0:0.9:1000"), parse_grid("tickets_per_day=100:20000:log:1000")]
    start = time.perf_counter()
    model.sweep(grids, "production")        # first call: generates the evaluator
    first = time.perf_counter() - start
    warm = best(lambda: model.sweep(grids, "production"))
    print("1. sweep of the support example (production), 1000 x 1000 grid")
    print(f"   {'points':>10}  {'first call':>11}  {'warm':>8}  target")
    print(f"   {1_000_000:>10,}  {first:>10.3f}s  {warm:>7.3f}s  < 1 s warm")
    print()


def gradient_table() -> None:
    print("2. full gradient (every input parameter, exact, one reverse sweep per output)")
    print(f"   {'components':>10}  {'inputs':>6}  {'compile':>8}  {'build grad':>10}  {'evaluate':>8}  target")
    with tempfile.TemporaryDirectory() as folder:
        for n in (100, 1000):
            path = Path(folder) / f"arch_{n}.llmarch"
            path.write_text(generate(n))
            start = time.perf_counter()
            model = llmarch.load(path)
            compiled = time.perf_counter() - start
            analyzer = model._analyzer
            resolution = analyzer.evaluator.resolve("production")
            start = time.perf_counter()
            analyzer.gradient(resolution=resolution)
            build = time.perf_counter() - start
            warm = best(lambda: analyzer.gradient(resolution=resolution))
            target = "< 2 s build+evaluate" if n == 1000 else ""
            print(f"   {n:>10,}  {len(resolution.inputs):>6}  {compiled:>7.3f}s  {build:>9.3f}s  {warm:>7.4f}s  {target}")
    print()


def hand_written(q, h):
    """The quickstart model by hand: a cache in front of a call with one retry, then the same
    prompt on the large model."""
    small = 480 * 0.15e-6 + 250 * 0.60e-6
    large = 480 * 2.50e-6 + 250 * 10e-6
    f = 0.04
    per_request = 0.0001 + (1 - h) * (small * (1 + f) + f * f * large)
    return q * 30 * per_request + 70


def evaluator_table() -> None:
    model = llmarch.load(ROOT / "examples" / "quickstart.llmarch")
    evaluator = model.compiled.evaluator
    rng = np.random.default_rng(0)
    q = rng.uniform(500, 50000, 1_000_000)
    h = rng.uniform(0, 0.8, 1_000_000)
    resolution = evaluator.resolve(None, None, {"questions": q, "hit_rate": h})
    from llmarch.compiler.codegen import generate_function
    m = model.compiled.model
    from llmarch.compiler.codegen import blocked
    monthly_function = generate_function(evaluator.arguments, [m.monthly_total], m.definitions)

    def monthly_only(*values):
        return blocked(monthly_function, list(values))

    args = [resolution.env[p.symbol] for p in model.compiled.arch.parameters.values()] + [1.0]
    (monthly,) = monthly_only(*args)
    assert np.allclose(monthly, hand_written(q, h), rtol=1e-12)
    assert np.allclose(evaluator.totals(resolution.env)[0], monthly, rtol=1e-12)
    # interleaved rounds, best of each: both sides see the same machine state
    t_generated = t_totals = t_hand = float("inf")
    for _ in range(15):
        t_hand = min(t_hand, best(lambda: hand_written(q, h), 1))
        t_generated = min(t_generated, best(lambda: monthly_only(*args), 1))
        t_totals = min(t_totals, best(lambda: evaluator.totals(resolution.env), 1))
    t_batch = best(lambda: model._analyzer.batch(None, None, {"questions": q, "hit_rate": h}, categories=False), 3)
    print("3. generated evaluator vs a hand-written numpy formula (quickstart, 1,000,000 points)")
    print(f"   {'hand-written':>12}  {'generated':>10}  {'ratio':>6}  {'4 totals':>9}  {'full batch*':>11}  target")
    print(f"   {t_hand:>11.4f}s  {t_generated:>9.4f}s  {t_generated / t_hand:>5.2f}x  {t_totals:>8.4f}s"
          f"  {t_batch:>10.4f}s  ratio < 3x")
    print("   * full batch = parameter resolution + range checks + generated code, in 200,000-point chunks")
    print("   generated: the monthly total only, like the hand-written formula, evaluated the way llmarch")
    print("   evaluates (blocks of 65,536 points); the hand-written formula runs over the whole arrays at once;")
    print("   4 totals: the lean")
    print("   evaluator sweeps use (monthly total, cost per request, P(success), requests per month)")
    print()


if __name__ == "__main__":
    import os
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} cores\n")
    sweep_table()
    gradient_table()
    evaluator_table()
