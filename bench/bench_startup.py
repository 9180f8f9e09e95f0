"""Start-up benchmark: `llmarch cost` on the support example against importing its dependencies.

    python bench/bench_startup.py              # 15 timed runs of each command (after 2 warm-ups)
    python bench/bench_startup.py --runs 30

Commands, run as subprocesses from the repository root, interleaved (a, b, a, b, … with
the order alternating every round so that neither command always runs first):

    a   python -c "import lark, networkx, pydantic, sympy, numpy"
    b   python -m llmarch cost examples/support_assistant.llmarch --scenario production

Each run is timed with time.perf_counter around subprocess.run (output discarded), in
the manner of hyperfine; the CPU time (user + sys) of the child is recorded too, from
getrusage(RUSAGE_CHILDREN), since it is less disturbed by other load on the machine. The script prints min/median/mean/max/stdev per command and
the ratio median(b) / median(a); the target is < 1.5.

With `--pycache` it also times

    b'  the same as b with PYTHONPYCACHEPREFIX pointing to a temporary directory and
        PYTHONDONTWRITEBYTECODE unset

i.e. with llmarch's own bytecode cached. This matters where PYTHONDONTWRITEBYTECODE=1 is
set and the package is installed in editable mode: its modules are then compiled from
source at every start (the dependencies in site-packages already have .pyc files). The
main comparison (a vs b) always uses the environment as it is.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _revision(root: Path) -> str:
    """The git commit being measured, with `+dirty` when the compiler's files differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "dsl", "compiler", "llmarch"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "examples/support_assistant.llmarch"
TARGET = 1.5


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _time(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds user+sys) of one run of `cmd`."""
    c0 = _cpu_children()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    cpu = _cpu_children() - c0
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.decode(errors='replace')}")
    return elapsed, cpu


def _stats(xs: list[float]) -> dict[str, float]:
    return {"min": min(xs), "median": statistics.median(xs), "mean": statistics.fmean(xs), "max": max(xs),
            "stdev": statistics.stdev(xs) if len(xs) > 1 else 0.0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15, help="timed runs per command (default 15, at least 10)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed runs per command first (default 2)")
    ap.add_argument("--pycache", action="store_true",
                    help="also time `llmarch cost` with bytecode cached under PYTHONPYCACHEPREFIX")
    args = ap.parse_args(argv)
    if args.runs < 10:
        ap.error("--runs must be at least 10")

    py = sys.executable
    commands = {
        "a": [py, "-c", "import lark, networkx, pydantic, sympy, numpy"],
        "b": [py, "-m", "llmarch", "cost", EXAMPLE, "--scenario", "production"],
    }
    base_env = dict(os.environ)
    envs = {"a": base_env, "b": base_env}
    tmp = None
    if args.pycache:
        tmp = tempfile.TemporaryDirectory(prefix="llmarch-pycache-")
        cached = dict(base_env)
        cached.pop("PYTHONDONTWRITEBYTECODE", None)
        cached["PYTHONPYCACHEPREFIX"] = tmp.name
        commands["b'"] = commands["b"]
        envs["b'"] = cached

    import platform
    print(f"python {platform.python_version()} ({py}), {os.cpu_count()} CPUs (nproc); "
          f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}")
    print(f"llmarch at commit {_revision(ROOT)}")
    if hasattr(os, "getloadavg"):
        print("load average before the run: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"{args.warmup} warm-up + {args.runs} timed runs per command, interleaved")

    names = list(commands)
    for _ in range(args.warmup):
        for name in names:
            _time(commands[name], envs[name])
    times: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for i in range(args.runs):
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            wall, used = _time(commands[name], envs[name])
            times[name].append(wall)
            cpu[name].append(used)
    if tmp is not None:
        tmp.cleanup()

    labels = {
        "a": 'python -c "import lark, networkx, pydantic, sympy, numpy"',
        "b": f"python -m llmarch cost {EXAMPLE} --scenario production",
        "b'": "same as b, bytecode cached (PYTHONPYCACHEPREFIX)",
    }
    print()
    print("| cmd | command | min | median | mean | max | stdev | CPU median (user+sys) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    stats = {}
    for name in names:
        s = stats[name] = _stats(times[name])
        s["cpu"] = statistics.median(cpu[name])
        print(f"| {name} | `{labels[name]}` | " + " | ".join(f"{s[k] * 1000:.0f} ms" for k in
                                                          ("min", "median", "mean", "max", "stdev", "cpu")) + " |")
    print()
    ratio = stats["b"]["median"] / stats["a"]["median"]
    print(f"ratio median(b)/median(a) = {ratio:.2f} (target < {TARGET}) -> {'MET' if ratio < TARGET else 'MISSED'}")
    print(f"ratio min(b)/min(a) = {stats['b']['min'] / stats['a']['min']:.2f}; "
          f"ratio of CPU medians = {stats['b']['cpu'] / stats['a']['cpu']:.2f}")
    print(f"llmarch's own overhead: median(b) - median(a) = {(stats['b']['median'] - stats['a']['median']) * 1000:.0f} ms")
    if "b'" in stats:
        r2 = stats["b'"]["median"] / stats["a"]["median"]
        print(f"ratio median(b')/median(a) = {r2:.2f} (bytecode cached)")
    if hasattr(os, "getloadavg"):
        print("load average after the run: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
