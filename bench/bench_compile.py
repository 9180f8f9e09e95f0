"""Compile-time benchmark: how the compiler's stages scale with the size of an architecture.

    python bench/bench_compile.py                 # N = 10, 100, 1000, 10000 components
    python bench/bench_compile.py --sizes 10,100  # only some sizes
    python bench/bench_compile.py --repeats 5     # best of 5 (sizes <= 1000; larger sizes run once)

For each N it generates a synthetic but realistic `.llmarch` file with exactly N
components, writes it to a temporary directory and times every stage separately:

    parse      llmarch.compiler.loader.load_modules (read + lark parse + AST)
    elaborate  llmarch.compiler.elaborate.elaborate  (names, units, sympy expressions)
    lower      llmarch.compiler.lower.lower          (retries/fallbacks/caches -> flow graph)
    model      llmarch.compiler.model.build_model    (SCC-by-SCC symbolic expected visits)
    codegen    Evaluator() + first Evaluator.function (generates the numpy code of the whole model)
    evaluate   one Evaluator.evaluate(scenario)       (resolve + check + 2 numeric runs)
    compile    parse + elaborate + lower + model      (the sum of the four stages above)
    compile_file  llmarch.compiler.pipeline.compile_file(path), timed on its own before
               the stages: the public pipeline (what `llmarch.load` and the CLI run),
               which also builds the Evaluator and may manage the garbage collector
               itself; the targets ("parse+compile") are judged on it, and on the stage sum

The architecture is a chain of 10-component "blocks" (one per product feature):

    cache_i --hit--> (next block)          cache with a semantic hit rate
      | miss
    route_i --p--> embed_i -> search_i -> answer_i    RAG branch (retrieval retried,
      | otherwise                                     answer retried, fallback_model)
    draft_i (fail_rate, attempts, fallback = rescue_i)
    draft_i, answer_i, rescue_i -> check_i           guardrail
    check_i -> answer_i (p, on_failure)              regeneration loop (a cycle)
    check_i -> review_i (p)                          human escalation
    check_i -> post_i (otherwise); review_i -> post_i
    post_i -> (next block)                           tool with retries

Every block has several routes from entry to exit and all of them rejoin at the next
block, so the number of start-to-end paths grows exponentially with the number of
blocks (a naive path enumeration could not finish for N >= 100); the regeneration
edge makes each block's answer/check nodes a strongly connected component that the
model solves as a small linear system. Block 0 carries the global `observe` overlay and
a `fixed` cost instead of a human reviewer and a tool, so every file has exactly N
components (N must be a multiple of 10).

Not a pytest test: it prints a table. Timings use time.perf_counter; small sizes are
the best of `--repeats` runs, sizes above `--repeat-limit` components run once. Every
run starts with sympy's expression cache cleared (as in a fresh `llmarch` process); the
lark parser is built once beforehand (a warm-up run), as lark's on-disk cache does for
the CLI.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sympy.core.cache import clear_cache

from llmarch.compiler.evaluate import Evaluator
from llmarch.compiler.loader import load_modules
from llmarch.compiler.lower import lower
from llmarch.compiler.model import build_model
from llmarch.compiler.pipeline import compile_file
from llmarch.compiler.elaborate import elaborate


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


BLOCK = 10

_HEADER = '''# Synthetic architecture for the compile-time benchmark: {blocks} blocks, {n} components.
architecture "Synthetic assistant ({n} components)"

settings {{ month = 30 days }}

param requests_per_day = 5000 requests/day in [10, 1000000] "traffic"
traffic = requests_per_day

param system_prompt = 400 tokens in [20, 4000] "instruction header"
param user_tokens = 350 tokens in [50, 4000] "user message"
param history_tokens = 250 tokens in [0, 4000] "conversation history"
param top_k = 4 in [1, 20] "retrieved chunks"
param chunk_tokens = 300 tokens in [50, 1000] "tokens per chunk"
param context_tokens = top_k * chunk_tokens
param answer_tokens = 300 tokens in [20, 2000] "completion length"
param call_failure = 2% in [0, 0.3] "transient model failures"
param strong_failure = 0.5% in [0, 0.3] "failures of the fallback model"
param search_failure = 1% in [0, 0.3] "vector search timeouts"
param tool_failure = 3% in [0, 0.3] "downstream API failures"
param rejected = 4% in [0, 0.4] "answers sent back for regeneration"
param escalated = 0.2% in [0, 0.1] "answers a person checks"
param trace_price = 0.003 USD/trace in [0, 0.02]
param log_price = 1.5 USD/Mtok in [0, 10]
param platform_cost = 2500 USD/month in [0, 100000]

model gpt4 "GPT-4" {{ input = 30 USD/Mtok; output = 60 USD/Mtok }}
model gpt4o "GPT-4o" {{ input = 2.50 USD/Mtok; output = 10 USD/Mtok; cached_input = 1.25 USD/Mtok }}
model gpt4o_mini "GPT-4o mini" {{ input = 0.15 USD/Mtok; output = 0.60 USD/Mtok; cached_input = 0.075 USD/Mtok }}
model claude "Claude Sonnet" {{ input = 3 USD/Mtok; output = 15 USD/Mtok; cached_input = 0.30 USD/Mtok }}
model embed_small "text-embedding-3-small" {{ input = 0.02 USD/Mtok; output = 0 USD/Mtok }}
'''

_MODELS = ("gpt4o", "gpt4o_mini", "claude", "gpt4")


def _draws(rng: random.Random, reviewer: bool) -> dict:
    """What block i draws, in order (`bench_templates` passes the same draws to a template);
    blocks after the first also draw their reviewer's minutes."""
    draft_model = rng.choice(_MODELS[:3])
    answer_model = rng.choice(_MODELS[:3])
    draws = dict(draft_model=draft_model, answer_model=answer_model,
                 fallback_model="gpt4" if answer_model != "gpt4" else "claude",
                 draft_attempts=rng.choice((2, 3, 3, 4)), answer_retries=rng.choice((1, 2)),
                 hit=rng.choice((5, 10, 15, 20, 30)), rag=rng.choice((30, 50, 60, 80)),
                 cached=rng.choice((0, 25, 50)))
    if reviewer:
        draws["review"] = rng.choice((3, 5, 8))
    return draws


