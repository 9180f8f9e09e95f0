"""Time to the first number: `llmarch` against the machine's floor, whole processes.

    python bench/bench_first_number.py                     # everything (about 10 minutes)
    python bench/bench_first_number.py --only small        # the support example and start-up
    python bench/bench_first_number.py --baseline /path/to/other/venv/bin/python   # report vs another llmarch

The floor is `bench/floor_solve.py`: a plain script that imports numpy and scipy.sparse,
reads the graph `llmarch export` wrote and solves it with one sparse LU solve (it prints
the same monthly total; this script checks that to 1e-9). Against it, as whole processes,
each command interleaved with the floor (a, b, a, b, … with the order swapped every round)
and each ratio taken pair by pair:

    cold   LLMARCH_NO_CACHE=1 python -m llmarch cost FILE --scenario production
    warm   the same with a compile cache that holds the file (one untimed run fills it)

on the support example and on generated architectures of 1,000 and 10,000 components
(`generate()` of bench/bench_compile.py). Then the start-up of `--help`, `--version` and a
usage error (absolute; target < 0.15 s), `sensitivity` at 1,000, 3,000 and 10,000
components (time, peak memory of the process from wait4, and the growth exponent), and
`report` on the support example (with `--baseline`, against another installation's
python, e.g. the commit before the redesign).

Prints tables: min and median of every command and of the paired ratios. Not a test.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
PY = sys.executable
SUPPORT = ROOT / "examples" / "support_assistant.llmarch"


def run(cmd: list[str], env: dict, ok=(0,)) -> tuple[float, float, float]:
    """(wall s, CPU s, peak MiB) of one process, from wait4; its exit code must be in `ok`."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in ok:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{err}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def paired(a: list[str], b: list[str], env_a: dict, env_b: dict, runs: int) -> dict:
    """Interleaved runs of a and b; per-command and pair-by-pair ratio statistics."""
    out = {"a": [], "b": [], "ratio": [], "cpu_ratio": []}
    for i in range(runs):
        first, second = ((a, env_a, "a"), (b, env_b, "b")) if i % 2 == 0 else ((b, env_b, "b"), (a, env_a, "a"))
        got = {}
        for cmd, env, name in (first, second):
            got[name] = run(cmd, env)
            out[name].append(got[name])
        out["ratio"].append(got["a"][0] / got["b"][0])
        out["cpu_ratio"].append(got["a"][1] / got["b"][1])
    return out


def fmt(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.2f} s"


def row(label: str, samples: list[tuple]) -> str:
    walls, cpus, peaks = zip(*samples)
    return (f"| {label} | {fmt(min(walls))} | {fmt(statistics.median(walls))} | {fmt(statistics.median(cpus))} "
            f"| {max(peaks):.0f} MiB |")


