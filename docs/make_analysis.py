"""Regenerate docs/analysis.md from the commands' real output: python docs/make_analysis.py"""

import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(command: str) -> str:
    done = subprocess.run([sys.executable, "-m", "llmarch", *shlex.split(command)], cwd=ROOT,
                          capture_output=True, text=True)
    text = (done.stdout + done.stderr).rstrip()
    return f"```\n$ llmarch {command}\n{text}\n```\n"


def head(command: str, lines: int) -> str:
    block = run(command).splitlines()
    body = block[1:-1]
    if len(body) > lines:
        body = body[:lines] + ["…"]
    return "\n".join([block[0]] + body + [block[-1]]) + "\n"


def section(command: str, title: str) -> str:
    """Only the part of a command's output that starts with the line beginning `title`."""
    block = run(command).splitlines()
    body = block[1:-1]
    start = next(i for i, line in enumerate(body) if line.startswith(title))
    stop = next((i for i in range(start, len(body)) if not body[i].strip()), len(body))
    return "\n".join([block[0], body[0], "…"] + body[start:stop] + ["…", block[-1]]) + "\n"


SUPPORT = "examples/support_assistant.llmarch"
GROWTH = "examples/growth_story.llmarch"

# the figures the prose quotes, from the same model the commands run
sys.path.insert(0, str(ROOT))
import llmarch  # noqa: E402

_support = llmarch.load(ROOT / SUPPORT)
TRAFFIC_ELASTICITY = next(r for r in _support.sensitivity("production") if r.name == "tickets_per_day").elasticity
FIXED = _support.cost("production").fixed_monthly

