"""Pass `budgets`: every `budget` in the main file becomes an `ir.Budget`, its limit a
number in the metric's reporting unit (USD per month, USD, or a share); a budget in an
imported file is reported (E021)."""

from __future__ import annotations

from typing import Optional

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import did_you_mean

from .. import ir
from ..units import DIMENSIONLESS, TIME, USD
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
    if b.statistic is not None and b.metric not in ir.SAMPLED_METRICS:
        state.collector.error("E804", f"`{b.statistic}(…)` cannot bound `{b.metric}`: the simulation does not estimate it",
                              b.metric_span, help=f"bound its point value, `budget {b.metric} {b.op} …`, or a statistic "
                              "of " + ", ".join(f"`{m}`" for m in ir.SAMPLED_METRICS[:4]) + " or `monthly_<vector>`")
        return None
    dims = {"monthly": (USD / TIME,), "per_request": COST_PER_VISIT, "share": (DIMENSIONLESS,)}[kind]

    def amount(expr) -> Optional[float]:
        limit = x.expect(expr, dims, f"the limit of budget `{b.metric}`", allow_params=False)
        if limit is None:
            return None
        return float(limit * state.month_days) if kind == "monthly" else float(limit)

    if b.statistic is None:
        value = amount(b.limit)
        return None if value is None else ir.Budget(b.metric, b.op, value, b.scenario, b.span)
    if b.statistic == "P":
        if b.event_limit is None:
            state.collector.error("E804", "`P(…)` bounds a probability: write `P(metric > limit) < share`",
                                  b.statistic_span)
            return None
        event = amount(b.event_limit)
        share = x.expect(b.limit, (DIMENSIONLESS,), "the bound of a probability", allow_params=False)
        if event is None or share is None:
            return None
        if not 0 <= float(share) <= 1:
            state.collector.error("E804", f"a probability is between 0% and 100%, not {float(share) * 100:g}%",
                                  b.limit.span)
            return None
        return ir.Budget(b.metric, b.op, float(share), b.scenario, b.span, "P", b.event_op, event)
    statistic = _statistic(b.statistic)
    if statistic is None or b.event_limit is not None:
        state.collector.error("E804", f"unknown statistic `{b.statistic}`", b.statistic_span,
                              help="write `mean(…)`, `median(…)`, a percentile `p95(…)` (p1 to p99), or "
                                   "`P(metric > limit) < share`")
        return None
    value = amount(b.limit)
    return None if value is None else ir.Budget(b.metric, b.op, value, b.scenario, b.span, statistic)


def _statistic(word: str) -> Optional[str]:
    """`mean`, or a percentile `pN` with 0 < N < 100 (`median` is `p50`)."""
    if word == "mean":
        return "mean"
    if word == "median":
        return "p50"
    if word.startswith("p") and word[1:].replace(".", "", 1).isdigit():
        n = float(word[1:])
        if 0 < n < 100:
            return f"p{n:g}"
    return None
