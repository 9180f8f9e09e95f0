"""The Python API: `llmarch.load(path)` gives a `Model` that can do everything the CLI does."""

from __future__ import annotations

import os
from typing import Mapping, Optional

import sympy

from llmarch.compiler import output
from llmarch.compiler.evaluate import CostResult
from llmarch.compiler.pipeline import Compiled, compile_file
from llmarch.dsl.diagnostics import Diagnostic, LlmarchError

__all__ = ["load", "loads", "Model", "prices"]


class Model:
    """A compiled `.llmarch` architecture.

    >>> model = llmarch.load("examples/support_assistant.llmarch")
    >>> model.cost(scenario="production").monthly_total
    """

    def __init__(self, compiled: Compiled):
        self._compiled = compiled

    # what was compiled
    @property
    def title(self) -> str:
        return self._compiled.arch.title

    @property
    def parameters(self) -> dict[str, float]:
        """Default parameter values, each in its declared unit."""
        return self._compiled.evaluator.resolve().values

    @property
    def scenarios(self) -> list[str]:
        return list(self._compiled.arch.scenarios)

    @property
    def graph(self):
        """The lowered flow graph (a networkx DiGraph, symbolic costs and probabilities)."""
        return self._compiled.flow.graph

    @property
    def compiled(self) -> Compiled:
        """Every stage's output, for tools that need the internals."""
        return self._compiled

    # numbers
    def cost(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None) -> CostResult:
        """Expected cost at a scenario's values; `set` overrides parameters (`{"hit_rate": 0.4}`,
        or strings with units: `{"requests_per_day": "5000 requests/day"}`)."""
        return self._compiled.evaluator.evaluate(scenario, _sets(set))

    def check(self) -> list[Diagnostic]:
        """Check the defaults and every scenario, budgets included; raise `LlmarchError` on
        the first scenario that is invalid, or with every budget that does not hold.
        Returns the warnings (none yet)."""
        from llmarch.compiler.budgets import budget_diagnostics, check_budgets
        evaluator = self._compiled.evaluator
        broken = []
        for scenario in [None, *self.scenarios]:
            result = evaluator.evaluate(scenario)
            broken += budget_diagnostics(check_budgets(self._compiled.arch, result))
        if broken:
            raise LlmarchError(broken, self._compiled.sources)
        return []

    def lint(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None) -> list[Diagnostic]:
        """The cost-archetype findings for a scenario (warnings with codes L1xx–L5xx)."""
        from llmarch.compiler.lint import lint
        sets = _sets(set)
        evaluator = self._compiled.evaluator
        return lint(self._compiled, evaluator.evaluate(scenario, sets), evaluator.resolve(scenario, sets))

    def budgets(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None):
        """The budgets that apply to a scenario, each with its value, margin and verdict."""
        from llmarch.compiler.budgets import check_budgets
        return check_budgets(self._compiled.arch, self.cost(scenario, set))

    def export(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None) -> dict:
        """The lowered graph with numbers, as the JSON document `llmarch export` prints."""
        sets = _sets(set)
        evaluator = self._compiled.evaluator
        result = evaluator.evaluate(scenario, sets)
        return output.export_json(self._compiled, result, evaluator.resolve(scenario, sets))

    def explain(self, scenario: Optional[str] = None) -> str:
        """Closed-form expressions (pretty-printed and LaTeX) as text."""
        return output.explain_text(self._compiled, scenario)

    # reports (see docs/report.md)
    def report(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None,
               format: str = "html") -> str:
        """The report as text: `html` is one self-contained interactive page (sliders
        recompute it in the browser, no network), `markdown` its summary for a pull request."""
        from llmarch.compiler import report
        from llmarch.dsl.diagnostics import usage_error
        if format == "html":
            return report.report_html(self._compiled, scenario, _sets(set))
        if format == "markdown":
            return report.report_markdown(self._compiled, scenario, _sets(set))
        raise usage_error(f"unknown report format `{format}`", "formats: html, markdown")

    def _repr_html_(self) -> str:
        """Jupyter shows the summary at the defaults: plain tables, and the diagram when
        Graphviz is installed (no script)."""
        from llmarch.compiler.report import summary_html
        return summary_html(self._compiled)

    # diagrams (see docs/render.md)
    def to_dot(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None) -> str:
        """The cost-annotated diagram as Graphviz DOT text (deterministic; no Graphviz needed)."""
        from llmarch.compiler.render import architecture_dot
        return architecture_dot(self._compiled, self.cost(scenario, set))

    def render(self, path: str | os.PathLike, scenario: Optional[str] = None,
               set: Optional[Mapping[str, object]] = None, format: Optional[str] = None) -> str:
        """Write the diagram to `path` as svg, png, pdf or dot (`format`, else `path`'s
        extension); returns the format written. Without Graphviz's `dot` program, writes
        the DOT next to `path` (`diagram.dot`) and raises `render.GraphvizMissing`."""
        from llmarch.compiler.render import FORMATS, GraphvizMissing, INSTALL_HELP, render_dot
        from llmarch.dsl.diagnostics import usage_error
        path = os.fspath(path)
        fmt = format or os.path.splitext(path)[1].lower().lstrip(".")
        if fmt not in FORMATS:
            raise usage_error(f"cannot tell the diagram format from `{path}`" if not format
                              else f"unknown diagram format `{format}`", "formats: svg, png, pdf, dot")
        dot_text = self.to_dot(scenario, set)
        if fmt == "dot":
            _write(path, dot_text.encode("utf-8"))
            return fmt
        try:
            data = render_dot(dot_text, fmt)
        except GraphvizMissing:
            dot_path = os.path.splitext(path)[0] + ".dot"
            _write(dot_path, dot_text.encode("utf-8"))
            raise GraphvizMissing(f"{INSTALL_HELP}; the DOT text is in {dot_path}") from None
        _write(path, data)
        return fmt

    def _repr_svg_(self) -> Optional[str]:
        """Jupyter shows the diagram of the defaults; None (the text repr) without Graphviz."""
        from llmarch.compiler.render import GraphvizMissing, svg
        try:
            return svg(self._compiled, self.cost())
        except (GraphvizMissing, LlmarchError):
            return None

    # analyses (see docs/analysis.md)
    @property
    def _analyzer(self):
        if getattr(self, "_analyzer_instance", None) is None:
            from llmarch.compiler.analysis import Analyzer
            self._analyzer_instance = Analyzer(self._compiled)
        return self._analyzer_instance

    def sensitivity(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None,
                    spread: float = 0.2):
        """Exact derivative and elasticity of the monthly total for every input parameter."""
        return self._analyzer.sensitivity(scenario, _sets(set), spread)

    def tornado(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None,
                spread: float = 0.2):
        """Each parameter moved alone over its range; rows ranked by swing."""
        return self._analyzer.tornado(scenario, _sets(set), spread)

    def project(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None,
                months: int = 12, budget: Optional[float] = None, drivers=()):
        """Month-by-month cost with the built-in `time` parameter at 0, 1, …, months."""
        return self._analyzer.project(scenario, _sets(set), months, budget, drivers)

    def solve(self, parameter: str, target: float, kind: str = "monthly", scenario: Optional[str] = None,
              set: Optional[Mapping[str, object]] = None, low: Optional[float] = None,
              high: Optional[float] = None):
        """Every value of `parameter` in its range where the target (monthly, per_request or
        per_success, USD) is reached."""
        return self._analyzer.solve(parameter, target, kind, scenario, _sets(set), low, high)

    def crossover(self, parameter: str, other: "Model", scenario: Optional[str] = None,
                  other_scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None,
                  low: Optional[float] = None, high: Optional[float] = None):
        """Where this model (at `scenario`) and `other` (at `other_scenario`) cost the same a month."""
        return self._analyzer.solve(parameter, 0.0, "monthly", scenario, _sets(set), low, high,
                                    other=other._analyzer, other_scenario=other_scenario)

    def sweep(self, grids, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None):
        """Evaluate over the cartesian product of `grids` [(name, values), ...]."""
        return self._analyzer.sweep(grids, scenario, _sets(set))

    # symbolic
    def expressions(self) -> dict[str, sympy.Expr]:
        """Closed forms of the totals, over parameter symbols named as in the file."""
        model, arch = self._compiled.model, self._compiled.arch
        from llmarch.compiler.ir import FAILURE_SWITCH
        display = {p.symbol: sympy.Symbol(name) for name, p in arch.parameters.items()}
        totals = {"cost_per_request": model.cost_per_request, "p_success": model.p_success,
                  "requests_per_month": model.requests_per_month, "fixed_monthly": model.fixed_monthly}
        return {k: model.closed_form(v).xreplace({FAILURE_SWITCH: sympy.Integer(1)}).xreplace(display) for k, v in totals.items()}

    def __repr__(self) -> str:
        return f"<llmarch.Model {self.title!r}: {len(self._compiled.arch.components)} components>"


