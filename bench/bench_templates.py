"""Template benchmark: do templates expand, and files that use them compile, in linear time?

    python bench/bench_templates.py                  # block: N = 1000, 10000; tiny: 1000, 10000 instances
    python bench/bench_templates.py --sizes 1000     # only some component counts
    python bench/bench_templates.py --repeats 5      # best of 5 (<= --repeat-limit instances; larger run once)
    python bench/bench_templates.py --no-scaling     # without the table of the expansion alone

Two templates, each compared against the same architecture written out by hand:

  block  the 10-component block of `bench/bench_compile.py` (`_block`) written once as a
         template `feature`; the values `_block` draws per block (models, attempts,
         retries, cached share, reviewer minutes) are template parameters, and so is the
         cache's hit target (`next`), because a cache's `on_hit` cannot name the template's
         `out` (see below). The per-feature knobs `hit_i` and `rag_i` stay file-level
         parameters (scenarios set some of them) and are passed as arguments. N components
         are N/10 instances `f1 … fB` in a chain. The hand-written file is bench_compile's own
         `_block(i, …)` for i = 1 … B with the same seed, so it draws the same values; block
         0 of bench_compile (the one carrying the `observe` overlay and a `fixed` cost
         instead of a reviewer and a tool) is not a template instance and is left out of
         both files, so both have exactly N components.
  tiny   a 1-component template (an llm with 3 attempts; its model a parameter, cycling
         through three models) instantiated N times in a chain, against N hand-written llms.

For each file the script times `llmarch.compiler.pipeline.compile_file` (what the CLI and
`llmarch.load` run; sympy's cache cleared and a garbage collection before every run, like
bench_compile), best of `--repeats` for files with at most `--repeat-limit` instances and
once above that, templated and hand-written runs interleaved; and the expansion alone:
`llmarch.compiler.templates.expand` on the loaded modules' statements (best of the same
number of runs, under the pipeline's paused cycle collector, as `compile_file` runs it).
A second table times the expansion alone at four instance counts (100 … 3,000 block
instances, 1,000 … 30,000 tiny ones) before the compiles: constant time per instance is
linear expansion.

Before any number is printed it checks that the templated and the hand-written file give
the same monthly total (relative 1e-9) at the parameters' defaults (and, for `block`, in
each of the three scenarios), and the same monthly cost for every component; a mismatch
stops the script with exit code 1.

Not a pytest test: it prints a table.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

from sympy.core.cache import clear_cache

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_compile import _HEADER, _SCENARIOS, BLOCK, _block, _draws, _fmt, _revision  # noqa: E402

from llmarch.compiler.loader import load_modules  # noqa: E402
from llmarch.compiler.gc_pause import collector_paused
from llmarch.compiler.pipeline import compile_file  # noqa: E402
from llmarch.compiler.templates import expand  # noqa: E402
from llmarch.dsl.diagnostics import Collector  # noqa: E402

# --- the 10-component block as a template ---------------------------------------------------

# Written from `bench_compile._block` for i > 0, line by line; what `_block` draws at random
# per block is a parameter. `on_hit = next`: a cache hit skips the rest of the block and
# enters the next block's cache (or ends the request after the last block), as in `_block`.
# `on_hit = out` would say that without naming the neighbour, but `on_hit` and `fallback`
# take a component, `success` or `failure`, not a port (`out` is E217, unknown component).
FEATURE = '''
template feature "Feature block" {
  param hit "cache hit rate"
  param rag "share of requests that use retrieval"
  param next "where a cache hit goes: the next block's cache, or success"
  param draft_model "model of the direct answer"
  param answer_model "model of the RAG answer"
  param fallback_model "fallback model of the RAG answer"
  param draft_attempts "tries of the direct answer"
  param answer_retries "retries of the RAG answer"
  param cached "cached share of the direct answer's input"
  param review_time "minutes of a human escalation"
  cache lookup "Semantic cache" { match = semantic; hit_rate = hit; cost = 0.0001 USD/query; on_hit = next }
  router route "Router" {}
  llm draft "Direct answer" {
    model = draft_model
    input { system = system_prompt; user = user_tokens; history = history_tokens }
    output = answer_tokens
    cached = cached
    fail_rate = call_failure
    attempts = draft_attempts
    fallback = rescue
  }
  embedding embed "Embed query" { model = embed_small; input = user_tokens }
  retrieval search "Vector search" { cost = 0.0004 USD/query; fail_rate = search_failure; retries = 1 }
  llm answer "RAG answer" {
    model = answer_model
    input { system = system_prompt; user = user_tokens; context = context_tokens }
    output = answer_tokens
    fail_rate = call_failure
    retries = answer_retries
    fallback_model = fallback_model
  }
  llm rescue "Fallback answer" {
    model = gpt4
    input = system_prompt + user_tokens + history_tokens + 200 tokens
    output = answer_tokens
    fail_rate = strong_failure
  }
  guardrail check "Policy check" { model = gpt4o_mini; input = answer_tokens + 150 tokens; output = 20 tokens }
  human review "Escalation" { time = review_time; rate = 45 USD/hour }
  tool post "Post-processing API" { cost = 0.0002 USD/call; fail_rate = tool_failure; attempts = 2 }
  flow {
    in -> lookup -> route
    route -> embed (p = rag)
    route -> draft (otherwise)
    embed -> search -> answer -> check
    draft -> check
    rescue -> check
    check -> answer (p = rejected, on_failure)
    check -> review (p = escalated)
    check -> post (otherwise)
    review -> post
    post -> out
  }
}
'''

# hand-written component name (without `_i`) -> the template's component
FEATURE_NAMES = {"cache": "lookup", "route": "route", "draft": "draft", "embed": "embed", "search": "search",
                 "answer": "answer", "rescue": "rescue", "check": "check", "review": "review", "post": "post"}




def _scenarios(blocks: int) -> str:
    touched = range(1, blocks + 1, max(1, blocks // 10))
    return _SCENARIOS.format(pilot_extra="".join(f"  rag_{i} = 0\n" for i in touched),
                             optimized_extra="".join(f"  hit_{i} = 40%\n" for i in touched))


def block_templated(n: int, seed: int = 1) -> str:
    """N components: N/10 instances `f1 … fB` of `feature`, chained."""
    rng = random.Random(seed)
    blocks = n // BLOCK
    parts = [_HEADER.format(blocks=blocks, n=n).replace("Synthetic", "Templated synthetic", 1), FEATURE]
    flows = ["flow {", "  start -> f1"]
    for i in range(1, blocks + 1):
        d = _draws(rng, reviewer=True)
        nxt = f"f{i + 1}.lookup" if i < blocks else "success"
        parts += [
            f'param hit_{i} = {d["hit"]}% in [0, 0.9] "cache hit rate of feature {i}"',
            f'param rag_{i} = {d["rag"]}% in [0, 1] "share of feature {i} requests that use retrieval"',
            f'use feature as f{i} "Feature {i}" {{',
            f'  hit = hit_{i}; rag = rag_{i}; next = {nxt}',
            f'  draft_model = {d["draft_model"]}; answer_model = {d["answer_model"]}; '
            f'fallback_model = {d["fallback_model"]}',
            f'  draft_attempts = {d["draft_attempts"]}; answer_retries = {d["answer_retries"]}; '
            f'cached = {d["cached"]}%; review_time = {d["review"]} min',
            '}',
        ]
        flows.append(f"  f{i} -> " + (f"f{i + 1}" if i < blocks else "success"))
    flows.append("}")
    parts.append("\n".join(flows))
    parts.append(_scenarios(blocks))
    return "\n".join(parts) + "\n"


def block_by_hand(n: int, seed: int = 1) -> str:
    """The same N components written out by `bench_compile._block(i, …)` for i = 1 … N/10."""
    rng = random.Random(seed)
    blocks = n // BLOCK
    parts = [_HEADER.format(blocks=blocks, n=n)]
    flows = ["flow {", "  start -> cache_1"]
    for i in range(1, blocks + 1):
        decl, flow = _block(i, f"cache_{i + 1}" if i < blocks else "success", rng)
        parts.append(f"# --- feature {i} ---")
        parts.extend(decl)
        flows.extend(flow)
    flows.append("}")
    parts.append("\n".join(flows))
    parts.append(_scenarios(blocks))
    return "\n".join(parts) + "\n"


def block_name(hand: str) -> str:
    """`cache_12` -> `f12.lookup`; a fallback-model row `answer_3@gpt4` -> `f3.answer@gpt4`."""
    base, at, model = hand.partition("@")
    kind, i = base.rsplit("_", 1)
    return f"f{i}.{FEATURE_NAMES[kind]}{at}{model}"


# --- a one-component template ---------------------------------------------------------------

_TINY_HEADER = '''# Template benchmark: {n} one-component steps in a chain.
architecture "Chain of {n} model calls"
settings {{ month = 30 days }}
traffic = 5000 requests/day
param call_failure = 2% in [0, 0.3] "transient model failures"
model gpt4o "GPT-4o" {{ input = 2.50 USD/Mtok; output = 10 USD/Mtok }}
model gpt4o_mini "GPT-4o mini" {{ input = 0.15 USD/Mtok; output = 0.60 USD/Mtok }}
model claude "Claude Sonnet" {{ input = 3 USD/Mtok; output = 15 USD/Mtok }}
'''

TINY = '''
template step "Model call with retries" {
  param model "the model"
  llm call "Call" { model = model; input = 500 tokens; output = 100 tokens; fail_rate = call_failure; attempts = 3 }
  flow { in -> call -> out }
}
'''

_TINY_MODELS = ("gpt4o", "gpt4o_mini", "claude")


def tiny_templated(n: int) -> str:
    parts = [_TINY_HEADER.format(n=n), TINY]
    parts += [f"use step as s{i} {{ model = {_TINY_MODELS[i % 3]} }}" for i in range(n)]
    parts += ["flow {", "  start -> s0"] + [f"  s{i} -> s{i + 1}" for i in range(n - 1)] + [f"  s{n - 1} -> success", "}"]
    return "\n".join(parts) + "\n"


def tiny_by_hand(n: int) -> str:
    parts = [_TINY_HEADER.format(n=n)]
    parts += [f'llm s{i} "Call" {{ model = {_TINY_MODELS[i % 3]}; input = 500 tokens; output = 100 tokens; '
              f'fail_rate = call_failure; attempts = 3 }}' for i in range(n)]
    parts += ["flow {", "  start -> s0"] + [f"  s{i} -> s{i + 1}" for i in range(n - 1)] + [f"  s{n - 1} -> success", "}"]
    return "\n".join(parts) + "\n"


def tiny_name(hand: str) -> str:
    base, at, model = hand.partition("@")
    return f"{base}.call{at}{model}"


# --- measuring ------------------------------------------------------------------------------

class Mismatch(Exception):
    pass


def time_compile(path: Path):
    """One cold `compile_file` run (as bench_compile times it): wall-clock seconds, this
    process's CPU seconds (less sensitive to other work on the machine) and the result."""
    clear_cache()
    gc.collect()
    c0 = time.process_time()
    t0 = time.perf_counter()
    compiled = compile_file(path)
    return time.perf_counter() - t0, time.process_time() - c0, compiled


