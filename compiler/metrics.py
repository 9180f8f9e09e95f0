"""The cost vectors and what a budget can bound (a leaf: no sympy, nothing of llmarch but
the span type), shared by elaboration, evaluation and every output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from llmarch.dsl.diagnostics import Span

__all__ = ["CATEGORIES", "BUDGET_METRICS", "SAMPLED_METRICS", "REQUEST_METRICS", "Budget"]

#: The seed's cost vectors, in report order.
CATEGORIES = ("inference", "retrieval", "human", "ops", "infra")

#: What a budget can bound, and the kind of its limit: a monthly amount, an amount per
#: request, a share, or a time (seconds: a request's expected latency).
BUDGET_METRICS = {"monthly_total": "monthly", "cost_per_request": "per_request", "cost_per_success": "per_request",
                  "p_success": "share", "failure_overhead": "share", "latency": "time",
                  **{f"monthly_{c}": "monthly" for c in CATEGORIES}}

#: The figures a Monte Carlo run estimates at every sample, so the metrics a probabilistic
#: budget (`p95(…)`, `mean(…)`, `P(…)`) can bound: not `failure_overhead`, which needs the
#: happy path evaluated at every sample too.
SAMPLED_METRICS = ("monthly_total", "cost_per_request", "cost_per_success", "p_success",
                   *(f"monthly_{c}" for c in CATEGORIES))

#: The figures of one request, random over the path it takes (retries, fallbacks, loops):
#: a percentile or a probability of them (`p95(latency)`, `P(cost_per_request > 0.05 USD)`)
#: is over requests at the scenario's values, not over uncertain parameters; `mean(latency)`
#: too. `mean(cost_per_request)` stays the mean over the guesses (docs/capacity.md).
REQUEST_METRICS = ("latency", "cost_per_request")


@dataclass(frozen=True)
class Budget:
    """A bound on a result: `budget monthly_total < 10000 USD/month in production`.
    `limit` is in the metric's reporting unit (USD per month, USD, or a share)."""

    metric: str
    op: str
    limit: float
    scenario: Optional[str]      # None: the defaults and every scenario
    span: Span
    #: over uncertain parameters: "mean", "p95" (any quantile pN), or "P" for a probability
    #: `P(metric event_op event_limit)`, whose `limit` is then a share; None: the point value
    statistic: Optional[str] = None
    event_op: Optional[str] = None
    event_limit: Optional[float] = None

    @property
    def probabilistic(self) -> bool:
        return self.statistic is not None

    @property
    def over_requests(self) -> bool:
        """A statistic of one request's figure over the paths requests take (not a Monte
        Carlo over the guesses): `p95(latency)`, `p99(cost_per_request)`, `P(latency > 3 s)`."""
        return (self.statistic is not None and self.metric in REQUEST_METRICS
                and (self.statistic != "mean" or self.metric == "latency"))

    @property
    def quantile(self) -> Optional[float]:
        """The quantile a `pN` statistic bounds (0.95 for p95), else None."""
        if self.statistic and self.statistic[0] == "p":
            return float(self.statistic[1:]) / 100
        return None

    def text(self, show) -> str:
        """How the budget reads, `show(metric, value)` formatting a value of the metric."""
        if self.statistic == "P":
            return (f"P({self.metric} {self.event_op} {show(self.metric, self.event_limit)}) {self.op} "
                    f"{_share(self.limit)}")
        if self.statistic:
            return f"{self.statistic}({self.metric}) {self.op} {show(self.metric, self.limit)}"
        return f"{self.metric} {self.op} {show(self.metric, self.limit)}"


def _share(x: float) -> str:
    return f"{x * 100:.4g}%"