def monthly_of(cmd: list[str], env: dict) -> float:
    out = subprocess.run(cmd + ["-f", "json"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    import json
    return json.loads(out.stdout)["results"]["monthly_total"]


def first_number(name: str, file: Path, tmp: Path, runs: int, base_env: dict) -> None:
    export = tmp / f"{name}.json"
    cold_env = dict(base_env, LLMARCH_NO_CACHE="1")
    warm_env = dict(base_env, LLMARCH_CACHE_DIR=str(tmp / "cache"))
    warm_env.pop("LLMARCH_NO_CACHE", None)
    with open(export, "w", encoding="utf-8") as handle:
        subprocess.run([PY, "-m", "llmarch", "export", str(file), "--scenario", "production"], cwd=ROOT,
                       env=cold_env, stdout=handle, check=True)
    floor = [PY, str(ROOT / "bench" / "floor_solve.py"), str(export)]
    cost = [PY, "-m", "llmarch", "cost", str(file), "--scenario", "production"]
    floor_value = float(subprocess.run(floor, cwd=ROOT, env=base_env, capture_output=True, text=True,
                                       check=True).stdout)
    ours = monthly_of(cost, cold_env)
    assert math.isclose(floor_value, ours, rel_tol=1e-9), (floor_value, ours)
    run(cost, warm_env)   # fills the compile cache
    assert monthly_of(cost, warm_env) == ours
    cold = paired(cost, floor, cold_env, base_env, runs)
    warm = paired(cost, floor, warm_env, base_env, runs)
    print(f"\n### {name}: `llmarch cost` against the floor ({runs} interleaved pairs; same monthly total "
          f"{ours:,.2f} to 1e-9)\n")
    print("| command | min | median | CPU median | peak |")
    print("|---|---:|---:|---:|---:|")
    print(row("floor: numpy + scipy.sparse solve of the export", cold["b"] + warm["b"]))
    print(row("`llmarch cost`, cold (no compile cache)", cold["a"]))
    print(row("`llmarch cost`, warm (compile cache)", warm["a"]))
    print()
    for label, r in (("cold", cold), ("warm", warm)):
        print(f"- {label} / floor, pair by pair: wall min {min(r['ratio']):.2f}, median "
              f"{statistics.median(r['ratio']):.2f}; CPU median {statistics.median(r['cpu_ratio']):.2f}")


def startup(runs: int, env: dict) -> None:
    print(f"\n### Start-up ({runs} runs each; target < 0.15 s)\n")
    print("| command | min | median | CPU median | peak |")
    print("|---|---:|---:|---:|---:|")
    for label, args, ok in (("`python -c pass`", [PY, "-c", "pass"], (0,)),
                            ("`llmarch --help`", [PY, "-m", "llmarch", "--help"], (0,)),
                            ("`llmarch --version`", [PY, "-m", "llmarch", "--version"], (0,)),
                            ("`llmarch cost` (usage error: no file)", [PY, "-m", "llmarch", "cost"], (2,))):
        print(row(label, [run(args, env, ok) for _ in range(runs)]))


def sensitivity(sizes: list[int], tmp: Path, env: dict, runs: int) -> None:
    from bench_compile import generate
    cold_env = dict(env, LLMARCH_NO_CACHE="1")
    print(f"\n### `llmarch sensitivity` (cold; {runs} run(s) each; targets at 10,000: < 10 s, < 1 GiB, "
          "exponent 1k→10k ≤ 1.05)\n")
    print("| components | min | median | peak |")
    print("|---:|---:|---:|---:|")
    medians = {}
    for n in sizes:
        path = tmp / f"n{n}.llmarch"
        path.write_text(generate(n), encoding="utf-8")
        samples = [run([PY, "-m", "llmarch", "sensitivity", str(path), "--scenario", "production"], cold_env)
                   for _ in range(runs)]
        walls, _, peaks = zip(*samples)
        medians[n] = statistics.median(walls)
        print(f"| {n:,} | {fmt(min(walls))} | {fmt(medians[n])} | {max(peaks):.0f} MiB |")
    if 1000 in medians and 10000 in medians:
        print(f"\nexponent 1,000 → 10,000: {math.log(medians[10000] / medians[1000]) / math.log(10):.2f}")


def report(runs: int, env: dict, baseline: str | None) -> None:
    print(f"\n### `llmarch report` on the support example ({runs} runs)\n")
    ours = [PY, "-m", "llmarch", "report", str(SUPPORT), "--scenario", "production", "-o", os.devnull]
    if baseline:
        # the baseline's own `llmarch` script (with `-m`, the working directory's package would win)
        script = str(Path(baseline).with_name("llmarch"))
        theirs = [script, "report", str(SUPPORT), "--scenario", "production", "-o", os.devnull]
        cold_env = dict(env, LLMARCH_NO_CACHE="1")
        r = paired(ours, theirs, cold_env, cold_env, runs)
        print("| command | min | median | CPU median | peak |")
        print("|---|---:|---:|---:|---:|")
        print(row("this llmarch", r["a"]))
        print(row(f"baseline (`{baseline}`)", r["b"]))
        print(f"\nthis / baseline, pair by pair: wall min {min(r['ratio']):.2f}, median "
              f"{statistics.median(r['ratio']):.2f}; CPU median {statistics.median(r['cpu_ratio']):.2f}")
    else:
        print("| command | min | median | CPU median | peak |")
        print("|---|---:|---:|---:|---:|")
        print(row("`llmarch report` (cold)", [run(ours, dict(env, LLMARCH_NO_CACHE="1")) for _ in range(runs)]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7, help="runs (pairs) for the small cases (default 7)")
    ap.add_argument("--big-runs", type=int, default=3, help="runs for 10,000 components (default 3)")
    ap.add_argument("--only", choices=("small", "big", "sensitivity", "report"), help="one part only")
    ap.add_argument("--baseline", help="another installation's python (its `llmarch` script beside it is run), "
                                       "for the report ratio")
    args = ap.parse_args(argv)
    env = dict(os.environ)
    env.pop("LLMARCH_NO_CACHE", None)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    print(f"llmarch at {head.strip()}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="llmarch-first-") as folder:
        tmp = Path(folder)
        env["LLMARCH_CACHE_DIR"] = str(tmp / "catalog")   # the catalog's cache, warm after the first run
        if args.only in (None, "small"):
            startup(args.runs, env)
            first_number("support example", SUPPORT, tmp, args.runs, env)
        if args.only in (None, "big"):
            from bench_compile import generate
            for n, runs in ((1000, args.runs), (10000, args.big_runs)):
                path = tmp / f"g{n}.llmarch"
                path.write_text(generate(n), encoding="utf-8")
                first_number(f"{n:,} components", path, tmp, runs, env)
        if args.only in (None, "sensitivity"):
            sensitivity([1000, 3000, 10000], tmp, env, 1)
        if args.only in (None, "report"):
            report(args.runs, env, args.baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
