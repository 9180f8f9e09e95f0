"""The Python API: `llmarch.load(path)` gives a `Model` that can do everything the CLI does.

This is the front door: the `llmarch` command calls nothing else. Numbers come from a
`Model`'s methods (and `diff`, `prices`); the `format_*` functions turn them into the text
the command prints (table, Markdown, JSON, CSV).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Mapping, Optional, Sequence

from llmarch.compiler import output
from llmarch.compiler.results import CostResult
from llmarch.dsl.diagnostics import Diagnostic, LlmarchError, usage_error

if TYPE_CHECKING:  # pragma: no cover
    import sympy

    from llmarch.compiler.evaluate import Evaluation
    from llmarch.compiler.numeric import NumericModel
    from llmarch.compiler.pipeline import Compiled
    from llmarch.compiler.calibrate import Calibration
    from llmarch.compiler.capacity import Capacity

__all__ = ["load", "loads", "Model", "prices", "diff", "format_cost", "format_lint", "format_sensitivity",
           "format_projection", "format_solution", "format_sweep", "format_prices", "format_diff", "to_json_text",
           "budget_failures", "parse_grid", "render_dot", "GraphvizMissing", "INSTALL_HELP", "command_words",
           "format_calibration", "CalibrationError", "format_capacity", "serve_lsp", "pr_comment",
           "format_pr_comment", "init_text", "init", "watch"]


#: Monte Carlo runs a `Model` keeps for the next call that asks for the same one.
_SIMULATIONS_KEPT = 2


class Model:
    """A compiled `.llmarch` architecture.

    >>> model = llmarch.load("examples/support_assistant.llmarch")
    >>> model.cost(scenario="production").monthly_total

    A model loaded from the compile cache answers `cost`, `budgets` and `check` from its
    numeric model (generated code, no sympy); anything else compiles the file first.
    """

    def __init__(self, compiled: Optional["Compiled"] = None, *, numeric: Optional["NumericModel"] = None,
                 path: Optional[str | os.PathLike] = None):
        if compiled is None and (numeric is None or path is None):
            raise TypeError("Model needs a compiled architecture, or a numeric model and its path")
        self._compiled_now = compiled
        self._numeric = numeric
        self._path = path

    @property
    def _compiled(self) -> "Compiled":
        if self._compiled_now is None:
            from llmarch.compiler.pipeline import compile_file
            self._compiled_now = compile_file(self._path)
        return self._compiled_now

    def _from_numeric(self, ask, fallback):
        """`ask(numeric model)` when this model came from the cache and can answer it alone;
        otherwise `fallback()` on the compiled model."""
        if self._numeric is not None and self._compiled_now is None:
            from llmarch.compiler.numeric import NeedsCompiler
            try:
                return ask(self._numeric)
            except NeedsCompiler:
                pass
        return fallback()

    # what was compiled
    @property
    def title(self) -> str:
        return self._from_numeric(lambda n: n.title, lambda: self._compiled.arch.title)

    @property
    def parameters(self) -> dict[str, float]:
        """Default parameter values, each in its declared unit."""
        return self._from_numeric(lambda n: n.values(), lambda: self._compiled.evaluator.resolve().values)

    @property
    def scenarios(self) -> list[str]:
        return self._from_numeric(lambda n: list(n.scenarios), lambda: list(self._compiled.arch.scenarios))

    @property
    def components(self) -> list[str]:
        """The declared components (fixed costs not included), in source order."""
        return self._from_numeric(lambda n: list(n.components), lambda: list(self._compiled.arch.components))

    @property
    def _sources(self):
        return self._from_numeric(lambda n: n.sources, lambda: self._compiled.sources)

    def error(self, diagnostics: Sequence[Diagnostic]) -> LlmarchError:
        """An `LlmarchError` for diagnostics about this model (it can quote their source lines)."""
        return LlmarchError(list(diagnostics), self._sources)

    def render_diagnostic(self, diagnostic: Diagnostic, color: bool = False) -> str:
        """`file:line:col: error[CODE]: message`, the source line, a caret and the help;
        `color`: in ANSI colours, for a terminal."""
        return diagnostic.render(self._sources, color)

    @property
    def graph(self):
        """The lowered flow graph (a networkx DiGraph, symbolic costs and probabilities)."""
        return self._compiled.flow.graph

    @property
    def compiled(self) -> "Compiled":
        """Every stage's output, for tools that need the internals."""
        return self._compiled

    # numbers
    def cost(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None) -> CostResult:
        """Expected cost at a scenario's values; `set` overrides parameters (`{"hit_rate": 0.4}`,
        or strings with units: `{"requests_per_day": "5000 requests/day"}`)."""
        sets = _sets(set)
        return self._from_numeric(lambda n: n.cost(scenario, sets),
                                  lambda: self._compiled.evaluator.evaluate(scenario, sets))

    def evaluation(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None) -> "Evaluation":
        """The scenario resolved, checked and evaluated once: `.result` (the `CostResult`),
        `.resolution` (parameter values) and `.graph` (visits of every lowered node). Every
        method of the model shares it."""
        return self._compiled.evaluator.evaluation(scenario, _sets(set))

    def capacity(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None) -> "Capacity":
        """The providers' limits (`rpm`, `input_tpm`, `output_tpm`, `concurrency` on a model)
        against the demand at the mean and at the peak traffic, the limit reached first,
        the requests in flight per component (Little's law), and the spread of one
        request's latency and cost (`request_spreads`): a `Capacity`."""
        from llmarch.compiler.capacity import capacity
        compiled = self._compiled
        return capacity(compiled.arch, compiled.flow, self.evaluation(scenario, set),
                        self.request_spreads(scenario, set))

    def check(self) -> list[Diagnostic]:
        """Check the defaults and every scenario, budgets included; raise `LlmarchError` on
        the first scenario that is invalid, or with every budget that does not hold (and the
        warnings). Returns the warnings: probabilistic budgets too close to call (W701)."""
        from llmarch.compiler.budgets import budget_diagnostics
        found = []
        for scenario in [None, *self.scenarios]:
            found += budget_diagnostics(self.budgets(scenario))
        if any(d.severity == "error" for d in found):
            raise self.error(found)
        return found

    def lint(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None) -> list[Diagnostic]:
        """The cost-archetype findings for a scenario (warnings with codes L1xx–L5xx)."""
        from llmarch.compiler.lint import lint
        return lint(self._compiled, self.evaluation(scenario, set))

    def budgets(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None,
                samples: Optional[int] = None, seed: int = 0):
        """The budgets that apply to a scenario, each with its value, margin and verdict. A
        probabilistic budget (`p95(monthly_total) < …`, `P(monthly_total > …) < 10%`) is
        estimated by `simulate` (default sample count and seed unless given)."""
        from llmarch.compiler.budgets import check_all
        budgets = self._from_numeric(lambda n: n.budgets, lambda: self._compiled.arch.budgets)
        return check_all(budgets, self.cost(scenario, set),
                         lambda: self.simulate(scenario, set, samples, seed, components=False),
                         lambda: self.request_spreads(scenario, set))

    def request_spreads(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None) -> dict:
        """The spread between requests at the scenario's values: metric (`latency` when the
        file declares time, `cost_per_request`) -> `Spread`, the distribution of one
        request's figure over the path it takes (retries, fallbacks, loops), with its mean,
        standard deviation and percentiles (`.quantile(0.95)`); see docs/capacity.md."""
        from llmarch.compiler.spread import request_spreads
        compiled = self._compiled
        return request_spreads(compiled.arch, compiled.flow, self.evaluation(scenario, set))

    def sobol(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None,
              base: Optional[int] = None, seed: int = 0, at_month: Optional[float] = None):
        """First-order and total Sobol indices of the monthly total for every uncertain
        parameter, ranked by total index (`sensitivity --global`; see docs/uncertainty.md)."""
        from llmarch.compiler.sobol import DEFAULT_BASE, sobol
        base = DEFAULT_BASE if base is None else base
        sets = _at_month(set, at_month)
        return self._from_numeric(lambda n: sobol(n, scenario, sets, base, seed),
                                  lambda: sobol(self._compiled.evaluator, scenario, sets, base, seed))

    def simulate(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None,
                 samples: Optional[int] = None, seed: int = 0, components: bool = True):
        """Monte Carlo over the uncertain parameters (see docs/uncertainty.md): every sample
        is the exact expected cost at sampled parameter values. `set` pins parameters; the
        same `seed` gives the same numbers, and shares random numbers across scenarios."""
        from llmarch.compiler.montecarlo import DEFAULT_SAMPLES, simulate
        samples = DEFAULT_SAMPLES if samples is None else samples
        key = (scenario, tuple(sorted((str(k), repr(v)) for k, v in (set or {}).items())), samples, seed, components)
        memo = self.__dict__.setdefault("_simulations", {})
        if not components and key[:-1] + (True,) in memo:   # a run with components has the totals too
            return memo[key[:-1] + (True,)]
        if key not in memo:
            # the last runs only (`simulate` then `budgets` share one): a run keeps up to a
            # million samples of every figure, and a loop over seeds must not hold them all
            while len(memo) >= _SIMULATIONS_KEPT:
                memo.pop(next(iter(memo)))
            sets = _sets(set)
            memo[key] = self._from_numeric(lambda n: simulate(n, scenario, sets, samples, seed, components),
                                           lambda: simulate(self._compiled.evaluator, scenario, sets, samples, seed,
                                                            components))
        return memo[key]

    def calibrate(self, traces: Sequence[str | os.PathLike] | str | os.PathLike, trace_format: str = "otlp",
                  scenario: Optional[str] = None, since: Optional[str] = None,
                  until: Optional[str] = None) -> "Calibration":
        """Fit the model to production traces (OpenTelemetry OTLP JSON, a Langfuse or a Helicone export):
        estimates with sample sizes and 95% intervals, the parameters they fit, and the
        cost the file predicts for the traced requests reconciled with what the traces
        imply and record (docs/calibrate.md). `since`/`until` are dates or ISO 8601 times;
        input calibration cannot use raises `CalibrationError`. Needs DuckDB."""
        from llmarch.compiler.calibrate import calibrate, parse_moment
        paths = [traces] if isinstance(traces, (str, os.PathLike)) else list(traces)
        result = self.cost(scenario)
        calibration = calibrate(self._compiled, result, paths, trace_format,
                                parse_moment(since, "since") if since is not None else None,
                                parse_moment(until, "until") if until is not None else None)
        calibration.explain(lambda sets: self.cost(scenario, sets).cost_per_request)
        return calibration

    def export(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None) -> dict:
        """The lowered graph with numbers, as the JSON document `llmarch export` prints."""
        evaluation = self.evaluation(scenario, set)
        from llmarch.compiler.explain import export_json
        return export_json(self._compiled, evaluation.result, evaluation.resolution)

    def explain(self, scenario: Optional[str] = None) -> str:
        """Closed-form expressions (pretty-printed and LaTeX) as text."""
        from llmarch.compiler.explain import explain_text
        return explain_text(self._compiled, scenario)

    # reports (see docs/report.md)
    def report(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None,
               format: str = "html") -> str:
        """The report as text: `html` is one self-contained interactive page (sliders
        recompute it in the browser, no network), `markdown` its summary for a pull request."""
        from llmarch.compiler import report
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
    def to_dot(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None,
               summary: bool = False) -> str:
        """The cost-annotated diagram as Graphviz DOT text (deterministic; no Graphviz needed);
        `summary`: one box per cost vector instead of every component (for architectures too
        large to lay out, as the report does past 150 components)."""
        from llmarch.compiler.render import architecture_dot, summary_dot
        evaluation = self.evaluation(scenario, set)
        return summary_dot(self._compiled, evaluation) if summary else architecture_dot(self._compiled, evaluation)

    def render(self, path: str | os.PathLike, scenario: Optional[str] = None,
               set: Optional[Mapping[str, object]] = None, format: Optional[str] = None,
               summary: bool = False) -> str:
        """Write the diagram to `path` as svg, png, pdf or dot (`format`, else `path`'s
        extension); returns the format written. Without Graphviz's `dot` program, writes
        the DOT next to `path` (`diagram.dot`) and raises `render.GraphvizMissing`."""
        from llmarch.compiler.render import FORMATS, GraphvizMissing, INSTALL_HELP, render_dot
        path = os.fspath(path)
        fmt = format or os.path.splitext(path)[1].lower().lstrip(".")
        if fmt not in FORMATS:
            raise usage_error(f"cannot tell the diagram format from `{path}`" if not format
                              else f"unknown diagram format `{format}`", "formats: svg, png, pdf, dot")
        dot_text = self.to_dot(scenario, set, summary=summary)
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
            return svg(self._compiled, self.evaluation())
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
                    spread: float = 0.2, at_month: Optional[float] = None):
        """Exact derivative and elasticity of the monthly total for every input parameter, at
        month `at_month` of the built-in `time` (default: the scenario's, 0 at launch)."""
        return self._analyzer.sensitivity(scenario, _at_month(set, at_month), spread)

    def tornado(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None,
                spread: float = 0.2, at_month: Optional[float] = None):
        """Each parameter moved alone over its range; rows ranked by swing (at `at_month`)."""
        return self._analyzer.tornado(scenario, _at_month(set, at_month), spread)

    @property
    def self_hosted(self) -> list[str]:
        """The self-hosted models (`gpu { }`) the flow calls, whose replicas are a fixed cost
        that steps with the demand."""
        return [f.hosts for f in self._compiled.arch.fixed.values() if f.hosts is not None]

    @property
    def uses_time(self) -> bool:
        """True when a result depends on the built-in `time` (the file models growth)."""
        return "time" in self._compiled.evaluator.used_parameters

    def project(self, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None,
                months: int = 12, budget: Optional[float] = None, drivers=(), samples: Optional[int] = None,
                seed: int = 0):
        """Month-by-month cost with the built-in `time` parameter at 0, 1, …, months (at the
        point values). When parameters are uncertain, `.risk` has each month's p5/p50/p95
        and P(monthly total > budget) — `budget`, else the file's `monthly_total` budget for
        the scenario — by Monte Carlo with common random numbers across months."""
        from dataclasses import replace

        from llmarch.compiler.montecarlo import DEFAULT_SAMPLES, project_risk
        projection = self._analyzer.project(scenario, _sets(set), months, budget, drivers)
        limit = budget
        if limit is None:
            limit = next((b.limit for b in self._compiled.arch.budgets if b.metric == "monthly_total"
                          and not b.probabilistic and b.op in ("<", "<=")
                          and (b.scenario is None or b.scenario == scenario)), None)
        risk = project_risk(self._compiled.evaluator, scenario, _sets(set), months, limit,
                            DEFAULT_SAMPLES if samples is None else samples, seed)
        return replace(projection, risk=risk) if risk is not None else projection

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
    def expressions(self) -> dict[str, "sympy.Expr"]:
        """Closed forms of the totals, over parameter symbols named as in the file."""
        import sympy

        from llmarch.compiler.ir import FAILURE_SWITCH
        model, arch = self._compiled.model, self._compiled.arch
        display = {p.symbol: sympy.Symbol(name) for name, p in arch.parameters.items()}
        totals = {"cost_per_request": model.cost_per_request, "p_success": model.p_success,
                  "requests_per_month": model.requests_per_month, "fixed_monthly": model.fixed_monthly}
        return {k: model.closed_form(v).xreplace({FAILURE_SWITCH: sympy.Integer(1)}).xreplace(display) for k, v in totals.items()}

    def __repr__(self) -> str:
        return f"<llmarch.Model {self.title!r}: {len(self.components)} components>"


