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

__all__ = ["BudgetResult", "RiskBudgetResult", "check_budgets", "check_risk_budgets", "check_request_budgets",
           "check_all", "budget_diagnostics", "applies"]

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

    def line(self) -> str:
        b = self.budget
        verdict = "holds" if self.holds else "does not hold"
        return (f"budget {b.text(show_value)}: {verdict} ({b.metric.replace('_', ' ')} is "
                f"{show_value(b.metric, self.value)})")


@dataclass(frozen=True)
class RiskBudgetResult:
    """A probabilistic budget against a Monte Carlo run (or, for a statistic of one
    request's figure, against the spread between requests): the estimate, its 95% interval,
    and the verdict — True, False, or None when the interval straddles the limit (too close
    to call at this sample count)."""

    budget: Budget
    scenario: Optional[str]
    value: float
    low: float
    high: float
    samples: int                 # Monte Carlo samples, or simulated walks (0: computed exactly)
    #: over requests: how the spread was computed ("exact", "on a grid of 0.1 ms",
    #: "200,000 simulated walks"); None for a Monte Carlo over the guesses
    requests: Optional[str] = None

    @property
    def holds(self) -> Optional[bool]:
        ok = _COMPARE[self.budget.op]
        if ok(self.low, self.budget.limit) and ok(self.high, self.budget.limit):
            return True
        if not ok(self.low, self.budget.limit) and not ok(self.high, self.budget.limit):
            return False
        return None

    def _show(self, x: float) -> str:
        return present.percent(x) if self.budget.statistic == "P" else show_value(self.budget.metric, x)

    def estimate(self) -> str:
        """"estimate $8,266.50 a month, 95% interval $8,258.36 to $8,274.01 a month, 50,000 samples"."""
        low, high = self._show(self.low), self._show(self.high)
        for suffix in (" a month",):
            if low.endswith(suffix) and high.endswith(suffix):
                low = low[:-len(suffix)]
        if self.requests is not None:
            what = "of requests" if self.budget.statistic == "P" else "over requests"
            bounds = "" if self.low == self.high else f", between {low} and {high}"
            how = "exact over every path a request takes" if self.requests == "exact" else self.requests
            return f"{self._show(self.value)} {what}{bounds}, {how}"
        return f"estimate {self._show(self.value)}, 95% interval {low} to {high}, {self.samples:,} samples"

    def to_json(self) -> dict:
        b = self.budget
        return {"metric": b.metric, "statistic": b.statistic, "op": b.op, "limit": b.limit,
                "event": {"op": b.event_op, "limit": b.event_limit} if b.statistic == "P" else None,
                "scenario": self.scenario, "value": self.value, "interval": [self.low, self.high],
                "samples": self.samples, "over": "guesses" if self.requests is None else "requests",
                "method": self.requests, "holds": self.holds}

    def line(self) -> str:
        verdict = {True: "holds", False: "does not hold", None: "too close to call"}[self.holds]
        return f"budget {self.budget.text(show_value)}: {verdict} ({self.estimate()})"


def applies(budget: Budget, scenario: Optional[str]) -> bool:
    return budget.scenario is None or budget.scenario == scenario


def check_all(budgets: Sequence[Budget], result: CostResult, simulation=None, spreads=None) -> list:
    """Every budget that applies to `result`'s scenario: point values from `result`, the
    statistics over the guesses from `simulation()`, those over requests from `spreads()`
    (each called only when a budget needs it)."""
    out: list = check_budgets(budgets, result)
    mine = [b for b in budgets if b.probabilistic and applies(b, result.scenario)]
    if any(not b.over_requests for b in mine):
        out += check_risk_budgets(budgets, simulation())
    if any(b.over_requests for b in mine):
        out += check_request_budgets(budgets, result.scenario, spreads())
    return out