def time_expand(path: Path) -> tuple[float, float, int]:
    """`templates.expand` alone on the file's loaded statements: wall and CPU seconds,
    instances made."""
    modules, sources = load_modules(path)
    statements = [(m is modules[0], s) for m in modules for s in m.statements]
    c = Collector(sources)
    clear_cache()
    gc.collect()
    with collector_paused():
        c0 = time.process_time()
        t0 = time.perf_counter()
        out = expand(statements, c)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    if c.has_errors:
        raise Mismatch(f"{path.name}: expansion reported errors: {[d.message for d in c.diagnostics]}")
    return elapsed, cpu, len(out.instances)


SCALING = {"block": (100, 300, 1000, 3000), "tiny": (1000, 3000, 10000, 30000)}   # instances


def expansion_scaling(kind: str, tmp: Path) -> list[list[str]]:
    """`templates.expand` alone at four instance counts, CPU time best of 3: rows of a table."""
    rows = []
    for instances in SCALING[kind]:
        n = instances * BLOCK if kind == "block" else instances
        path = tmp / f"scaling_{kind}_{instances}.llmarch"
        path.write_text(block_templated(n) if kind == "block" else tiny_templated(n), encoding="utf-8")
        runs = [time_expand(path) for _ in range(3)]
        cpu = min(r[1] for r in runs)
        rows.append([kind, f"{instances:,}", f"{n:,}", _fmt(min(r[0] for r in runs)), _fmt(cpu),
                     f"{cpu / instances * 1e6:.1f} µs", f"{cpu / n * 1e6:.1f} µs"])
        path.unlink()
    return rows


