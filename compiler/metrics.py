"""The cost vectors and what a budget can bound (a leaf: no sympy, nothing of llmarch but
the span type), shared by elaboration, evaluation and every output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from llmarch.dsl.diagnostics import Span

__all__ = ["CATEGORIES", "BUDGET_METRICS", "Budget"]

#: The seed's cost vectors, in report order.
CATEGORIES = ("inference", "retrieval", "human", "ops", "infra")

#: What a budget can bound, and the kind of its limit: a monthly amount, an amount per
#: request, or a share.
BUDGET_METRICS = {"monthly_total": "monthly", "cost_per_request": "per_request", "cost_per_success": "per_request",
                  "p_success": "share", "failure_overhead": "share",
                  **{f"monthly_{c}": "monthly" for c in CATEGORIES}}


@dataclass(frozen=True)
class Budget:
    """A bound on a result: `budget monthly_total < 10000 USD/month in production`.
    `limit` is in the metric's reporting unit (USD per month, USD, or a share)."""

    metric: str
    op: str
    limit: float
    scenario: Optional[str]      # None: the defaults and every scenario
    span: Span