def load(path: str | os.PathLike) -> Model:
    """Compile a `.llmarch` file (and its imports); raise `LlmarchError` with diagnostics."""
    return Model(compile_file(path))


def loads(text: str, path: str = "<string>") -> Model:
    """Compile source text; imports are resolved relative to `path`'s folder."""
    return Model(compile_file(path, text=text))


def prices(pattern: Optional[str] = None, as_of=None) -> list:
    """The price catalog (the installed genai-prices snapshot, never fetched): a
    `CatalogPrice` for every `provider:model` matching `pattern` (a case-insensitive glob or
    substring), sorted, with the prices on `as_of` (a `date` or "YYYY-MM-DD"; default: the
    newest). A bad date raises `LlmarchError` (E600). See docs/prices.md."""
    import datetime
    from llmarch.dsl.diagnostics import usage_error
    from llmarch.stdlib import catalog
    if isinstance(as_of, datetime.datetime):
        as_of = as_of.date()
    elif isinstance(as_of, str):
        try:
            as_of = catalog.parse_date(as_of)
        except catalog.CatalogError as exc:
            raise usage_error(exc.message) from None
    elif as_of is not None and not isinstance(as_of, datetime.date):
        raise usage_error(f"as_of must be a date or YYYY-MM-DD, got {type(as_of).__name__}")
    return catalog.list_prices(pattern, as_of)


def _write(path: str, data: bytes) -> None:
    try:
        with open(path, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        from llmarch.dsl.diagnostics import usage_error
        raise usage_error(f"cannot write {path}: {exc.strerror or exc}") from None


def _sets(values: Optional[Mapping[str, object]]) -> dict[str, object]:
    """Numbers pass through as numbers (in the parameter's declared unit); anything else is
    read like the CLI's `--set` text, so it may carry a unit: "5000 requests/day"."""
    return {k: (v if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v))
            for k, v in (values or {}).items()}