doc = f"""# Analysis: sensitivity, growth over time, break-even and sweeps

The field manual's central claim is that LLM costs do not scale with usage, they compound
with complexity: prompts grow, fallback rates creep, the document base grows. These
commands show which assumptions the bill is most sensitive to, how it grows, and where
the break-even points lie. They all take `--scenario`, `--set PARAM=VALUE` and
`--format table|json|markdown` (`sweep`: `csv|json`), and each has a Python method of the
same name on `llmarch.load(path)`.

Every number on this page is the real output of the command above it
(regenerate with `python docs/make_analysis.py`).

How the numbers are computed:

- **Derivatives are exact.** One reverse sweep over the model's chain of definitions
  (parameter definitions, then expected visits, then totals) gives the derivative of the
  cost per request and of P(success) with respect to every parameter at once; the monthly
  total's follows by the product rule. The work grows linearly with the architecture. A
  parameter computed from others (`context = top_k * chunk_tokens`) is not an input: the
  derivatives are taken with respect to the parameters it is computed from. `min`/`max`
  have one-sided derivatives, `floor`/`ceil` a derivative of 0 (they are flat almost
  everywhere).
- **Elasticity** = derivative × value / monthly total: the percent change of the monthly
  total for a 1% change of the parameter.
- **Ranges**: a parameter's declared range `in [low, high]`, or ±20% of its value
  (`--spread`) when it has none; a plain number between 0 and 1 without a range is a
  share and stays within [0, 1].
- **Everything numeric is vectorized**: tornados, projections, root brackets and sweeps are
  single calls of the generated evaluator over arrays (in chunks of 200,000 points).

## Sensitivity

{head(f"sensitivity {SUPPORT} --scenario production", 14)}
`tickets_per_day` has elasticity {TRAFFIC_ELASTICITY:.3f}: traffic grows the bill less than proportionally
because ${FIXED:,.0f} a month is fixed. `cache_hit` is the largest lever that lowers it.

## Tornado

{head(f"tornado {SUPPORT} --scenario production", 12)}
### At a month: `--at-month`

Sensitivity and tornado are computed at the scenario's values, where the built-in `time`
is 0 (the launch) unless the scenario sets it: a growth driver then swings nothing,
although it dominates a year later. For a file that uses `time`, the text says so; give
`--at-month N` (`Model.tornado(at_month=N)`, `"at_month"` in the JSON) to analyse month N:

{head(f"tornado {GROWTH} --at-month 12", 9)}
## Growth over time

`time` is a built-in parameter: the months since launch (0 by default). Parameters that
use it grow: `examples/growth_story.llmarch` has users growing 15% a month, the context
growing 125 tokens a month (the prompt goes from 500 tokens at launch to 2,000 a year
later), the fallback rate creeping up 1.5 points a month and the document base doubling
every six months.

{run(f"project {GROWTH} --months 12 --budget 15000 --driver documents")}
The bill grows ×13.4 while traffic grows ×5.35: the growth exponent ln(cost growth) /
ln(traffic growth) is 1.55, superlinear. The per-driver exponents are d ln(monthly) /
d ln(driver) at the first and last month with the driver held at its value that month.

### The field manual's three growth facts

**A prompt growing from 500 to 2,000 tokens is a 4× input cost per request.** At launch the
answer call reads 300 + 80 + 120 = 500 tokens; at month 12, 2,000:

{head(f"cost {GROWTH} --set time=0", 6)}
{head(f"cost {GROWTH} --set time=12", 7)}
The `answer` row's cost per visit goes from $0.002750 to $0.006500: input 500 → 2,000
tokens × $2.50/Mtok is $0.00125 → $0.005 (×4), plus the unchanged $0.0015 of output.

**A 20-token system prompt becoming a 300-token instruction header is 15× the header's
input cost before the user types a word** (300 / 20 tokens at the same price). The
`launch` scenario trims the header back to 20 tokens:

{head(f"cost {GROWTH} --scenario launch", 6)}
**25% of requests falling back to an expensive model makes 60% of token spend** (the
fallback spiral): GPT-4o falls back to o1, which costs 6× as much per token:

{head(f"cost {GROWTH} --scenario fallback_spiral", 6)}
`answer@o1`: $742.50 of the $1,237.50 inference spend, 60%. [field-manual.md](field-manual.md)
sets every figure of the manual next to the one llmarch computes.

## Happy path versus system, per component

`llmarch cost` ends with the failure overhead of each component: its cost per request on
the happy path (every failure probability at 0) and in the system, the difference per
request and per month, and that difference as a share of the cost of a request, so the
column adds up to the total overhead's share (in `--format json`: `happy_path_cost_per_request`,
`failure_overhead_per_request`, `failure_overhead_share`). A component that failures make
cheaper (a paid step fewer requests reach) has a negative overhead and share, printed `−$…`.
In the support assistant most of it is the summarizer's retries and regenerations:

{section(f"cost {SUPPORT} --scenario production", "failure overhead")}
## Break-even: solve

`solve --for PARAM` finds every value of the parameter, within its range (or `--low`,
`--high`), where a target is reached: `--monthly USD`, `--per-request USD` or
`--per-success USD`. When the model is small and has no loop, the target with every other
parameter at its value is a rational function of the parameter: llmarch clears the
denominator and finds the real roots of the polynomial (up to degree 8) exactly
("symbolic"). Otherwise the range is scanned on a 4,001-point grid in one vectorized call
and each sign change is refined by bisection to machine precision ("numeric"). Several
roots are all listed; an unreachable target is an error that gives the interval that can
be reached.

{run(f"solve {SUPPORT} --scenario production --for cache_hit --monthly 7000")}
{run("solve examples/quickstart.llmarch --for hit_rate --monthly 100")}
{run(f"solve {SUPPORT} --scenario production --for cache_hit --monthly 3000")}
### Crossover

`--crossover SCENARIO` finds where the monthly total equals another scenario's (`-` for
the defaults), of the same file or of `--against FILE`. When does a semantic cache pay
for itself?

{run("solve examples/crossover/with_cache.llmarch --for questions_per_day --crossover - --against examples/crossover/without_cache.llmarch")}
By hand: the cache saves 25% × $0.00475 − $0.0002 = $0.0009875 per question and costs
$450 a month, so it pays from 450 / (30 × 0.0009875) = 15,189.9 questions a day.

## Sweeps

`--grid NAME=LOW:HIGH:POINTS` (or `LOW:HIGH:log:POINTS`) over one or more parameters; the
whole grid is evaluated in one vectorized call and written as CSV (header: the grid's
parameters, then `monthly_total`, `cost_per_request`, `p_success`) or JSON. A grid of more
than 20,000,000 points is refused with its size.

{run(f"sweep {SUPPORT} --scenario production --grid cache_hit=0:0.6:3 --grid tickets_per_day=1000:100000:log:3")}
## JSON shapes

- `sensitivity` / `tornado`: `{{"parameters": [{{"name", "unit", "value", "derivative",
  "derivative_per_request", "derivative_per_success", "elasticity", "low", "high",
  "monthly_at_low", "monthly_at_high"}}]}}`; `derivative` is d(monthly total)/d(parameter)
  in USD per month per unit of the parameter's declared unit.
- `project`: `{{"months": [{{"month", "monthly_total", "by_category"}}], "budget",
  "budget_crossed_month", "scaling_exponents", "requests_per_month", "growth_exponent"}}`.
- `solve`: `{{"parameter", "target", "target_kind", "solutions": [float], "range",
  "method"}}` (plus `"against"` for a crossover; its `target` is 0, the difference).
- `sweep`: CSV as above, or `{{"columns": [...], "rows": [[...]]}}`.

## Python

```python
import llmarch
model = llmarch.load("{SUPPORT}")
rows = model.sensitivity("production")          # SensitivityRow: name, derivative, elasticity, ...
projection = model.project("production", months=12, budget=10_000)
solution = model.solve("cache_hit", 7000, kind="monthly", scenario="production")
other = llmarch.load("examples/crossover/without_cache.llmarch")
```

## Errors

An unknown parameter, an empty or inverted range (`--low 5 --high 1`), a malformed
`--grid`, a grid too large for memory, a target that cannot be reached (with the reachable
interval) and a target that holds over a whole interval are usage errors (exit code 2)
with a clear message; values outside a probability's [0, 1] anywhere on a grid are
reported like any other invalid input (exit code 1).
"""

(ROOT / "docs" / "analysis.md").write_text(doc, encoding="utf-8")
print("wrote docs/analysis.md")
