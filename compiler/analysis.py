"""Analyses on the symbolic model: sensitivity, tornado, projection over time, solving for a
target (break-even), crossovers between scenarios or files, and grid sweeps.

Everything numeric runs through generated, vectorized code. Derivatives are exact: one
reverse sweep over the chain of intermediate definitions (parameter definitions, then
expected visits) gives the gradient with respect to every parameter at once, so its cost
grows linearly with the size of the architecture.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np
import sympy

from llmarch.dsl.diagnostics import did_you_mean, usage_error

from . import ir, options
from .codegen import generate_function
from .evaluate import Resolution
from .pipeline import Compiled

__all__ = ["Analyzer", "Batch", "SensitivityRow", "Swing", "Projection", "Solution", "parse_grid", "TARGETS"]

#: What `solve` can aim at, and the name of the result it reads.
TARGETS = ("monthly", "per_request", "per_success")
#: Points evaluated per call of the generated code; bounds memory for big sweeps.
CHUNK = 200_000
#: Sweeps with more points than this are refused (CSV of this size is already ~GBs).
MAX_GRID_POINTS = 20_000_000
#: Grid used to bracket roots in `solve`.
SOLVE_GRID = 4001



@dataclass(frozen=True)
class Batch:
    """Results over arrays of parameter values (numpy arrays of one shape)."""

    monthly_total: np.ndarray
    cost_per_request: np.ndarray
    p_success: np.ndarray
    by_category: dict[str, np.ndarray]
    requests_per_month: np.ndarray
    #: With `batch(rows=True)`: the monthly cost of every cost-table row (`Evaluator.rows`,
    #: then the fixed costs), in that order.
    by_row: Optional[list[np.ndarray]] = None

    @property
    def cost_per_success(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.p_success > 0, self.cost_per_request / self.p_success, np.inf)


@dataclass(frozen=True)
class SensitivityRow:
    name: str
    unit: Optional[str]
    value: float
    derivative: float                 # d(monthly total)/d(parameter), USD per month per unit
    derivative_per_request: float
    derivative_per_success: float
    elasticity: float                 # % change of the monthly total per 1% change
    low: float
    high: float
    monthly_at_low: float
    monthly_at_high: float
    #: when the file declares latency: d(expected latency per request)/d(parameter), seconds
    #: per unit, and the % change of the latency per 1% change of the parameter
    derivative_latency: Optional[float] = None
    latency_elasticity: Optional[float] = None

    @property
    def swing(self) -> float:
        return abs(self.monthly_at_high - self.monthly_at_low)

    def to_json(self) -> dict:
        return {"name": self.name, "unit": self.unit, "value": self.value, "derivative": self.derivative,
                "derivative_per_request": self.derivative_per_request,
                "derivative_per_success": self.derivative_per_success, "elasticity": self.elasticity,
                "low": self.low, "high": self.high, "monthly_at_low": self.monthly_at_low,
                "monthly_at_high": self.monthly_at_high,
                **({"derivative_latency": self.derivative_latency, "latency_elasticity": self.latency_elasticity}
                   if self.derivative_latency is not None else {})}


@dataclass(frozen=True)
class Swing:
    """One bar of a tornado: the monthly total with one parameter at each end of its range."""

    name: str
    value: float
    low: float
    high: float
    monthly_at_low: float
    monthly_at_high: float

    @property
    def swing(self) -> float:
        return abs(self.monthly_at_high - self.monthly_at_low)


@dataclass(frozen=True)
class Projection:
    months: list[int]
    monthly_total: list[float]
    by_category: list[dict[str, float]]
    budget: Optional[float]
    budget_crossed_month: Optional[int]
    scaling: dict[str, tuple[float, float]]     # driver -> exponent at first and last month
    requests_per_month: list[float]
    #: over uncertain parameters (see montecarlo.project_risk): per month (p5, p50, p95) of the
    #: monthly total and P(monthly total > budget), with the months P first passes 10% and 50%
    risk: Optional[object] = None

    @property
    def growth_exponent(self) -> Optional[float]:
        """ln(cost growth) / ln(traffic growth) over the whole projection: above 1, the bill
        grows faster than the traffic (None when traffic does not change)."""
        t0, t1 = self.requests_per_month[0], self.requests_per_month[-1]
        c0, c1 = self.monthly_total[0], self.monthly_total[-1]
        if min(t0, t1, c0, c1) <= 0 or abs(math.log(t1 / t0)) < 1e-12:
            return None
        return math.log(c1 / c0) / math.log(t1 / t0)

    def to_json(self) -> dict:
        return {
            "months": [{"month": m, "monthly_total": t, "by_category": c}
                       for m, t, c in zip(self.months, self.monthly_total, self.by_category)],
            "budget": self.budget, "budget_crossed_month": self.budget_crossed_month,
            "scaling_exponents": {k: {"first_month": a, "last_month": b} for k, (a, b) in self.scaling.items()},
            "requests_per_month": self.requests_per_month, "growth_exponent": self.growth_exponent,
            **({"uncertainty": self.risk.to_json()} if self.risk is not None else {}),
        }


@dataclass(frozen=True)
class Solution:
    parameter: str
    target_kind: str
    target: float
    solutions: list[float]
    low: float
    high: float
    method: str
    against: Optional[str] = None
    jumps: tuple[float, ...] = ()    # where the cost steps over the target (a price tier, floor, ceil)

    def to_json(self) -> dict:
        out = {"parameter": self.parameter, "target": self.target, "target_kind": self.target_kind,
               "solutions": self.solutions, "range": [self.low, self.high], "method": self.method,
               "jumps": list(self.jumps)}
        if self.against is not None:
            out["against"] = self.against
        return out


_ZERO = sympy.Integer(0)
_ONE = sympy.Integer(1)
#: The unit vectors that seed the reverse sweep of `Analyzer._build_gradient`.
_SEEDS = tuple(np.eye(4))
#: with latency declared, a fifth output (the expected latency per request) is swept too
_TIMED_SEEDS = tuple(np.eye(5))


def _unreachable(parameter: str, lo: float, hi: float, what: str, values: np.ndarray):
    """The error for a target outside what `values` (finite, over the search range) reach."""
    interval = f"[{values.min():,.6g}, {values.max():,.6g}]" if values.size else "nowhere finite"
    return usage_error(f"the target is not reached for `{parameter}` in [{lo:g}, {hi:g}]: {what} ranges over {interval}",
                       f"widen the range with {options.search_range()}, or aim at a value inside that interval")


def _partials(expr: sympy.Expr):
    """(symbol, ∂expr/∂symbol) for every symbol of `expr`, differentiating a sum term by
    term: sympy's `diff` of a long sum costs its whole length for every symbol."""
    terms = expr.args if expr.is_Add else (expr,)
    for term in terms:
        gradient = _gradient(term)
        for x in sorted(gradient, key=lambda s: s.name):
            if x == ir.FAILURE_SWITCH:
                continue
            d = gradient[x]
            if d is not _ZERO and d.has(sympy.Derivative, sympy.Subs):  # floor, ceil: flat almost everywhere
                d = d.replace(lambda e: isinstance(e, (sympy.Derivative, sympy.Subs)), lambda e: _ZERO)
            if d is not _ZERO and d != 0:
                yield x, d