def load(path: str | os.PathLike, cache: bool = True) -> Model:
    """Compile a `.llmarch` file (and its imports); raise `LlmarchError` with diagnostics.
    With `cache`, an unchanged file is not compiled again: its numeric model comes from the
    compile cache (see docs/performance.md), and a fresh compile is stored there."""
    from llmarch.compiler import compile_cache
    if cache:
        numeric = compile_cache.lookup(path)
        if numeric is not None:
            return Model(numeric=numeric, path=path)
    from llmarch.compiler.pipeline import compile_file
    compiled = compile_file(path)
    if cache:
        compile_cache.store(path, compiled)
    return Model(compiled)


def loads(text: str, path: str = "<string>", checked=None) -> Model:
    """Compile source text; imports are resolved relative to `path`'s folder (not cached).
    `checked()`, when given, is called as soon as the text is known to compile without a
    diagnostic, before the cost model is built (the language server publishes then)."""
    from llmarch.compiler.pipeline import compile_file
    return Model(compile_file(path, text=text, checked=checked))


def prices(pattern: Optional[str] = None, as_of=None) -> list:
    """The price catalog (the installed genai-prices snapshot, never fetched): a
    `CatalogPrice` for every `provider:model` matching `pattern` (a case-insensitive glob or
    substring), sorted, with the prices on `as_of` (a `date` or "YYYY-MM-DD"; default: the
    newest; a model first priced after `as_of` is left out). A bad date raises
    `LlmarchError` (E600). See docs/prices.md."""
    import datetime
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
        raise usage_error(f"cannot write {path}: {exc.strerror or exc}") from None