def _block(i: int, nxt: str, rng: random.Random) -> tuple[list[str], list[str]]:
    """Declarations and flow lines of block `i`; `nxt` is where the block exits."""
    d = _draws(rng, reviewer=i > 0)
    draft_model, answer_model, fallback_model = d["draft_model"], d["answer_model"], d["fallback_model"]
    draft_attempts, answer_retries, hit, rag, cached = (d["draft_attempts"], d["answer_retries"], d["hit"],
                                                       d["rag"], d["cached"])
    decl = [
        f'param hit_{i} = {hit}% in [0, 0.9] "cache hit rate of feature {i}"',
        f'param rag_{i} = {rag}% in [0, 1] "share of feature {i} requests that use retrieval"',
        f'cache cache_{i} "Semantic cache {i}" {{ match = semantic; hit_rate = hit_{i}; '
        f'cost = 0.0001 USD/query; on_hit = {nxt} }}',
        f'router route_{i} "Router {i}" {{}}',
        f'llm draft_{i} "Direct answer {i}" {{',
        f'  model = {draft_model}',
        f'  input {{ system = system_prompt; user = user_tokens; history = history_tokens }}',
        f'  output = answer_tokens',
        f'  cached = {cached}%',
        f'  fail_rate = call_failure',
        f'  attempts = {draft_attempts}',
        f'  fallback = rescue_{i}',
        f'}}',
        f'embedding embed_{i} "Embed query {i}" {{ model = embed_small; input = user_tokens }}',
        f'retrieval search_{i} "Vector search {i}" {{ cost = 0.0004 USD/query; fail_rate = search_failure; retries = 1 }}',
        f'llm answer_{i} "RAG answer {i}" {{',
        f'  model = {answer_model}',
        f'  input {{ system = system_prompt; user = user_tokens; context = context_tokens }}',
        f'  output = answer_tokens',
        f'  fail_rate = call_failure',
        f'  retries = {answer_retries}',
        f'  fallback_model = {fallback_model}',
        f'}}',
        f'llm rescue_{i} "Fallback answer {i}" {{',
        f'  model = gpt4',
        f'  input = system_prompt + user_tokens + history_tokens + 200 tokens',
        f'  output = answer_tokens',
        f'  fail_rate = strong_failure',
        f'}}',
        f'guardrail check_{i} "Policy check {i}" {{ model = gpt4o_mini; input = answer_tokens + 150 tokens; '
        f'output = 20 tokens }}',
    ]
    flow = [
        f'  cache_{i} -> route_{i}',
        f'  route_{i} -> embed_{i} (p = rag_{i})',
        f'  route_{i} -> draft_{i} (otherwise)',
        f'  embed_{i} -> search_{i} -> answer_{i} -> check_{i}',
        f'  draft_{i} -> check_{i}',
        f'  rescue_{i} -> check_{i}',
        f'  check_{i} -> answer_{i} (p = rejected, on_failure)',
    ]
    if i == 0:
        # block 0 carries the global overlay and a fixed cost instead of a reviewer and a tool
        decl += [
            'observe tracing "Tracing" { per_request = trace_price; per_token = log_price }',
            'fixed platform "Platform team share" { cost = platform_cost; category = infra }',
        ]
        flow += [f'  check_{i} -> {nxt} (otherwise)']
    else:
        decl += [
            f'human review_{i} "Escalation {i}" {{ time = {d["review"]} min; rate = 45 USD/hour }}',
            f'tool post_{i} "Post-processing API {i}" {{ cost = 0.0002 USD/call; fail_rate = tool_failure; '
            f'attempts = 2 }}',
        ]
        flow += [
            f'  check_{i} -> review_{i} (p = escalated)',
            f'  check_{i} -> post_{i} (otherwise)',
            f'  review_{i} -> post_{i}',
            f'  post_{i} -> {nxt}',
        ]
    return decl, flow