def _print_table(cols: list[str], table: list[list[str]]) -> None:
    widths = [max(len(c), *(len(x[i]) for x in table)) for i, c in enumerate(cols)]
    print("| " + " | ".join(c.rjust(w) for c, w in zip(cols, widths)) + " |")
    print("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    for x in table:
        print("| " + " | ".join(v.rjust(w) for v, w in zip(x, widths)) + " |")


def _close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def verify(kind: str, templated, by_hand, scenarios: tuple) -> list[str]:
    """Same monthly total (rel 1e-9) and same monthly cost per component; lines to print."""
    rename = block_name if kind == "block" else tiny_name
    lines = []
    for scenario in scenarios:
        a = templated.evaluator.evaluate(scenario)
        b = by_hand.evaluator.evaluate(scenario)
        shown = scenario or "defaults"
        if not _close(a.monthly_total, b.monthly_total):
            raise Mismatch(f"{kind}, {shown}: monthly total templated {a.monthly_total!r} != hand-written "
                           f"{b.monthly_total!r} (relative difference "
                           f"{abs(a.monthly_total - b.monthly_total) / abs(b.monthly_total):.3e})")
        rows = {r.name: r for r in a.components}
        if len(rows) != len(b.components):
            raise Mismatch(f"{kind}, {shown}: {len(rows)} components templated, {len(b.components)} hand-written")
        for r in b.components:
            t = rows.get(rename(r.name))
            if t is None or not _close(t.monthly, r.monthly):
                raise Mismatch(f"{kind}, {shown}: component {r.name} costs {r.monthly!r} by hand, "
                               f"{rename(r.name)} costs {t.monthly if t else 'missing'!r} templated")
        lines.append(f"{shown}: {a.monthly_total:,.6f} USD/month (templated) = {b.monthly_total:,.6f} (hand-written), "
                     f"relative difference {abs(a.monthly_total - b.monthly_total) / abs(b.monthly_total):.1e}; "
                     f"all {len(rows)} component rows agree")
    return lines


def measure(kind: str, n: int, tmp: Path, repeats: int) -> tuple[dict, list[str]]:
    if kind == "block":
        texts = block_templated(n), block_by_hand(n)
        instances, scenarios = n // BLOCK, (None, "pilot", "production", "optimized")
    else:
        texts = tiny_templated(n), tiny_by_hand(n)
        instances, scenarios = n, (None,)
    paths = tmp / f"{kind}_{n}_templated.llmarch", tmp / f"{kind}_{n}_by_hand.llmarch"
    for p, t in zip(paths, texts):
        p.write_text(t, encoding="utf-8")
    runs_t, runs_h = [], []
    kept = None
    for r in range(repeats):  # interleaved, so that a slow spell of the machine hits both
        *s, compiled_t = time_compile(paths[0])
        runs_t.append(s)
        if r == 0:
            kept = compiled_t
        del compiled_t
        *s, compiled_h = time_compile(paths[1])
        runs_h.append(s)
        if r == 0:
            kept = (kept, compiled_h)
        del compiled_h
    components = len(kept[0].arch.components) + len(kept[0].arch.fixed)
    if components != n or len(kept[1].arch.components) + len(kept[1].arch.fixed) != n:
        raise Mismatch(f"{kind} {n}: expected {n} components, got {components} templated and "
                       f"{len(kept[1].arch.components) + len(kept[1].arch.fixed)} hand-written")
    checks = verify(kind, kept[0], kept[1], scenarios)
    del kept
    expansions = [time_expand(paths[0]) for _ in range(repeats)]
    made = expansions[0][2]
    if made != instances:
        raise Mismatch(f"{kind} {n}: expansion made {made} instances, expected {instances}")
    row = dict(kind=kind, n=n, instances=instances, lines_t=texts[0].count("\n"), lines_h=texts[1].count("\n"),
               compile_t=min(w for w, _ in runs_t), compile_h=min(w for w, _ in runs_h),
               cpu_t=min(c for _, c in runs_t), cpu_h=min(c for _, c in runs_h),
               expand=min(e[0] for e in expansions), expand_cpu=min(e[1] for e in expansions), runs=repeats)
    return row, checks


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000", help="comma-separated component counts (multiples of 10)")
    ap.add_argument("--templates", default="block,tiny", help="which templates: block, tiny or both")
    ap.add_argument("--repeats", type=int, default=3, help="best of this many runs (default 3)")
    ap.add_argument("--repeat-limit", type=int, default=1000,
                    help="files with more instances than this run once (default 1000)")
    ap.add_argument("--keep", metavar="DIR", help="write the generated files to DIR and keep them")
    ap.add_argument("--no-scaling", action="store_true",
                    help="skip the table of the expansion alone at four instance counts")
    args = ap.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        ap.error(f"--sizes takes comma-separated integers, got {args.sizes!r}")
    if not sizes or any(n <= BLOCK or n % BLOCK for n in sizes):
        ap.error(f"every size must be a multiple of {BLOCK} above {BLOCK}")
    kinds = [k.strip() for k in args.templates.split(",") if k.strip()]
    if not kinds or any(k not in ("block", "tiny") for k in kinds):
        ap.error("--templates takes block, tiny or block,tiny")

    import lark, networkx, numpy, pydantic, sympy  # noqa: E401 - versions for the record
    print(f"python {platform.python_version()} on {platform.system()} {platform.machine()}, "
          f"{os.cpu_count()} CPUs (nproc)")
    print(f"llmarch at commit {_revision(Path(__file__).resolve().parent.parent)}")
    print(f"lark {lark.__version__}, networkx {networkx.__version__}, pydantic {pydantic.__version__}, "
          f"sympy {sympy.__version__}, numpy {numpy.__version__}")
    if hasattr(os, "getloadavg"):
        print("load average before the run: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))

    rows, checks = [], []
    with tempfile.TemporaryDirectory(prefix="llmarch-bench-") as tmpdir:
        tmp = Path(args.keep) if args.keep else Path(tmpdir)
        tmp.mkdir(parents=True, exist_ok=True)
        # warm-up: lark's parser tables, lazily imported modules
        for text in (block_templated(20), block_by_hand(20), tiny_templated(3), tiny_by_hand(3)):
            (tmp / "warm.llmarch").write_text(text, encoding="utf-8")
            time_compile(tmp / "warm.llmarch")
        # the expansion alone first, while the process's heap is still small
        scaling = [] if args.no_scaling else [row for kind in kinds for row in expansion_scaling(kind, tmp)]
        for kind in kinds:
            for n in sizes:
                instances = n // BLOCK if kind == "block" else n
                repeats = args.repeats if instances <= args.repeat_limit else 1
                try:
                    row, lines = measure(kind, n, tmp, repeats)
                except Mismatch as exc:
                    where = (f"the generated files are in {tmp}" if args.keep
                             else "rerun with --keep DIR to keep the generated files")
                    print(f"\nMISMATCH: {exc}\n{where}; this is a compiler bug if the template and the "
                          f"hand-written block say the same thing")
                    return 1
                rows.append(row)
                checks += [f"{kind} N={n}: {line}" for line in lines]
                print(f"  {kind} N={n}: compile_file {_fmt(row['compile_t'])} templated, "
                      f"{_fmt(row['compile_h'])} by hand (best of {repeats})", file=sys.stderr, flush=True)

    cols = ["template", "N components", "instances", "lines (tpl / hand)", "compile_file templated",
            "compile_file hand-written", "ratio", "expansion alone", "per component", "runs"]
    table = [[r["kind"], f"{r['n']:,}", f"{r['instances']:,}", f"{r['lines_t']:,} / {r['lines_h']:,}",
              f"{_fmt(r['compile_t'])} (CPU {_fmt(r['cpu_t'])})", f"{_fmt(r['compile_h'])} (CPU {_fmt(r['cpu_h'])})",
              f"{r['compile_t'] / r['compile_h']:.2f} ({r['cpu_t'] / r['cpu_h']:.2f})",
              f"{_fmt(r['expand'])} (CPU {_fmt(r['expand_cpu'])})",
              f"{r['compile_t'] / r['n'] * 1e6:.0f} µs ({r['cpu_t'] / r['n'] * 1e6:.0f} µs)", str(r["runs"])]
             for r in rows]
    print()
    _print_table(cols, table)
    print()
    print("wall clock (CPU time of this process in parentheses, each the best of `runs` runs);\n"
          "ratio = compile_file templated / hand-written; per component = compile_file templated / N;\n"
          "expansion alone = templates.expand on the loaded statements (part of compile_file templated)")
    print()
    if scaling:
        _print_table(["template", "instances", "components", "expansion", "expansion CPU", "CPU per instance",
                      "CPU per component"], scaling)
        print("\nexpansion = templates.expand alone (best of 3), measured before the compiles above; constant time\n"
              "per instance is linear expansion")
        print()
    for line in checks:
        print("same cost: " + line)
    for kind in kinds:
        by_n = {r["n"]: r for r in rows if r["kind"] == kind}
        ns = sorted(by_n)
        for small, big in zip(ns, ns[1:]):
            a, b = by_n[small], by_n[big]
            scale = big / small
            print(f"{kind}: N {small:,} -> {big:,} (x{scale:g}, {scale:g} would be exactly linear): "
                  f"compile_file templated x{b['compile_t'] / a['compile_t']:.2f} (CPU x{b['cpu_t'] / a['cpu_t']:.2f}), "
                  f"hand-written x{b['compile_h'] / a['compile_h']:.2f} (CPU x{b['cpu_h'] / a['cpu_h']:.2f}), "
                  f"expansion x{b['expand'] / a['expand']:.2f} (CPU x{b['expand_cpu'] / a['expand_cpu']:.2f})")
    for r in rows:
        limit = {1000: 1.0, 10000: 10.0}.get(r["n"])
        if limit is not None:
            print(f"target {r['n']:,} components parse+compile < {limit:g} s, {r['kind']} template "
                  f"({r['instances']:,} instances): compile_file {_fmt(r['compile_t'])} -> "
                  f"{'MET' if r['compile_t'] < limit else 'MISSED'} (CPU {_fmt(r['cpu_t'])} -> "
                  f"{'MET' if r['cpu_t'] < limit else 'MISSED'}); hand-written {_fmt(r['compile_h'])} -> "
                  f"{'MET' if r['compile_h'] < limit else 'MISSED'} (CPU {_fmt(r['cpu_h'])})")
    if hasattr(os, "getloadavg"):
        print("load average after the run: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