def _gradient(expr: sympy.Expr) -> dict:
    """{symbol: ∂expr/∂symbol} for the sums, products and powers the model is made of, in one
    walk of `expr` (a term `cost × (v1 + … + vk)` costs k, not k² as one derivative per symbol
    would); anything else (min, max, floor, log, …) goes to sympy. Results are built
    unevaluated: sympy's canonicalization is most of the cost and the generated code does
    not need it."""
    if expr.is_Symbol:
        return {expr: _ONE}
    if expr.is_Atom:
        return {}
    if expr.is_Add:
        parts: dict = {}
        for a in expr.args:
            for x, d in _gradient(a).items():
                parts.setdefault(x, []).append(d)
        return {x: ds[0] if len(ds) == 1 else sympy.Add(*ds, evaluate=False) for x, ds in parts.items()}
    if expr.is_Mul:
        args = expr.args
        terms: dict = {}
        for i, a in enumerate(args):
            partial = _gradient(a)
            if not partial:
                continue
            rest = args[:i] + args[i + 1:]
            for x, da in partial.items():
                factors = rest if da is _ONE else rest + (da,)
                terms.setdefault(x, []).append(factors[0] if len(factors) == 1
                                               else sympy.Mul(*factors, evaluate=False))
        return {x: ts[0] if len(ts) == 1 else sympy.Add(*ts, evaluate=False) for x, ts in terms.items()}
    if expr.is_Pow and expr.exp.is_Number:
        base, n = expr.args
        return {x: sympy.Mul(n, sympy.Pow(base, n - 1, evaluate=False), db, evaluate=False)
                for x, db in _gradient(base).items()}
    out = {}
    for x in expr.free_symbols:
        d = sympy.diff(expr, x)
        if d is not _ZERO:
            out[x] = d
    return out


