"""Budgets: bounds on results, written in the file and checked against each scenario.

A budget without `in SCENARIO` applies to the defaults and to every scenario. A budget that
does not hold is a diagnostic (E701) at the budget's line, with the actual value and the
margin; the CLI exits with code 4.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from llmarch.dsl.diagnostics import Diagnostic

from . import present
from .metrics import BUDGET_METRICS, Budget
from .results import CostResult

__all__ = ["BudgetResult", "check_budgets", "budget_diagnostics"]

_COMPARE = {"<": lambda v, l: v < l, "<=": lambda v, l: v <= l, ">": lambda v, l: v > l, ">=": lambda v, l: v >= l}


@dataclass(frozen=True)
class BudgetResult:
    budget: Budget
    scenario: Optional[str]
    value: float

    @property
    def holds(self) -> bool:
        return _COMPARE[self.budget.op](self.value, self.budget.limit)

    @property
    def margin(self) -> float:
        """How far inside the bound (positive) or outside it (negative)."""
        if self.budget.op in ("<", "<="):
            return self.budget.limit - self.value
        return self.value - self.budget.limit

    def to_json(self) -> dict:
        return {"metric": self.budget.metric, "op": self.budget.op, "limit": self.budget.limit,
                "scenario": self.scenario, "value": self.value, "margin": self.margin, "holds": self.holds}


def _value(metric: str, result: CostResult) -> float:
    if metric.startswith("monthly_") and metric != "monthly_total":
        return result.by_category[metric[len("monthly_"):]]
    if metric == "failure_overhead":
        return result.failure_overhead_per_request / result.cost_per_request if result.cost_per_request else 0.0
    return {"monthly_total": result.monthly_total, "cost_per_request": result.cost_per_request,
            "cost_per_success": result.cost_per_success, "p_success": result.p_success}[metric]


def check_budgets(budgets: Sequence[Budget], result: CostResult) -> list[BudgetResult]:
    """Every budget (of `arch.budgets`) that applies to `result`'s scenario, with its value."""
    return [BudgetResult(b, result.scenario, _value(b.metric, result)) for b in budgets
            if b.scenario is None or b.scenario == result.scenario]


def show_value(metric: str, x: float) -> str:
    """A budget's limit, value or margin as it reads: money a month, per request, or a share."""
    kind = BUDGET_METRICS[metric]
    if kind == "share":
        return present.percent(x)
    return present.money(x, per_request=(kind == "per_request")) + (" a month" if kind == "monthly" else "")


def budget_diagnostics(results: list[BudgetResult]) -> list[Diagnostic]:
    out = []
    for r in results:
        if r.holds:
            continue
        b = r.budget
        where = f" in scenario `{r.scenario}`" if r.scenario else " with the defaults"
        over = abs(r.margin)
        relative = f" ({present.share(over / abs(b.limit))})" if b.limit and BUDGET_METRICS[b.metric] != "share" else ""
        word = "over" if b.op in ("<", "<=") else "under"
        out.append(Diagnostic(
            "error", "E701",
            f"budget `{b.metric} {b.op} {show_value(b.metric, b.limit)}` does not hold{where}: "
            f"{b.metric.replace('_', ' ')} is {show_value(b.metric, r.value)}, {word} by {show_value(b.metric, over)}{relative}",
            b.span))
    return out