def _at_month(values: Optional[Mapping[str, object]], month: Optional[float]) -> dict[str, object]:
    """`set` values with the built-in `time` at `month`."""
    sets = _sets(values)
    if month is not None:
        import math
        if not math.isfinite(month) or month < 0 or month > 1200:
            from llmarch.compiler import options
            raise usage_error(f"{options.at_month()} must be a number of months from 0 to 1200, got {month:g}")
        sets["time"] = float(month)
    return sets


def _sets(values: Optional[Mapping[str, object]]) -> dict[str, object]:
    """Numbers pass through as numbers (in the parameter's declared unit); anything else is
    read like the CLI's `--set` text, so it may carry a unit: "5000 requests/day"."""
    return {k: (v if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v))
            for k, v in (values or {}).items()}


# --- comparing two files -----------------------------------------------------------------------

def diff(old: str | os.PathLike | Model, new: str | os.PathLike | Model, scenario: Optional[str] = None,
         set: Optional[Mapping[str, object]] = None, samples: Optional[int] = None, seed: int = 0):
    """What a change does to the bill: a `Diff` per component, cost vector and parameter.
    OLD and NEW are models, paths, or `REV:path` (a file at a git revision, its imports from
    the same revision); see docs/diff.md. When either side has uncertain parameters, `.risk`
    compares the monthly total over them (`samples`, `seed`: as `simulate`)."""
    from llmarch.compiler import diff as diffs

    def side(x) -> tuple["Compiled", str]:
        if isinstance(x, Model):
            return x.compiled, x.compiled.arch.path
        return diffs.compile_side(os.fspath(x)), os.fspath(x)

    (before, old_name), (after, new_name) = side(old), side(new)
    return diffs.diff_results(before, after, old_name, new_name, scenario, _sets(set), samples, seed)


