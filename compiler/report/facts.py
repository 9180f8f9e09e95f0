"""Everything the report computes in Python, once: the scenario's evaluation, budgets, lint,
every scenario, the tornado and the projection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

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
    projection: Optional[object] = None
    projection_error: Optional[str] = None

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
    for name in [None, *compiled.arch.scenarios]:
        description = compiled.arch.scenarios[name].description if name is not None else None
        try:
            row = ScenarioRow(name, description, evaluator.evaluate(name), None)
        except LlmarchError as exc:
            row = ScenarioRow(name, description, None, _message(exc))
        facts.scenarios.append(row)
    if not analyses:
        return facts
    analyzer = Analyzer(compiled)
    try:
        facts.tornado = analyzer.tornado(scenario, sets)
    except LlmarchError as exc:
        facts.tornado_error = _message(exc)
    try:
        facts.projection = analyzer.project(scenario, sets, months=PROJECTION_MONTHS)
    except LlmarchError as exc:
        facts.projection_error = _message(exc)
    return facts


def monthly_budget(facts: Facts) -> Optional[float]:
    limits = [b.budget.limit for b in facts.budgets if b.budget.metric == "monthly_total"]
    return min(limits) if limits else None
