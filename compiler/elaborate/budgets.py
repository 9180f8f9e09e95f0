"""Pass `budgets`: every `budget` in the main file becomes an `ir.Budget`, its limit a
number in the metric's reporting unit (USD per month, USD, or a share); a budget in an
imported file is reported (E021)."""

from __future__ import annotations

from typing import Optional

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import did_you_mean

from .. import ir
from ..units import DIMENSIONLESS, SECONDS_PER_DAY, TIME, USD
from .expressions import COST_PER_VISIT, ExpressionCompiler
from .state import State

__all__ = ["run"]


def run(state: State) -> None:
    x = ExpressionCompiler(state)
    for in_main, s in state.statements:
        if isinstance(s, ast.Budget) and in_main:
            budget = _budget(x, s)
            if budget is not None:
                state.budgets.append(budget)
    for in_main, s in state.statements:
        if isinstance(s, ast.Budget) and not in_main:
            state.collector.error("E021", "`budget` belongs in the main file, not in an imported one", s.span)


def _budget(x: ExpressionCompiler, b: ast.Budget) -> Optional[ir.Budget]:
    state = x.state
    kind = ir.BUDGET_METRICS.get(b.metric)
    if kind is None:
        state.collector.error("E240", f"unknown budget metric `{b.metric}`", b.metric_span,
                              help=did_you_mean(b.metric, ir.BUDGET_METRICS)
                              or "metrics: " + ", ".join(ir.BUDGET_METRICS))
        return None
    if b.scenario is not None and b.scenario not in state.scenarios:
        state.collector.error("E231", f"unknown scenario `{b.scenario}`", b.scenario_span,
                              help=did_you_mean(b.scenario, state.scenarios))
        return None
    statistic = None
    if b.statistic is not None:
        statistic = _statistic(state, b)
        if statistic is None:
            return None
    if kind == "time" and not any(c.declares_time for c in state.components.values()):
        state.collector.error("E241", f"budget `{b.metric}` bounds a time, and no component declares one",
                              b.metric_span, help="give components their time per visit: `latency = 300 ms`, or "
                              "a model's `ttft` and `tokens_per_second` (see the language's latency section)")
        return None
    dims = {"monthly": (USD / TIME,), "per_request": COST_PER_VISIT, "share": (DIMENSIONLESS,),
            "time": (TIME,)}[kind]

    def amount(expr) -> Optional[float]:
        limit = x.expect(expr, dims, f"the limit of budget `{b.metric}`", allow_params=False)
        if limit is None:
            return None
        if kind == "time":
            return float(limit * SECONDS_PER_DAY)
        return float(limit * state.month_days) if kind == "monthly" else float(limit)

    if statistic is None:
        value = amount(b.limit)
        return None if value is None else ir.Budget(b.metric, b.op, value, b.scenario, b.span)
    if statistic == "P":
        event = amount(b.event_limit)
        share = x.expect(b.limit, (DIMENSIONLESS,), "the bound of a probability", allow_params=False)
        if event is None or share is None:
            return None
        if not 0 <= float(share) <= 1:
            state.collector.error("E804", f"the bound of a probability must be a share from 0% to 100%, got "
                                  f"{float(share) * 100:g}%", b.limit.span,
                                  help=f"e.g. `budget P({b.metric} {b.event_op} …) {b.op} 10%`")
            return None
        return ir.Budget(b.metric, b.op, float(share), b.scenario, b.span, "P", b.event_op, event)
    value = amount(b.limit)
    return None if value is None else ir.Budget(b.metric, b.op, value, b.scenario, b.span, statistic)


_STATISTICS_HELP = "write `mean(…)`, `median(…)`, a percentile `p95(…)` (p1 to p99), or `P(metric > limit) < share`"


def _statistic(state: State, b: ast.Budget) -> Optional[str]:
    """The statistic a probabilistic budget bounds — `mean`, a percentile `pN` with
    0 < N < 100 (`median` is `p50`), or `P` with its event — or None, reported (E804)."""
    error, word = state.collector.error, b.statistic
    statistic = None
    if word in ("mean", "P"):
        statistic = word
    elif word == "median":
        statistic = "p50"
    elif word.startswith("p") and word[1:].replace(".", "", 1).isdigit():
        n = float(word[1:])
        if not 0 < n < 100:
            error("E804", f"`{word}` is not a percentile: the N of pN must be above 0 and below 100", b.statistic_span,
                  help="p95 is the 95th percentile; p99.9 the 99.9th")
            return None
        statistic = f"p{n:g}"
    if statistic is None:
        error("E804", f"unknown statistic `{word}`", b.statistic_span,
              help=did_you_mean(word, ["mean", "median", "P"]) or _STATISTICS_HELP)
        return None
    if statistic == "P" and b.event_limit is None:
        error("E804", "`P(…)` bounds a probability: write `P(metric > limit) < share`", b.statistic_span)
        return None
    if statistic != "P" and b.event_limit is not None:
        error("E804", f"`{word}(…)` takes a metric alone; only `P(…)` takes a condition", b.statistic_span,
              help=f"`budget {word}({b.metric}) {b.op} …`, or `budget P({b.metric} {b.event_op} …) < 10%`")
        return None
    if b.metric not in ir.SAMPLED_METRICS and b.metric not in ir.REQUEST_METRICS:
        error("E804", f"`{word}(…)` cannot bound `{b.metric}`: neither the simulation over the guesses nor the "
              "spread between requests estimates it", b.metric_span,
              help=f"bound its point value, `budget {b.metric} {b.op} …`, or a statistic of "
              + ", ".join(f"`{m}`" for m in ir.SAMPLED_METRICS[:4]) + ", `monthly_<vector>` or `latency`")
        return None
    return statistic
