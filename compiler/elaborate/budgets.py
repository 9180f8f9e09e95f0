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
    dims = {"monthly": (USD / TIME,), "per_request": COST_PER_VISIT, "share": (DIMENSIONLESS,)}[kind]
    limit = x.expect(b.limit, dims, f"the limit of budget `{b.metric}`", allow_params=False)
    if limit is None:
        return None
    value = float(limit * state.month_days) if kind == "monthly" else float(limit)
    return ir.Budget(b.metric, b.op, value, b.scenario, b.span)