def pr_comment(base: str, head: str, files: Optional[Sequence[str | os.PathLike]] = None,
               scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None,
               samples: Optional[int] = None, seed: int = 0, all_files: bool = False):
    """A pull request's cost comment, run inside a git repository: for every `.llmarch` file
    that changed between the revisions `base` and `head` (or each of `files`, paths from the
    working directory; or with `all_files`, every `.llmarch` file at `head` and those deleted
    since `base`), the diff, the budgets and lint findings at `head` and a collapsed Mermaid
    diagram (a `pr_comment.PrComment`; `.budgets_failed`, `.invalid`). `format_pr_comment`
    writes it as Markdown that starts with the hidden marker `<!-- llmarch -->`. See docs/ci.md."""
    from llmarch.compiler.pr_comment import pr_comment as comment
    return comment(base, head, [os.fspath(f) for f in files] if files else None, scenario, _sets(set),
                   samples, seed, all_files=all_files)


def format_pr_comment(comment) -> str:
    """The comment as Markdown, starting with the marker CI finds it by (`<!-- llmarch -->`)."""
    from llmarch.compiler.pr_comment import pr_comment_markdown
    return pr_comment_markdown(comment)


def init_text() -> str:
    """The commented starter architecture `llmarch init` writes: it passes `check`, `cost`
    and `lint`."""
    from importlib import resources
    return resources.files("llmarch").joinpath("starter.llmarch").read_text(encoding="utf-8")