def check_request_budgets(budgets: Sequence[Budget], scenario: Optional[str], spreads) -> list[RiskBudgetResult]:
    """Every statistic of one request's figure (`p95(latency)`, `P(cost_per_request > …)`)
    that applies to `scenario`, against `spreads` (metric -> `spread.Spread`)."""
    out = []
    for b in budgets:
        if not b.over_requests or not applies(b, scenario):
            continue
        s = spreads[b.metric]
        if b.statistic == "P":
            p, se = s.probability(b.event_op, b.event_limit)
            value, low, high = p, max(0.0, p - 1.96 * se), min(1.0, p + 1.96 * se)
        elif b.statistic == "mean":
            value = low = high = s.mean
        else:
            value = s.quantile(b.quantile)
            low, high = s.interval(b.quantile)
        out.append(RiskBudgetResult(b, scenario, value, low, high, s.walks, s.how()))
    return out


def check_risk_budgets(budgets: Sequence[Budget], simulation) -> list[RiskBudgetResult]:
    """Every probabilistic budget over the guesses that applies to the simulation's
    scenario, estimated."""
    out = []
    for b in budgets:
        if not b.probabilistic or b.over_requests or not applies(b, simulation.scenario):
            continue
        s = simulation.figures[b.metric]
        if b.statistic == "P":
            p, se = s.probability(b.event_op, b.event_limit)
            value, low, high = p, max(0.0, p - 1.96 * se), min(1.0, p + 1.96 * se)
        elif b.statistic == "mean":
            value, low, high = s.mean, s.mean - 1.96 * s.se, s.mean + 1.96 * s.se
        else:
            value = s.quantile(b.quantile)
            low, high = s.interval(b.quantile)
        out.append(RiskBudgetResult(b, simulation.scenario, value, low, high, simulation.samples))
    return out


def _value(metric: str, result: CostResult) -> float:
    if metric.startswith("monthly_") and metric != "monthly_total":
        return result.by_category[metric[len("monthly_"):]]
    if metric == "latency":
        return result.latency_per_request
    if metric == "failure_overhead":
        return result.failure_overhead_per_request / result.cost_per_request if result.cost_per_request else 0.0
    return {"monthly_total": result.monthly_total, "cost_per_request": result.cost_per_request,
            "cost_per_success": result.cost_per_success, "p_success": result.p_success}[metric]


def check_budgets(budgets: Sequence[Budget], result: CostResult) -> list[BudgetResult]:
    """Every budget (of `arch.budgets`) that applies to `result`'s scenario, with its value."""
    return [BudgetResult(b, result.scenario, _value(b.metric, result)) for b in budgets
            if not b.probabilistic and applies(b, result.scenario)]


def show_value(metric: str, x: float) -> str:
    """A budget's limit, value or margin as it reads: money a month, per request, or a share."""
    kind = BUDGET_METRICS[metric]
    if kind == "time":
        return present.duration(x)
    if kind == "share":
        return present.percent(x)
    return present.money(x, per_request=(kind == "per_request")) + (" a month" if kind == "monthly" else "")


def budget_diagnostics(results: list) -> list[Diagnostic]:
    out = []
    for r in results:
        if isinstance(r, RiskBudgetResult):
            if r.holds is not True:
                where = f" in scenario `{r.scenario}`" if r.scenario else " with the defaults"
                if r.holds is False:
                    out.append(Diagnostic("error", "E701", f"budget `{r.budget.text(show_value)}` does not hold{where}: "
                                          f"{r.estimate()}", r.budget.span))
                else:
                    scope = f" --scenario {r.scenario}" if r.scenario else ""
                    hint = (f"more samples narrow the interval: `llmarch simulate FILE{scope} --samples "
                            f"{max(10 * r.samples, 500_000):,}` decides it, or move the limit")
                    if r.requests is not None:
                        hint = "the spread between requests was estimated, not computed exactly: move the limit"
                    out.append(Diagnostic(
                        "warning", "W701", f"budget `{r.budget.text(show_value)}` is too close to call{where}: "
                        f"{r.estimate()}", r.budget.span, hint))
            continue
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
