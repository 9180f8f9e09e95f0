"""A longer structure-aware fuzz run than the test suite's (tests/test_fuzz.py), in
subprocesses with a memory and time limit each:

    python bench/fuzz.py --count 2000 --seed 7

Prints every case that ends in an internal error, a traceback, a signal or the limits,
and writes it to a folder to reproduce. Not a test.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fuzzing import cases  # noqa: E402


def _limits():
    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args(argv)
    bad = 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="llmarch-fuzz-") as folder:
        tmp = Path(folder)
        keep = Path(tempfile.mkdtemp(prefix="llmarch-fuzz-found-"))
        for name, data in cases(args.seed, args.count):
            path = tmp / f"{name}.llmarch"
            path.write_bytes(data)
            for command in ("check", "cost"):
                try:
                    done = subprocess.run([sys.executable, "-m", "llmarch", command, path.name], cwd=tmp,
                                          capture_output=True, timeout=args.seconds, preexec_fn=_limits,
                                          env={"LLMARCH_NO_CACHE": "1", "PATH": "/usr/bin:/bin"})
                    problem = (done.returncode not in (0, 1, 2, 4, 5) or b"internal error" in done.stderr
                               or b"Traceback" in done.stderr)
                    why = f"exit {done.returncode}: {done.stderr[-200:].decode(errors='replace')}"
                except subprocess.TimeoutExpired:
                    problem, why = True, f"more than {args.seconds} s"
                if problem:
                    bad += 1
                    (keep / path.name).write_bytes(data)
                    print(f"{name} {command}: {why}")
    print(f"{args.count} cases × 2 commands in {time.perf_counter() - start:.0f} s: {bad} problem(s)"
          + (f"; cases kept in {keep}" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