def parse_grid(text: str) -> tuple[str, np.ndarray]:
    """`name=lo:hi:n` (linear) or `name=lo:hi:log:n` (log-spaced) -> (name, values)."""
    name, sep, spec = text.partition("=")
    parts = spec.split(":")
    try:
        if not sep or len(parts) not in (3, 4) or (len(parts) == 4 and parts[2] != "log"):
            raise ValueError
        lo, hi, n = float(parts[0]), float(parts[1]), int(parts[-1])
    except ValueError:
        raise usage_error(f"cannot read {options.grid(text)}",
                     "write NAME=LOW:HIGH:POINTS or NAME=LOW:HIGH:log:POINTS, e.g. hit_rate=0:0.9:10") from None
    if n < 1:
        raise usage_error(f"{options.grid(text)} needs at least one point")
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise usage_error(f"{options.grid(text)}: bounds must be finite numbers")
    if len(parts) == 4:
        if lo <= 0 or hi <= 0:
            raise usage_error(f"{options.grid(text)}: a log grid needs positive bounds")
        return name.strip(), np.geomspace(lo, hi, n)
    return name.strip(), np.linspace(lo, hi, n)


class Analyzer:
    """Numbers beyond one point: derivatives, ranges, grids, roots."""

    def __init__(self, compiled: Compiled):
        self.compiled = compiled
        self.arch = compiled.arch
        self.model = compiled.model
        self.evaluator = compiled.evaluator
        self._gradient_functions: dict[tuple, object] = {}

    # --- evaluation over arrays --------------------------------------------------------------
    def batch(self, scenario: Optional[str], sets: Optional[Mapping[str, str]],
              arrays: Mapping[str, np.ndarray], check: bool = True, categories: bool = True,
              rows: bool = False) -> Batch:
        """Evaluate at every point of `arrays` (same shape), in chunks. Without `categories`
        a lean evaluator computes only the totals (by_category is then empty); with `rows`,
        the monthly cost of every cost-table row too (`Batch.by_row`)."""
        shape = np.broadcast_shapes(*[np.shape(a) for a in arrays.values()]) if arrays else ()
        flat = {k: np.broadcast_to(np.asarray(v, dtype=float), shape).ravel() for k, v in arrays.items()}
        size = int(np.prod(shape)) if shape else 1
        parts: list[list[np.ndarray]] = []
        for start in range(0, size, CHUNK):
            chunk = {k: v[start:start + CHUNK] for k, v in flat.items()}
            resolution = self.evaluator.resolve(scenario, sets, chunk)
            if check:
                self.evaluator.check(resolution)
            n = min(CHUNK, size - start)
            if rows:
                wanted = self.evaluator.raw(resolution.env, 1.0)
            elif categories:
                wanted = self.evaluator.raw(resolution.env, 1.0,
                                            keep=slice(0, self.evaluator.layout.end_of("fixed_by_category")))
            else:
                wanted = self.evaluator.totals(resolution.env, 1.0)
            parts.append([np.broadcast_to(np.asarray(x, dtype=float), (n,)) for x in wanted])
        columns = [np.concatenate([p[i] for p in parts]).reshape(shape) for i in range(len(parts[0]))]
        if not categories:
            monthly, cpr, p_success, rpm = columns
            return Batch(monthly, cpr, p_success, {}, rpm)
        k = len(ir.CATEGORIES)
        cpr, p_success, rpm = columns[0], columns[1], columns[2]
        fixed = sum(columns[3 + k:3 + 2 * k])
        by_category = {c: columns[3 + i] * rpm + columns[3 + k + i] for i, c in enumerate(ir.CATEGORIES)}
        by_row = None
        if rows:
            layout = self.evaluator.layout
            visits, cost = columns[layout.span("row_visits")], columns[layout.span("row_cost")]
            by_row = [v * c * rpm for v, c in zip(visits, cost)] + columns[layout.span("fixed_items")]
        return Batch(rpm * cpr + fixed, cpr, p_success, by_category, rpm, by_row)

    # --- exact derivatives ---------------------------------------------------------------------
    def gradient(self, scenario: Optional[str] = None, sets: Optional[Mapping[str, str]] = None,
                 resolution: Optional[Resolution] = None) -> dict[str, tuple]:
        """For every input parameter: (d monthly, d cost/request, d P(success)) with the values
        (monthly, cost/request, P(success)), then (d latency, latency) — None when the file
        declares no latency — exact, from one reverse sweep for every output at once."""
        resolution = resolution or self.evaluator.resolve(scenario, sets)
        key = (tuple(resolution.inputs), tuple(sorted((n, sympy.srepr(d)) for n, d in resolution.definitions.items()
                                                      if n not in resolution.inputs)))
        function = self._gradient_functions.get(key)
        if function is None:
            from .gc_pause import collector_paused
            with collector_paused():
                function = self._gradient_functions[key] = self._build_gradient(resolution)
        timed = self.model.latency_per_request is not None
        seeds = _TIMED_SEEDS if timed else _SEEDS
        args = [resolution.env[p.symbol] for p in self.arch.parameters.values()] + [1.0] + list(seeds)
        with np.errstate(all="ignore"):
            out = function(*args)
        values = [float(x) for x in out[:len(seeds)]]
        monthly, cpr, ps, rpm = values[:4]
        latency = values[4] if timed else None
        rows = {}
        for name, adjoint in zip(resolution.inputs, out[len(seeds):]):
            d = [float(x) for x in np.broadcast_to(adjoint, (len(seeds),))]
            d_cpr, d_success, d_requests, d_fixed = d[:4]
            # the monthly total's derivative by the product rule: rpm × cpr + fixed
            rows[name] = (rpm * d_cpr + cpr * d_requests + d_fixed, d_cpr, d_success, monthly, cpr, ps,
                          d[4] if timed else None, latency)
        return rows

    def _build_gradient(self, resolution: Resolution):
        """One reverse sweep for four outputs at once (cost per request, P(success), requests
        per month, fixed monthly; a fifth, the expected latency, when the file declares it):
        every adjoint is a vector, seeded by the arguments `_e0` … `_e3` (the unit vectors),
        so the chain is walked and printed once, not four times."""
        params = self.arch.parameters
        inputs = [params[n].symbol for n in resolution.inputs]
        chain: list[tuple[sympy.Symbol, sympy.Expr]] = []
        for name in resolution.order:
            if name in resolution.inputs:
                continue
            p = params[name]
            chain.append((p.symbol, resolution.definitions[name] / p.scale))
        chain += self.model.definitions
        m = self.model
        # The totals are long sums; naming them keeps every differentiation term-sized.
        per_request, success = sympy.Symbol("_total_cpr", real=True), sympy.Symbol("_total_ps", real=True)
        chain += [(per_request, m.cost_per_request), (success, m.p_success)]
        outputs = [m.requests_per_month * per_request + m.fixed_monthly, per_request, success, m.requests_per_month]
        swept = [per_request, success, m.requests_per_month, m.fixed_monthly]
        if m.latency_per_request is not None:
            latency = sympy.Symbol("_total_latency", real=True)
            chain.append((latency, m.latency_per_request))
            outputs.append(latency)
            swept.append(latency)
        seeds = [sympy.Symbol(f"_e{i}", real=True) for i in range(len(swept))]
        definitions = list(chain)
        counter = [0]

        def new_symbol() -> sympy.Symbol:
            counter[0] += 1
            return sympy.Symbol(f"_g{counter[0]}", real=True)

        adjoint: dict[sympy.Symbol, list[sympy.Expr]] = defaultdict(list)
        for seed, output in zip(seeds, swept):
            if output.is_Symbol:
                adjoint[output].append(seed)
                continue
            for x, d in _partials(output):
                adjoint[x].append(seed if d is _ONE else sympy.Mul(seed, d, evaluate=False))
        for symbol, expr in reversed(chain):
            terms = adjoint.pop(symbol, None)
            if not terms:
                continue
            if len(terms) == 1 and terms[0].is_Atom:
                bar = terms[0]       # no new name for a name: nothing to propagate later
            else:
                bar = new_symbol()
                definitions.append((bar, terms[0] if len(terms) == 1 else sympy.Add(*terms, evaluate=False)))
            for x, d in _partials(expr):
                adjoint[x].append(bar if d is _ONE else sympy.Mul(bar, d, evaluate=False))
        gradients = [(sympy.Add(*adjoint[x], evaluate=False) if len(adjoint[x]) > 1 else adjoint[x][0])
                     if adjoint.get(x) else _ZERO for x in inputs]
        return generate_function(self.evaluator.arguments + seeds, outputs + gradients, definitions)

    # --- sensitivity and tornado ---------------------------------------------------------------
    def _range(self, name: str, value: float, spread: float) -> tuple[float, float]:
        p = self.arch.parameters[name]
        low = p.low if p.low is not None else value * (1 - spread)
        high = p.high if p.high is not None else value * (1 + spread)
        low, high = min(low, high), max(low, high)
        if p.low is None and p.high is None and p.dim.is_dimensionless and 0 <= value <= 1:
            # a plain number in [0, 1] with no declared range is a share: keep it a share
            low, high = max(low, 0.0), min(high, 1.0)
        return low, high

    def sensitivity(self, scenario: Optional[str] = None, sets: Optional[Mapping[str, str]] = None,
                    spread: float = 0.2) -> list[SensitivityRow]:
        """Every input parameter the results depend on: exact derivative, elasticity, and the
        monthly total at the low and high ends of its declared range (or ±spread), ranked by
        |elasticity|. Parameters nothing uses (an imported price list) are left out."""
        resolution = self.evaluator.evaluation(scenario, sets).resolution   # resolved and checked once
        grads = self.gradient(resolution=resolution)
        rows = []
        for swing in self._swings(scenario, sets, resolution, spread):
            d_monthly, d_cpr, d_ps, monthly, cpr, ps, d_latency, latency = grads[swing.name]
            d_cps = (d_cpr * ps - cpr * d_ps) / (ps * ps) if ps > 0 else math.nan
            elasticity = d_monthly * swing.value / monthly if monthly else 0.0
            latency_elasticity = None
            if d_latency is not None:
                latency_elasticity = d_latency * swing.value / latency if latency else 0.0
            rows.append(SensitivityRow(swing.name, self.arch.parameters[swing.name].unit, swing.value, d_monthly,
                                       d_cpr, d_cps, elasticity, swing.low, swing.high, swing.monthly_at_low,
                                       swing.monthly_at_high, d_latency, latency_elasticity))
        rows.sort(key=lambda r: (-abs(r.elasticity), r.name))
        return rows

    def tornado(self, scenario: Optional[str] = None, sets: Optional[Mapping[str, str]] = None,
                spread: float = 0.2) -> list[SensitivityRow]:
        """The same rows ranked by swing: |monthly at high − monthly at low|."""
        return sorted(self.sensitivity(scenario, sets, spread), key=lambda r: (-r.swing, r.name))

    def swings(self, scenario: Optional[str] = None, sets: Optional[Mapping[str, str]] = None,
               spread: float = 0.2) -> list[Swing]:
        """The tornado's bars without the derivatives (the report's chart): the same ranges and
        monthly totals as `tornado`, in the same order, from one vectorized evaluation and no
        reverse sweep — the sweep is most of `tornado`'s time on a large architecture."""
        resolution = self.evaluator.evaluation(scenario, sets).resolution
        return sorted(self._swings(scenario, sets, resolution, spread), key=lambda r: (-r.swing, r.name))

    def _swings(self, scenario, sets, resolution: Resolution, spread: float) -> list[Swing]:
        used = self.evaluator.used_parameters
        names = [n for n in resolution.inputs if not self.arch.parameters[n].builtin and n in used]
        values = {n: resolution.values[n] for n in names}
        ranges = {n: self._range(n, values[n], spread) for n in names}
        lows, highs = self._one_at_a_time(scenario, sets, names, values, ranges)
        return [Swing(n, values[n], ranges[n][0], ranges[n][1], lows[i], highs[i]) for i, n in enumerate(names)]

    def _one_at_a_time(self, scenario, sets, names, values, ranges):
        """Monthly totals with each parameter moved alone to its low, then its high end —
        one vectorized evaluation of 2 × len(names) points."""
        if not names:
            return [], []
        count = 2 * len(names)
        arrays = {n: np.full(count, values[n]) for n in names}
        for i, n in enumerate(names):
            arrays[n][2 * i], arrays[n][2 * i + 1] = ranges[n]
        batch = self.batch(scenario, sets, arrays)
        monthly = batch.monthly_total
        return [float(monthly[2 * i]) for i in range(len(names))], [float(monthly[2 * i + 1]) for i in range(len(names))]

    # --- growth over time ----------------------------------------------------------------------
    def project(self, scenario: Optional[str] = None, sets: Optional[Mapping[str, str]] = None,
                months: int = 12, budget: Optional[float] = None,
                drivers: Sequence[str] = ()) -> Projection:
        if months < 0 or months > 1200:
            raise usage_error(f"{options.months()} must be between 0 and 1200")
        for name in drivers:
            if name not in self.arch.parameters:
                raise usage_error(f"unknown parameter `{name}` in {options.unknown_in('driver')}",
                                  did_you_mean(name, self.arch.parameters))
        timeline = np.arange(months + 1, dtype=float)
        batch = self.batch(scenario, sets, {"time": timeline})
        totals = [float(x) for x in batch.monthly_total]
        by_category = [{c: float(batch.by_category[c][i]) for c in ir.CATEGORIES} for i in range(months + 1)]
        crossed = None
        if budget is not None:
            crossed = next((i for i, t in enumerate(totals) if t > budget), None)
        traffic_params = [n for n, p in self.arch.parameters.items() if p.symbol in self.arch.traffic.free_symbols]
        scaling: dict[str, tuple[float, float]] = {}
        for when in (0, months):
            point = dict(sets or {})
            point["time"] = repr(float(when))
            at_time = self.evaluator.resolve(scenario, point)
            for name in list(dict.fromkeys(traffic_params + list(drivers))):
                if name == "time":
                    continue
                # Hold the driver at its value this month as an input of its own, so that a
                # driver computed from `time` (users growing 15% a month) has a derivative too.
                pinned = dict(point)
                pinned[name] = repr(float(at_time.values[name]))
                grads = self.gradient(resolution=self.evaluator.resolve(scenario, pinned))
                d_monthly, _, _, monthly = grads[name][:4]
                exponent = d_monthly * at_time.values[name] / monthly if monthly else 0.0
                first = scaling.get(name, (exponent, exponent))[0]
                scaling[name] = (first, exponent)
        return Projection(list(range(months + 1)), totals, by_category, budget, crossed, scaling,
                          [float(x) for x in batch.requests_per_month])

    # --- solving for a target ------------------------------------------------------------------
    def _target_values(self, batch: Batch, kind: str) -> np.ndarray:
        return {"monthly": batch.monthly_total, "per_request": batch.cost_per_request,
                "per_success": batch.cost_per_success}[kind]

    def _search_range(self, name: str, value: float, low: Optional[float], high: Optional[float]) -> tuple[float, float]:
        p = self.arch.parameters[name]
        lo = low if low is not None else (p.low if p.low is not None else 0.0)
        hi = high if high is not None else (p.high if p.high is not None else (value * 10 if value > 0 else 1.0))
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
            raise usage_error(f"the search range for `{name}` is empty or inverted: [{lo:g}, {hi:g}]",
                         f"give {options.search_range(both=True)} with low < high")
        return lo, hi

    def solve(self, parameter: str, target: float, kind: str = "monthly", scenario: Optional[str] = None,
              sets: Optional[Mapping[str, str]] = None, low: Optional[float] = None,
              high: Optional[float] = None, other: Optional["Analyzer"] = None,
              other_scenario: Optional[str] = None) -> Solution:
        """Every value of `parameter` in its range where the target is reached. With `other`,
        find where this model and the other cost the same instead (a crossover)."""
        if kind not in TARGETS:
            raise usage_error(f"unknown target `{kind}`", "one of: " + ", ".join(TARGETS))
        for analyzer in (self, other) if other is not None else (self,):
            if parameter not in analyzer.arch.parameters:
                raise usage_error(f"unknown parameter `{parameter}`", did_you_mean(parameter, analyzer.arch.parameters))
        resolution = self.evaluator.resolve(scenario, sets)
        if parameter not in resolution.inputs:
            raise usage_error(f"`{parameter}` is computed from other parameters here",
                         "solve for one of the parameters it is computed from")
        lo, hi = self._search_range(parameter, resolution.values[parameter], low, high)
        if other is None:
            exact = self._solve_symbolically(resolution, parameter, target, kind, lo, hi)
            if exact is not None:
                roots, degree = exact
                if not roots:
                    self._raise_unreachable(parameter, lo, hi, kind, scenario, sets, target)
                return Solution(parameter, kind, target, roots, lo, hi,
                                f"symbolic (a polynomial of degree {degree} in `{parameter}`)")

        def f(xs: np.ndarray) -> np.ndarray:
            values = self._target_values(self.batch(scenario, sets, {parameter: xs}, check=False,
                                                    categories=False), kind)
            if other is None:
                return values - target
            return values - other._target_values(other.batch(other_scenario, sets, {parameter: xs}, check=False,
                                                             categories=False), kind)

        grid = np.linspace(lo, hi, SOLVE_GRID)
        with np.errstate(all="ignore"):
            ys = f(grid)
        finite = np.isfinite(ys)
        zero = ys == 0
        if np.any(zero[:-1] & zero[1:]):
            i = int(np.argmax(zero[:-1] & zero[1:]))
            j = i
            while j + 1 < len(grid) and zero[j + 1]:
                j += 1
            raise usage_error(f"the target holds for every `{parameter}` in [{grid[i]:g}, {grid[j]:g}], "
                         "not at separate points", "the two sides do not depend on this parameter there")
        roots: list[float] = [float(x) for x, y in zip(grid, ys) if y == 0]
        brackets = [(grid[i], grid[i + 1]) for i in range(len(grid) - 1)
                    if finite[i] and finite[i + 1] and ys[i] * ys[i + 1] < 0]
        if brackets:
            a = np.array([b[0] for b in brackets])
            b = np.array([b[1] for b in brackets])
            fa, fb = f(a), f(b)
            for _ in range(200):  # bisection to machine precision, all brackets at once
                mid = (a + b) / 2
                fm = f(mid)
                left = np.sign(fm) == np.sign(fa)
                a, fa = np.where(left, mid, a), np.where(left, fm, fa)
                b, fb = np.where(left, b, mid), np.where(left, fb, fm)
                if np.all(b - a <= 4 * np.finfo(float).eps * np.maximum(1.0, np.abs(a))):
                    break
            # A continuous function is ~0 at the end of the bisection; a step (a price tier,
            # floor or ceil) still has a gap there: that is where the cost jumps over the target.
            scale = max(abs(target), float(np.nanmax(np.abs(ys[finite]))) if finite.any() else 1.0, 1e-12)
            step = np.minimum(np.abs(fa), np.abs(fb)) > 1e-7 * scale
            roots += [float(x) for x in ((a + b) / 2)[~step]]
            jumps = sorted({float(x) for x in b[step]})
        else:
            jumps = []
        roots = sorted(set(roots))
        against = None
        if other is not None:
            against = f"{other.arch.path}" + (f" scenario {other_scenario}" if other_scenario else "")
        if not roots and jumps:
            where = f"`{parameter}` = " + ", ".join(f"{x:.10g}" for x in jumps)
            if other is not None:
                raise usage_error(f"the two never cost the same exactly: the difference jumps over 0 at {where}",
                                  "a step such as a GPU replica more or a long-context price tier: one costs less "
                                  "on one side of it and more on the other")
            raise usage_error(f"the target is never met exactly: the {kind.replace('_', ' ')} cost jumps over it at "
                              f"{where}", "a step such as a GPU replica more or a long-context price tier; the cost "
                              "is below the target on one side of it and above on the other")
        if not roots:
            what = "the difference" if other is not None else f"the {kind.replace('_', ' ')} cost"
            raise _unreachable(parameter, lo, hi, what, ys[finite] + (0 if other is not None else target))
        return Solution(parameter, kind, target, roots, lo, hi, "numeric (bracketing and bisection)", against,
                        tuple(jumps))

    def _raise_unreachable(self, parameter, lo, hi, kind, scenario, sets, target):
        grid = np.linspace(lo, hi, SOLVE_GRID)
        with np.errstate(all="ignore"):
            values = self._target_values(self.batch(scenario, sets, {parameter: grid}, check=False,
                                                    categories=False), kind)
        raise _unreachable(parameter, lo, hi, f"the {kind.replace('_', ' ')} cost", values[np.isfinite(values)])

    def _solve_symbolically(self, resolution: Resolution, parameter: str, target: float, kind: str,
                            lo: float, hi: float, max_degree: int = 8):
        """Roots from the closed form, when the model is small and loop-free and the target,
        with every other parameter at its value, is a polynomial (after clearing
        denominators) in the parameter. None means: solve numerically instead."""
        m = self.model
        if m.loops or len(m.definitions) > 60:
            return None
        params = self.arch.parameters
        x = params[parameter].symbol
        values = {}
        for name in resolution.order:
            p = params[name]
            if name == parameter:
                continue
            if name in resolution.inputs:
                values[p.symbol] = sympy.Float(resolution.values[name], 17)
        expressions = {"monthly": m.monthly_total, "per_request": m.cost_per_request,
                       "per_success": m.cost_per_request / m.p_success}
        expr = m.closed_form(expressions[kind]).xreplace({ir.FAILURE_SWITCH: _ONE})
        for name in reversed(resolution.order):  # derived parameters, outermost first
            if name not in resolution.inputs and name != parameter:
                expr = expr.xreplace({params[name].symbol: resolution.definitions[name] / params[name].scale})
        expr = expr.xreplace(values)
        if expr.free_symbols - {x} or sympy.count_ops(expr) > 400:
            return None
        if expr.has(sympy.Min, sympy.Max, sympy.floor, sympy.ceiling, sympy.log, sympy.exp):
            return None
        numerator, denominator = sympy.fraction(sympy.together(expr - sympy.Float(target, 17)))
        numerator = sympy.expand(numerator)
        if not numerator.is_polynomial(x) or not denominator.is_polynomial(x):
            return None
        poly = sympy.Poly(numerator, x)
        if poly.is_zero:
            raise usage_error(f"the target holds for every `{parameter}`: it does not depend on it")
        if poly.degree() > max_degree:
            return None
        roots = []
        for r in poly.nroots(n=17, maxsteps=200):
            if abs(sympy.im(r)) > 1e-9 * max(1.0, abs(sympy.re(r))):
                continue
            value = float(sympy.re(r))
            if lo - 1e-12 * max(1.0, abs(lo)) <= value <= hi + 1e-12 * max(1.0, abs(hi)) \
                    and abs(float(denominator.subs(x, value))) > 1e-300:
                roots.append(min(max(value, lo), hi))
        return sorted(set(roots)), poly.degree()

    # --- sweeps ---------------------------------------------------------------------------------
    def sweep(self, grids: Sequence[tuple[str, np.ndarray]], scenario: Optional[str] = None,
              sets: Optional[Mapping[str, str]] = None) -> tuple[list[str], dict[str, np.ndarray], Batch]:
        names = [n for n, _ in grids]
        if len(set(names)) != len(names):
            raise usage_error(f"a parameter appears in two {options.grids()}")
        resolution = self.evaluator.resolve(scenario, sets)
        for name in names:
            if name not in self.arch.parameters:
                raise usage_error(f"unknown parameter `{name}` in {options.unknown_in('grid')}",
                                  did_you_mean(name, self.arch.parameters))
            if name not in resolution.inputs:
                raise usage_error(f"`{name}` is computed from other parameters here", "sweep one of its inputs instead")
        points = int(np.prod([len(v) for _, v in grids]))
        if points > MAX_GRID_POINTS:
            gib = points * (len(names) + 3) * 8 / 2**30
            raise usage_error(f"the grid has {points:,} points (about {gib:.1f} GiB of results); "
                         f"the limit is {MAX_GRID_POINTS:,}", f"use fewer points per {options.grid()}")
        mesh = np.meshgrid(*[v for _, v in grids], indexing="ij")
        arrays = {n: m.ravel() for n, m in zip(names, mesh)}
        return names, arrays, self.batch(scenario, sets, arrays, categories=False)
