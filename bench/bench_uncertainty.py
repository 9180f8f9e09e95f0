"""Benchmarks for Monte Carlo (`llmarch simulate`, `Model.simulate`).

Prints three tables:

1. p95 stability: for every example with uncertain parameters (and a copy of
   examples/quickstart.llmarch with ranges on its guesses, while the examples have none),
   the relative spread of the monthly total's p95 over 10 seeds at 10k, 20k, 50k and 100k
   samples — what the default sample count (montecarlo.DEFAULT_SAMPLES) rests on;
2. throughput: samples per second of `Model.simulate` at 1e5 and 1e6 samples, with and
   without the per-component summaries (the file compiled and the evaluator generated
   before the clock starts; best of 3);
3. peak memory of `simulate` at 1e6 and 1e7 samples, with `components=False` and True,
   each in a fresh subprocess: the process's peak resident set (VmHWM, Linux) before and
   after the run, and tracemalloc's peak of the allocations made during the run alone (numpy
   reports its buffers to tracemalloc).

Run: python bench/bench_uncertainty.py [--only stability|throughput|memory] (a few minutes
on 2 cores). A script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

import llmarch  # noqa: E402

#: examples/quickstart.llmarch with its guesses as 90% intervals (text replaced → by)
QUICKSTART_RANGES = (
    ("param questions = 3000 to 8000 requests/day", "param questions = 2000 to 12000 requests/day"),
    ("param hit_rate = 20% to 40%", "param hit_rate = 15% to 45%"),
    ("traffic = questions", "param question_tokens = 40 to 160 tokens \"tokens in a question\"\n"
                            "param answer_tokens = 150 to 450 tokens \"tokens in an answer\"\n"
                            "param fail = 1% to 10% \"timeouts and malformed output\"\n"
                            "traffic = questions"),
    ("question = 80 tokens", "question = question_tokens"),
    ("output = 250 tokens", "output = answer_tokens"),
    ("fail_rate = 4%", "fail_rate = fail"),
)

SEEDS = range(10)
SIZES = (10_000, 20_000, 50_000, 100_000)


def quickstart_with_ranges(folder: Path) -> Path:
    text = (ROOT / "examples" / "quickstart.llmarch").read_text(encoding="utf-8")
    for old, new in QUICKSTART_RANGES:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = folder / "quickstart_ranges.llmarch"
    path.write_text(text, encoding="utf-8")
    return path


def uncertain_files(folder: Path) -> list[tuple[str, Path]]:
    """(label, path) of every example with an uncertain parameter in its defaults, and the
    quickstart with ranges."""
    files = []
    for path in sorted((ROOT / "examples").rglob("*.llmarch")):
        arch = llmarch.load(path, cache=False).compiled.arch
        for scenario in [None, *arch.scenarios]:
            if arch.uncertain(scenario) and (scenario is None or arch.scenarios[scenario].distributions):
                label = str(path.relative_to(ROOT)) + (f" --scenario {scenario}" if scenario else "")
                files.append((label, path, scenario))
    files.append(("quickstart with ranges (temporary copy)", quickstart_with_ranges(folder), None))
    return files


def stability_table(folder: Path) -> None:
    print("1. p95 of the monthly total over 10 seeds (0-9), defaults")
    print(f"   {'file':<42} {'samples':>8}  {'mean p95':>10}  {'sd/mean':>8}  {'(max-min)/mean':>14}")
    for label, path, scenario in uncertain_files(folder):
        model = llmarch.load(path, cache=False)
        print(f"   {label}: {len(model.compiled.arch.uncertain(scenario))} uncertain parameters")
        for n in SIZES:
            p95 = [model.simulate(scenario, samples=n, seed=s, components=False).figures["monthly_total"].p95
                   for s in SEEDS]
            mean = statistics.fmean(p95)
            print(f"   {'':<42} {n:>8,}  {mean:>10.2f}  {statistics.stdev(p95) / mean:>7.2%}  "
                  f"{(max(p95) - min(p95)) / mean:>13.2%}")
    print()


def throughput_table(folder: Path) -> None:
    path = quickstart_with_ranges(folder)
    model = llmarch.load(path, cache=False)
    model.simulate(samples=1000)          # the evaluator and its checks generated once
    print("2. throughput of Model.simulate (quickstart with ranges, 5 uncertain parameters, best of 3)")
    print(f"   {'samples':>10}  {'components':>10}  {'seconds':>8}  {'samples/s':>11}")
    for n in (100_000, 1_000_000):
        for components in (False, True):
            times = []
            for seed in range(3):       # a new seed each time: the memo of Model.simulate never answers
                start = time.perf_counter()
                model.simulate(samples=n, seed=seed, components=components)
                times.append(time.perf_counter() - start)
            best = min(times)
            print(f"   {n:>10,}  {str(components):>10}  {best:>8.3f}  {n / best:>11,.0f}")
    print()


_CHILD = """
import json, sys, time, tracemalloc
import llmarch

def peak_rss():   # KiB; VmHWM belongs to this process's memory map, new at exec (ru_maxrss is not)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

path, samples, components = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "True"
model = llmarch.load(path, cache=False)
model.simulate(samples=1000)
before = peak_rss()
tracemalloc.start()
start = time.perf_counter()
sim = model.simulate(samples=samples, seed=1, components=components)
seconds = time.perf_counter() - start
traced = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
after = peak_rss()
print(json.dumps({"before": before, "after": after, "traced": traced, "seconds": seconds,
                  "kept": int(sim.figures["monthly_total"].kept.size)}))
"""


def memory_table(folder: Path) -> None:
    path = quickstart_with_ranges(folder)
    print("3. peak memory of simulate (quickstart with ranges), one fresh process per row")
    print(f"   {'samples':>11}  {'components':>10}  {'peak RSS before':>15}  {'peak RSS after':>14}  "
          f"{'traced peak (run)':>17}  {'kept':>9}  {'seconds*':>8}")
    for n in (1_000_000, 10_000_000):
        for components in (False, True):
            out = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(n), str(components)],
                                 capture_output=True, text=True, check=True, env={**os.environ, "LLMARCH_NO_CACHE": "1"})
            r = json.loads(out.stdout)
            print(f"   {n:>11,}  {str(components):>10}  {r['before'] / 1024:>11.0f} MiB  {r['after'] / 1024:>10.0f} MiB  "
                  f"{r['traced'] / 2 ** 20:>13.0f} MiB  {r['kept']:>9,}  {r['seconds']:>7.2f}s")
    print("   peak RSS from /proc/self/status (VmHWM): before = after compiling and one warm-up run;")
    print("   traced = tracemalloc's peak during the run alone; * seconds under tracemalloc (slower than table 2)")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("stability", "throughput", "memory"))
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} cores\n")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        if args.only in (None, "stability"):
            stability_table(folder)
        if args.only in (None, "throughput"):
            throughput_table(folder)
        if args.only in (None, "memory"):
            memory_table(folder)


if __name__ == "__main__":
    main()
