"""Everything the report computes in Python, once: the scenario's evaluation, budgets, lint,
capacity, every scenario, the tornado and the projection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import numpy as np

from llmarch.dsl.diagnostics import Diagnostic, LlmarchError

from ..budgets import BudgetResult, check_budgets
from ..evaluate import CostResult, Evaluation, Resolution
from ..pipeline import Compiled
from .settings import PROJECTION_MONTHS


# --- what the report shows ----------------------------------------------------------------

@dataclass
class ScenarioRow:
    name: Optional[str]
    description: Optional[str]
    result: Optional[CostResult]
    error: Optional[str]


@dataclass
class Timeline:
    """The monthly total at months 0 … `PROJECTION_MONTHS` of the built-in `time`, split by
    cost vector and by cost-table row (`Evaluator.rows`, then the fixed costs)."""

    months: list[int]
    monthly_total: list[float]
    by_category: dict[str, list[float]]
    by_row: list[list[float]]


@dataclass
class Facts:
    """Everything computed in Python for one report."""

    compiled: Compiled
    scenario: Optional[str]
    sets: dict
    evaluation: Evaluation
    budgets: list[BudgetResult]
    findings: list[Diagnostic] = field(default_factory=list)
    findings_error: Optional[str] = None
    scenarios: list[ScenarioRow] = field(default_factory=list)
    tornado: Optional[list] = None
    tornado_error: Optional[str] = None
    projection: Optional[Timeline] = None
    projection_error: Optional[str] = None
    #: over the uncertain parameters (report/uncertainty.py), None when none is uncertain
    uncertainty: Optional[object] = None
    uncertainty_error: Optional[str] = None
    #: the limits table and the requests in flight (compiler/capacity.py), when a model
    #: declares a limit or the file a peak; else None
    capacity: Optional[object] = None
    capacity_error: Optional[str] = None

    @property
    def result(self) -> CostResult:
        return self.evaluation.result

    @property
    def resolution(self) -> Resolution:
        return self.evaluation.resolution


def _message(exc: LlmarchError) -> str:
    return "; ".join(d.message for d in exc.diagnostics) or str(exc)


def gather(compiled: Compiled, scenario: Optional[str], sets: Optional[Mapping], analyses: bool = True) -> Facts:
    """The report's numbers. `analyses` adds the tornado and the projection (the HTML page
    shows them; the Markdown summary does not)."""
    from ..analysis import Analyzer
    from ..lint import lint

    sets = dict(sets or {})
    evaluator = compiled.evaluator
    evaluation = evaluator.evaluation(scenario, sets)
    result = evaluation.result
    facts = Facts(compiled, scenario, sets, evaluation, check_budgets(compiled.arch.budgets, result))
    try:
        facts.findings = lint(compiled, evaluation)
    except LlmarchError as exc:
        facts.findings_error = _message(exc)
    from .capacity import shows_capacity
    if shows_capacity(compiled.arch):
        from ..capacity import capacity
        from ..spread import request_spreads
        try:
            facts.capacity = capacity(compiled.arch, compiled.flow, evaluation,
                                      request_spreads(compiled.arch, compiled.flow, evaluation))
        except LlmarchError as exc:
            facts.capacity_error = _message(exc)
    for name in [None, *compiled.arch.scenarios]:
        description = compiled.arch.scenarios[name].description if name is not None else None
        try:
            row = ScenarioRow(name, description, evaluator.evaluate(name), None)
        except LlmarchError as exc:
            row = ScenarioRow(name, description, None, _message(exc))
        facts.scenarios.append(row)
    from .uncertainty import gather_uncertainty
    try:
        facts.uncertainty = gather_uncertainty(compiled, scenario, sets, analyses and "time" in evaluator.used_parameters,
                                               PROJECTION_MONTHS, ranking=True)
    except LlmarchError as exc:
        facts.uncertainty_error = _message(exc)
    if not analyses:
        return facts
    analyzer = Analyzer(compiled)
    try:   # the bars only: the derivatives `llmarch tornado` also prints are most of its time
        facts.tornado = analyzer.swings(scenario, sets)
    except LlmarchError as exc:
        facts.tornado_error = _message(exc)
    try:   # what `llmarch project` computes, one row per cost-table row, without its scaling exponents
        months = np.arange(PROJECTION_MONTHS + 1, dtype=float)
        batch = analyzer.batch(scenario, sets, {"time": months}, rows=True)
        facts.projection = Timeline(list(range(PROJECTION_MONTHS + 1)), [float(x) for x in batch.monthly_total],
                                    {c: [float(x) for x in batch.by_category[c]] for c in batch.by_category},
                                    [[float(x) for x in row] for row in batch.by_row])
    except LlmarchError as exc:
        facts.projection_error = _message(exc)
    return facts


def monthly_budget(facts: Facts) -> Optional[float]:
    limits = [b.budget.limit for b in facts.budgets if b.budget.metric == "monthly_total"]
    return min(limits) if limits else None
