"""`llmarch watch` benchmark: what a save costs before the page shows it, and what a look
at unchanged files costs.

    python bench/bench_watch.py                     # N = 10, 100, 1000 components
    python bench/bench_watch.py --sizes 10,1000 --runs 5

For each N it writes the compile benchmark's architecture (`generate(n)` in
bench/bench_compile.py) to a temporary folder, serves it with `llmarch.api.watch` (port 0,
not polling by itself) and times, in process with `time.perf_counter`:

    poll       `Watch.poll()` with nothing changed: every watched file read and hashed
               (what the server does every 0.3 s), median of 200
    rebuild    `Watch.poll()` after a change of one price: compile, report, swap the page;
               median of --runs
    to page    from writing the change to `GET /version` answering the new version, the
               server polling by itself every 0.3 s (`Watch.start()`), asked every 10 ms;
               median of --runs. The page asks every 0.3 s, so a reader waits up to
               0.3 s more, plus the reload.

Not a pytest test: it prints a table.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_compile import generate  # noqa: E402

from llmarch import api  # noqa: E402


def _version(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/version")
    text = connection.getresponse().read().decode()
    connection.close()
    return text


def _edit(path: Path, text: str, run: int) -> str:
    """The file with one more fixed cost each run: a change that moves the total."""
    changed = text + f"fixed bench_edit {{ cost = {run + 1} USD/month }}\n"
    path.write_text(changed, encoding="utf-8")
    return changed


def measure(n: int, runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"arch_{n}.llmarch"
        text = generate(n)
        path.write_text(text, encoding="utf-8")
        with api.watch(path) as watch:
            polls = []
            for _ in range(200):
                start = time.perf_counter()
                assert watch.poll() is False
                polls.append(time.perf_counter() - start)
            rebuilds = []
            for run in range(runs):
                _edit(path, text, run)
                start = time.perf_counter()
                assert watch.poll() is True
                rebuilds.append(time.perf_counter() - start)
            size = len(watch.page()[1])
            watch.start()
            to_page = []
            for run in range(runs):
                before = _version(watch.port)
                _edit(path, text, runs + run)
                start = time.perf_counter()
                while _version(watch.port) == before:
                    time.sleep(0.01)
                to_page.append(time.perf_counter() - start)
    return {"poll": statistics.median(polls), "rebuild": statistics.median(rebuilds),
            "to_page": statistics.median(to_page), "size": size}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{'components':>10}  {'poll':>9}  {'rebuild':>9}  {'to page':>9}  {'page':>9}")
    for n in (int(x) for x in args.sizes.split(",")):
        m = measure(n, args.runs)
        print(f"{n:>10}  {m['poll'] * 1e3:>7.2f}ms  {m['rebuild']:>8.2f}s  {m['to_page']:>8.2f}s  "
              f"{m['size'] / 1024:>6.0f} KB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