def init(path: str | os.PathLike = "architecture.llmarch") -> str:
    """Write the starter architecture to `path` (never over an existing file: a usage
    error); returns the path written."""
    path = os.fspath(path)
    try:
        with open(path, "x", encoding="utf-8", newline="\n") as handle:
            handle.write(init_text())
    except FileExistsError:
        raise usage_error(f"`{path}` already exists; llmarch init does not overwrite a file",
                          "name another file: llmarch init FILE") from None
    except OSError as exc:
        raise usage_error(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


# --- text: what the command prints -------------------------------------------------------------

def format_cost(result: CostResult, format: str = "table", budgets: Sequence = ()) -> str:
    """The cost table (`table`), its Markdown, or the JSON document of `llmarch cost`."""
    if format == "json":
        data = output.cost_json(result)
        data["budgets"] = [b.to_json() for b in budgets]
        return output.to_json_text(data)
    if format == "markdown":
        return output.cost_markdown(result)
    return output.cost_table(result)


def format_capacity(capacity, format: str = "table") -> str:
    """`llmarch capacity`: the limits table and the requests in flight, as text, Markdown or JSON."""
    from llmarch.compiler import capacity_output as out
    if format == "json":
        return output.to_json_text(out.capacity_json(capacity))
    return out.capacity_text(capacity, markdown=format == "markdown")


def format_calibration(calibration: "Calibration", format: str = "table") -> str:
    """A calibration's estimates and reconciliation as a table, Markdown (for a pull
    request) or JSON."""
    from llmarch.compiler.calibrate import output as calibrate_output
    return {"table": calibrate_output.calibration_table, "markdown": calibrate_output.calibration_markdown,
            "json": calibrate_output.calibration_json}[format](calibration)


def format_sobol(result, format: str = "table") -> str:
    """`llmarch sensitivity --global`: the Sobol ranking as a table, Markdown or JSON."""
    from llmarch.compiler import uncertainty_output as out
    if format == "json":
        return output.to_json_text(out.sobol_json(result))
    return out.sobol_table(result, markdown=format == "markdown")


def format_simulation(simulation, format: str = "table", budgets: Sequence = ()) -> str:
    """`llmarch simulate`: the summary table, its Markdown, or the JSON document."""
    from llmarch.compiler import uncertainty_output as out
    if format == "json":
        return output.to_json_text(out.simulation_json(simulation, budgets))
    if format == "markdown":
        return out.simulation_markdown(simulation, budgets)
    return out.simulation_table(simulation, budgets)


def format_lint(findings: Sequence[Diagnostic], scenario: Optional[str] = None) -> str:
    """`llmarch lint --format json`: the findings (and failed budgets) as one document."""
    return output.to_json_text({"format_version": 1, "scenario": scenario,
                                "findings": [f.to_json() for f in findings]})


def format_sensitivity(rows, title: str, scenario: Optional[str] = None, format: str = "table",
                       tornado: bool = False, at_month: Optional[float] = None, uses_time: bool = False,
                       self_hosted: Sequence[str] = ()) -> str:
    """Sensitivity or tornado rows as the command prints them. For a file that models growth,
    the text says at which month they were computed; with `self_hosted` models, that their
    replicas are a step the derivatives leave out."""
    from llmarch.compiler import analysis_output as out
    if format == "json":
        data = out.sensitivity_json(rows, title, scenario)
        data["at_month"] = at_month if at_month is not None else (0.0 if uses_time else None)
        return output.to_json_text(data)
    shown = title + (f" — scenario {scenario}" if scenario else "") + (
        f" — at month {at_month:g}" if at_month is not None else "")
    text = out.sensitivity_text(rows, shown, format == "markdown", tornado)
    if uses_time and at_month is None:
        from llmarch.compiler import options
        text += ("\nat month 0 (the launch): parameters that act through `time` (growth) may matter little now "
                 f"and dominate later; see {options.at_month_hint(12)}\n")
    if self_hosted:
        names = ", ".join(f"`{name}`" for name in self_hosted)
        text += (f"\nthe GPU replicas of {names} step with the demand: flat between steps, so the derivatives and "
                 "elasticities leave them out; the low/high columns include every step they cross\n")
    return text


def format_projection(projection, title: str, scenario: Optional[str] = None, format: str = "table") -> str:
    from llmarch.compiler import analysis_output as out
    if format == "json":
        return output.to_json_text(out.projection_json(projection, title, scenario))
    return out.projection_text(projection, title + (f" — scenario {scenario}" if scenario else ""),
                               format == "markdown")


def format_solution(solution, format: str = "table") -> str:
    from llmarch.compiler import analysis_output as out
    if format == "json":
        return output.to_json_text({"format_version": 1, **solution.to_json()})
    return out.solution_text(solution, format == "markdown")


def format_sweep(names, arrays, batch, format: str = "csv") -> str:
    from llmarch.compiler import analysis_output as out
    if format == "json":
        return output.to_json_text(out.sweep_json(names, arrays, batch))
    return out.sweep_csv(names, arrays, batch)


def format_prices(prices: Sequence, format: str = "table") -> str:
    from llmarch.stdlib import catalog
    as_of = prices[0].as_of if prices else None
    if format == "json":
        return output.to_json_text(catalog.prices_json(prices, as_of))
    return catalog.prices_table(prices, as_of)


def format_diff(d, format: str = "table") -> str:
    from llmarch.compiler import diff as diffs
    if format == "json":
        return output.to_json_text(diffs.diff_json(d))
    return diffs.diff_text(d, format == "markdown")


def to_json_text(data: dict) -> str:
    """JSON as llmarch writes it: sorted where order carries no meaning, two-space indents."""
    return output.to_json_text(data)


def budget_failures(budgets: Sequence) -> list[Diagnostic]:
    """The E701 diagnostics of the budgets that do not hold, and a W701 warning for each
    probabilistic budget too close to call."""
    from llmarch.compiler.budgets import budget_diagnostics
    return budget_diagnostics(list(budgets))


def parse_grid(text: str):
    """`NAME=LOW:HIGH[:log]:POINTS` → (name, values) for `Model.sweep`."""
    from llmarch.compiler.analysis import parse_grid as parse
    return parse(text)


def command_words():
    """A context manager: inside it, messages name the `llmarch` command's flags (`--set`,
    `--grid`, `--low`/`--high`, `--months`, `--driver`, `--at-month`) instead of this API's
    keywords (`set`, `grids`, `low`/`high`, `months`, `drivers`, `at_month`). The command
    runs in it; a tool that passes its own users' flags through the API may too."""
    from llmarch.compiler.options import command_words as words
    return words()


def serve_lsp() -> int:
    """Run the language server (`llmarch lsp`) on standard input and output until the
    editor says `exit`; returns 0. Needs pygls (the `lsp` extra); without it, raises
    `LlmarchError` (E600) saying how to install it. See docs/editors.md."""
    try:
        from llmarch import lsp
    except ImportError as exc:
        raise usage_error(f"the language server needs pygls ({exc})",
                          help="pip install 'llmarch[lsp]'") from None
    lsp.serve(loads)
    return 0


def watch(path: str | os.PathLike, scenario: Optional[str] = None, set: Optional[Mapping[str, object]] = None,
          port: int = 0, open_browser: bool = False, log=None):
    """Serve the HTML report of `path` on 127.0.0.1 (`port` 0: a free one) and rebuild it
    when the file or a file it imports changes; while the file does not compile, the page
    shows its diagnostics. Returns a `watch.Watch`, already answering at `.url`: call
    `.run()` to poll the files in this thread until Ctrl-C (what `llmarch watch` does) or
    `.start()` to poll in the background, and `.close()` to stop. `open_browser` opens the
    page in the default browser; `log(line)` hears a line per build. A port that is taken
    or out of range raises `LlmarchError` (E600). See docs/report.md."""
    from llmarch.watch import Watch
    server = Watch(path, scenario, _sets(set), port=port, log=log)
    if open_browser:
        import webbrowser
        webbrowser.open(server.url)
    return server


def render_dot(dot_text: str, format: str) -> bytes:
    """Lay out DOT text with Graphviz's `dot` (svg, png or pdf); raises `GraphvizMissing`."""
    from llmarch.compiler.render import render_dot as render
    return render(dot_text, format)


def __getattr__(name: str):
    # the renderer's names without importing it (and graphviz) up front
    if name in ("GraphvizMissing", "INSTALL_HELP"):
        from llmarch.compiler import render
        return getattr(render, name)
    if name == "CalibrationError":   # without importing the calibration stages up front
        from llmarch.compiler.calibrate.readers import CalibrationError
        return CalibrationError
    raise AttributeError(f"module 'llmarch.api' has no attribute {name!r}")