_SCENARIOS = '''
scenario pilot "small pilot, no retrieval, no failures" {{
  requests_per_day = 50 requests/day
  call_failure = 0
  rejected = 0
  escalated = 0
{pilot_extra}}}

scenario production "production traffic" {{
  requests_per_day = 20000 requests/day
  rejected = 6%
}}

scenario optimized extends production "shorter prompts, more caching" {{
  system_prompt = 250 tokens
{optimized_extra}}}
'''


def generate(n: int, seed: int = 1) -> str:
    """A `.llmarch` source with exactly `n` components (`n` a positive multiple of 10)."""
    if n <= 0 or n % BLOCK:
        raise ValueError(f"N must be a positive multiple of {BLOCK}, got {n}")
    rng = random.Random(seed)
    blocks = n // BLOCK
    parts = [_HEADER.format(blocks=blocks, n=n)]
    flows = ["flow {", "  start -> cache_0"]
    for i in range(blocks):
        nxt = f"cache_{i + 1}" if i + 1 < blocks else "success"
        decl, flow = _block(i, nxt, rng)
        parts.append(f"# --- feature {i} ---")
        parts.extend(decl)
        flows.extend(flow)
    flows.append("}")
    parts.append("\n".join(flows))
    touched = range(0, blocks, max(1, blocks // 10))
    parts.append(_SCENARIOS.format(
        pilot_extra="".join(f"  rag_{i} = 0\n" for i in touched),
        optimized_extra="".join(f"  hit_{i} = 40%\n" for i in touched)))
    return "\n".join(parts) + "\n"


STAGES = ("parse", "elaborate", "lower", "model", "codegen", "evaluate")


def _codegen_and_evaluate(model, sources, scenario: str, t: dict):
    """Time codegen and one evaluation; a failure is recorded in `t`, not raised."""
    try:
        evaluator = Evaluator(model, sources)
        evaluator.function  # noqa: B018 - first access generates the code
    except Exception as exc:  # report the failure, keep the compile timings
        now = time.perf_counter()
        t["_error"] = f"codegen failed: {type(exc).__name__}: {str(exc)[:80]}"
        t["_failed"] = ("codegen", "evaluate")
        return now, now, None
    t6 = time.perf_counter()
    try:
        result = evaluator.evaluate(scenario)
    except Exception as exc:
        t["_error"] = f"evaluate failed: {type(exc).__name__}: {str(exc)[:80]}"
        t["_failed"] = ("evaluate",)
        result = None
    return t6, time.perf_counter(), result


def run_once(path: Path, scenario: str = "production", gc_off: bool = False,
             compile_only: bool = False) -> dict[str, float]:
    t = {}
    # The file through the public pipeline first (what `llmarch.load` and the CLI run). It
    # does a little more than the four stages (it also builds the Evaluator) and may manage
    # the garbage collector itself, so it is timed on its own, with nothing else alive.
    # sympy memoizes expression construction in a process-wide LRU cache. Without clearing
    # it, a repeat re-uses the previous run's results and small sizes look several times
    # faster than a fresh `llmarch` process would be; every timed run starts cold.
    clear_cache()
    gc.collect()
    p0 = time.perf_counter()
    compiled = compile_file(path)
    t["compile_file"] = time.perf_counter() - p0
    del compiled
    clear_cache()
    gc.collect()
    if gc_off:  # an experiment (--gc-off): how much of the time is Python's cyclic garbage collector
        gc.disable()
    c0 = time.process_time()
    t0 = time.perf_counter()
    modules, sources = load_modules(path)
    t1 = time.perf_counter()
    arch = elaborate(modules, sources)
    t2 = time.perf_counter()
    flow = lower(arch, sources)
    t3 = time.perf_counter()
    model = build_model(arch, flow)
    t4 = time.perf_counter()
    c4 = time.process_time()
    t["_error"] = None
    if compile_only:
        t6 = t7 = time.perf_counter()
        t["_failed"] = ("codegen", "evaluate")
        result = None
    else:
        t6, t7, result = _codegen_and_evaluate(model, sources, scenario, t)
    if gc_off:
        gc.enable()
    monthly = result.monthly_total if result is not None else None
    t["parse"], t["elaborate"], t["lower"], t["model"] = t1 - t0, t2 - t1, t3 - t2, t4 - t3
    # Evaluator() itself builds the per-component rows (sympy sums); count it with codegen
    t["codegen"] = t6 - t4
    t["evaluate"] = t7 - t6
    t["compile"] = t4 - t0
    # CPU time of this process for the same span: less sensitive to other load on the machine
    t["compile_cpu"] = c4 - c0
    # `fixed` costs live in arch.fixed, every other kind in arch.components
    t["_components"] = len(arch.components) + len(arch.fixed)
    t["_nodes"] = flow.graph.number_of_nodes()
    t["_edges"] = flow.graph.number_of_edges()
    t["_loops"] = len(model.loops)
    t["_monthly"] = monthly
    return t


def measure(path: Path, repeats: int, gc_off: bool = False, compile_only: bool = False) -> dict[str, float]:
    """The fastest of `repeats` runs (by total compile time), with all of that run's stages,
    so that the stage columns add up to the compile column; compile_file is its own best."""
    runs = [run_once(path, gc_off=gc_off, compile_only=compile_only) for _ in range(repeats)]
    best = dict(min(runs, key=lambda t: t["compile"]))
    best["compile_file"] = min(t["compile_file"] for t in runs)
    return best


def _fmt(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10,100,1000,10000", help="comma-separated component counts (multiples of 10)")
    ap.add_argument("--repeats", type=int, default=3, help="best of this many runs for small sizes (default 3)")
    ap.add_argument("--repeat-limit", type=int, default=1000,
                    help="sizes above this many components run once (default 1000)")
    ap.add_argument("--compile-only", action="store_true",
                    help="skip codegen and evaluation (they are not part of the compile targets)")
    ap.add_argument("--gc-off", action="store_true",
                    help="experiment: disable Python's cyclic garbage collector while each run is timed")
    ap.add_argument("--keep", metavar="DIR", help="write the generated files to DIR and keep them")
    args = ap.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        ap.error(f"--sizes takes comma-separated integers, got {args.sizes!r}")
    if not sizes or any(n <= 0 or n % BLOCK for n in sizes):
        ap.error(f"every size must be a positive multiple of {BLOCK}")

    print(f"python {platform.python_version()} on {platform.system()} {platform.machine()}, "
          f"{os.cpu_count()} CPUs (nproc), {platform.processor() or 'unknown CPU'}")
    print(f"llmarch at commit {_revision(Path(__file__).resolve().parent.parent)}")
    import lark, networkx, numpy, sympy  # noqa: E401 - versions for the record
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    if load:
        print(f"load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if args.gc_off:
        print("EXPERIMENT: cyclic garbage collector disabled during the timed runs (--gc-off)")
    print(f"lark {lark.__version__}, networkx {networkx.__version__}, sympy {sympy.__version__}, "
          f"numpy {numpy.__version__}")
    # warm-up: build lark's parser (cached tables) and import lazily-loaded modules
    with tempfile.TemporaryDirectory(prefix="llmarch-bench-") as tmp:
        warm = Path(tmp) / "warm.llmarch"
        warm.write_text(generate(10), encoding="utf-8")
        run_once(warm)

    rows = []
    with tempfile.TemporaryDirectory(prefix="llmarch-bench-") as tmp:
        out_dir = Path(args.keep) if args.keep else Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            path = out_dir / f"synthetic_{n}.llmarch"
            text = generate(n)
            path.write_text(text, encoding="utf-8")
            repeats = args.repeats if n <= args.repeat_limit else 1
            t = measure(path, repeats, args.gc_off, args.compile_only)
            assert t["_components"] == n, (t["_components"], n)
            t["_n"], t["_lines"], t["_repeats"] = n, text.count("\n"), repeats
            rows.append(t)
            print(f"  N={n}: compile {_fmt(t['compile'])} "
                  f"(best of {repeats}; {t['_lines']} lines, {t['_nodes']} graph nodes, {t['_loops']} loops)",
                  file=sys.stderr, flush=True)

    cols = ["N", "lines", "nodes", "loops", "parse", "elaborate", "lower", "model", "compile",
            "compile CPU", "compile_file", "codegen", "evaluate", "runs"]
    table = []
    for t in rows:
        table.append([str(t["_n"]), str(t["_lines"]), str(t["_nodes"]), str(t["_loops"]),
                      *(_fmt(t[k]) for k in ("parse", "elaborate", "lower", "model", "compile", "compile_cpu",
                                             "compile_file")),
                      *(("skipped" if args.compile_only else "FAILED") if k in t.get("_failed", ()) else _fmt(t[k])
                        for k in ("codegen", "evaluate")),
                      str(t["_repeats"])])
    widths = [max(len(c), *(len(r[i]) for r in table)) for i, c in enumerate(cols)]
    print()
    print("| " + " | ".join(c.rjust(w) for c, w in zip(cols, widths)) + " |")
    print("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    for r in table:
        print("| " + " | ".join(v.rjust(w) for v, w in zip(r, widths)) + " |")
    print()
    print("compile = parse + elaborate + lower + model, stage by stage (wall clock); compile CPU = process CPU "
          "time over the same span;\ncompile_file = llmarch.compiler.pipeline.compile_file(path) timed on its own "
          "(the four stages + Evaluator(), with the\npipeline's own garbage-collector handling; best of the runs); "
          "codegen = "
          "Evaluator() + first Evaluator.function (code generation);\nevaluate = one Evaluator.evaluate('production'). "
          "Columns are from the run with the lowest compile time.")

    for t in rows:
        if t["_error"]:
            print(f"N={t['_n']}: {t['_error']}")
    by_n = {t["_n"]: t for t in rows}
    for small, big in ((100, 1000), (1000, 10000)):
        if small in by_n and big in by_n:
            a, b = by_n[small], by_n[big]
            ratio = b["compile"] / a["compile"]
            full = (f"{sum(b[k] for k in STAGES) / sum(a[k] for k in STAGES):.2f}"
                    if not (a.get("_failed") or b.get("_failed")) else "n/a (a stage failed or was skipped)")
            cpu = b["compile_cpu"] / a["compile_cpu"]
            print(f"total_compile({big})/total_compile({small}) = {ratio:.2f} "
                  f"(10.0 would be exactly linear); CPU time: {cpu:.2f}; "
                  f"all stages incl. codegen+evaluate: {full}")
    for n, limit in ((1000, 1.0), (10000, 10.0)):
        if n in by_n:
            c, f = by_n[n]["compile"], by_n[n]["compile_file"]
            print(f"target {n:,} components parse+compile < {limit:g} s: compile_file {_fmt(f)} -> "
                  f"{'MET' if f < limit else 'MISSED'}; stage sum {_fmt(c)} -> {'MET' if c < limit else 'MISSED'}")
    if 1000 in by_n and 10000 in by_n:
        print(f"compile_file(10000)/compile_file(1000) = "
              f"{by_n[10000]['compile_file'] / by_n[1000]['compile_file']:.2f} (10.0 would be exactly linear)")
    if hasattr(os, "getloadavg"):
        print("load average after the run: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
