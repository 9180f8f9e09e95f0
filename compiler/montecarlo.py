"""Monte Carlo over the uncertain parameters, on the compiled model.

Each sample is a point of parameter values drawn from the file's distributions; at each
point the model is evaluated by the same generated numpy code as `cost` (the exact
absorbing-chain solution, never a random walk), a chunk of `CHUNK` samples at a time. So a
simulation is `cost` at many points, and where every distribution collapses to a point it
is `cost`.

Random numbers: parameter `x`'s draws in chunk k come from a generator seeded by (seed, x,
k) alone (`distributions.stream`), so two scenarios, two `diff` sides or two months of a
projection run with the same seed share them (common random numbers): their difference is
the model's, not noise. Correlated parameters are reordered within each chunk to the ranks
of correlated normal scores (a Gaussian copula, applied as Iman and Conover do), which
keeps every marginal exactly as declared.

Statistics: the mean and standard deviation of every figure over all samples (the Monte
Carlo standard error of the mean is sd / sqrt(n)); quantiles from the samples themselves
up to `KEEP` samples, beyond that from a uniform subsample of `KEEP` (the samples are
independent, so the first samples of each chunk, in proportion, are one), and for each
component's monthly cost from at most `KEEP_COMPONENTS`; their
uncertainty is the distribution-free order-statistic interval (`Summary.interval`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import numpy as np

from .distributions import Distribution, rank_to_pearson, stream
from .metrics import CATEGORIES, SAMPLED_METRICS

__all__ = ["CHUNK", "KEEP", "DEFAULT_SAMPLES", "QUANTILES", "Summary", "Simulation", "draw", "simulate",
           "MAX_SAMPLES", "monthly_totals", "ProjectionRisk", "project_risk"]

#: Samples per chunk: the unit of the random streams (fixed, so results never depend on memory).
CHUNK = 1 << 16
#: Samples kept per figure for quantiles and probabilities (beyond: a uniform subsample).
KEEP = 1_000_000
#: The same for each component's monthly cost, a detail next to the totals: its quantiles
#: come from a uniform subsample of at most this many (their means and sds from every sample).
KEEP_COMPONENTS = 200_000
#: The default sample count: the examples' p95 of the monthly total moves by under 1%
#: between seeds at this count (bench/bench_uncertainty.py measures it).
DEFAULT_SAMPLES = 50_000
#: The most samples one run takes (a run of this many stays under 2 GiB: see docs/uncertainty.md).
MAX_SAMPLES = 1_000_000_000
#: The quantiles every summary reports.
QUANTILES = (0.05, 0.5, 0.95, 0.99)
_Z = 1.959963984540054   # two-sided 95%


@dataclass(frozen=True)
class Summary:
    """One figure over the samples: mean, standard deviation, the standard error of the
    mean, quantiles, and the kept samples themselves: `raw` in sample order (sample i of
    two runs with one seed is the same draw), `kept` sorted (made when first asked for)."""

    mean: float
    sd: float
    se: float
    quantiles: dict[float, float]
    raw: np.ndarray = field(repr=False, compare=False)
    n: int = 0

    @functools.cached_property
    def kept(self) -> np.ndarray:
        """The kept samples, sorted."""
        return np.sort(self.raw)

    @property
    def p5(self) -> float:
        return self.quantiles[0.05]

    @property
    def p50(self) -> float:
        return self.quantiles[0.5]

    @property
    def p95(self) -> float:
        return self.quantiles[0.95]

    @property
    def p99(self) -> float:
        return self.quantiles[0.99]

    def quantile(self, q: float) -> float:
        return float(np.quantile(self.raw, q)) if self.raw.size else math.nan

    def interval(self, q: float) -> tuple[float, float]:
        """A 95% confidence interval for the q-quantile: the order statistics at ranks
        q·m ± 1.96·sqrt(m·q·(1 − q)) of the m kept samples (distribution-free)."""
        m = self.kept.size
        if m == 0:
            return math.nan, math.nan
        half = _Z * math.sqrt(m * q * (1 - q))
        lo, hi = max(0, math.floor(q * m - half) - 1), min(m - 1, math.ceil(q * m + half))
        return float(self.kept[lo]), float(self.kept[hi])

    def probability(self, op: str, threshold: float) -> tuple[float, float]:
        """P(figure op threshold) and its standard error."""
        m = self.kept.size
        if m == 0:
            return math.nan, math.nan
        side = "left" if op in (">=", "<") else "right"
        below = int(np.searchsorted(self.kept, threshold, side=side))   # count < t (left) or <= t (right)
        p = below / m if op in ("<", "<=") else 1 - below / m
        return p, math.sqrt(max(p * (1 - p), 1 / m) / m)

    def to_json(self) -> dict:
        out = {"mean": self.mean, "sd": self.sd, "se_mean": self.se}
        for q in QUANTILES:
            out[_qname(q)] = self.quantiles[q]
        return out


def _qname(q: float) -> str:
    return f"p{q * 100:g}"


@dataclass
class Simulation:
    """A Monte Carlo run of one scenario: what was uncertain, and every figure's summary."""

    architecture: str
    scenario: Optional[str]
    samples: int
    seed: int
    uncertain: dict[str, Distribution]
    units: dict[str, Optional[str]]
    figures: dict[str, Summary]             # monthly_total, cost_per_request, cost_per_success, p_success, monthly_<c>
    components: dict[str, Summary]          # monthly cost by cost-table row (fixed costs too)
    categories: dict[str, str]              # component row -> its cost vector
    point: Optional[object] = None          # the CostResult at the point values (medians)
    sets: dict = field(default_factory=dict)
    correlations: list = field(default_factory=list)

    @property
    def subsampled(self) -> bool:
        return self.samples > KEEP


FIGURES = SAMPLED_METRICS


def draw(uncertain: Mapping[str, Distribution], correlations: Sequence, seed: int, chunk: int,
         size: int) -> dict[str, np.ndarray]:
    """One chunk's samples of every uncertain parameter (declared units), correlated."""
    values = {name: d.sample(stream(seed, name, chunk), size) for name, d in uncertain.items()}
    pairs = [c for c in correlations if c.first in values and c.second in values]
    if pairs and size > 1:
        names = sorted({n for c in pairs for n in (c.first, c.second)})
        index = {n: i for i, n in enumerate(names)}
        matrix = np.eye(len(names))
        for c in pairs:
            matrix[index[c.first], index[c.second]] = matrix[index[c.second], index[c.first]] = rank_to_pearson(c.rank)
        # a semi-definite matrix (checked when the file compiled) may be singular: eigen, not Cholesky
        w, v = np.linalg.eigh(matrix)
        root = v * np.sqrt(np.clip(w, 0, None))
        scores = np.column_stack([stream(seed, "copula:" + n, chunk).standard_normal(size) for n in names]) @ root.T
        for n in names:
            # the k-th smallest score gets the k-th smallest value
            reordered = np.empty(size)
            reordered[np.argsort(scores[:, index[n]])] = np.sort(values[n])
            values[n] = reordered
    return values


class _Accumulator:
    """Running mean and variance (Chan et al.'s pairwise update) and the kept samples. A
    figure that does not depend on any sampled parameter comes as one number per chunk:
    it is kept as that number until a chunk varies (its summary is then exact and cheap)."""

    __slots__ = ("n", "mean", "m2", "kept", "constant")

    def __init__(self):
        self.n, self.mean, self.m2, self.kept = 0, 0.0, 0.0, []
        self.constant: Optional[tuple[float, int]] = None    # (value, how many kept) while every chunk was it

    def add(self, x, size: int, keep: int) -> None:
        """The chunk's `size` values: an array, or one number for all of them."""
        if size == 0:
            return
        if np.ndim(x) == 0:
            value = float(x)
            if self.n == 0 or (self.constant is not None and self.constant[0] == value):
                kept = self.constant[1] if self.constant is not None else 0
                self.constant = (value, kept + keep)
                self.n += size
                self.mean = value
                return
            x = np.full(size, value)
        elif self.constant is not None:   # the figure varies after all: make the constant chunks real
            value, kept = self.constant
            self.kept.append(np.full(kept, value))
            self.constant = None
        mean = float(np.mean(x))
        m2 = float(np.sum((x - mean) ** 2))
        delta = mean - self.mean
        total = self.n + size
        self.mean += delta * size / total
        self.m2 += m2 + delta * delta * self.n * size / total
        self.n = total
        if keep:
            # a slice would keep the whole chunk alive: copy the part kept (past KEEP samples)
            self.kept.append(x if keep >= x.size else x[:keep].copy())

    def summary(self) -> Summary:
        if self.constant is not None:
            value, kept = self.constant
            return Summary(value, 0.0, 0.0, {q: value for q in QUANTILES}, np.broadcast_to(np.float64(value), (kept,)),
                           self.n)
        raw = np.concatenate(self.kept) if self.kept else np.empty(0)
        sd = math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else 0.0
        quantiles = {q: float(v) for q, v in zip(QUANTILES, np.quantile(raw, QUANTILES))} if raw.size else \
            {q: math.nan for q in QUANTILES}
        return Summary(self.mean, sd, sd / math.sqrt(self.n) if self.n else math.nan, quantiles, raw, self.n)


def simulate(model, scenario: Optional[str] = None, sets: Optional[Mapping[str, object]] = None,
             samples: int = DEFAULT_SAMPLES, seed: int = 0, components: bool = True) -> Simulation:
    """Monte Carlo of `scenario` (with `--set` values, which pin their parameters) on an
    `evaluate.Evaluator` or a cached `numeric.NumericModel` (they answer the same questions
    with the same generated code). Raises what `cost` raises, and E4xx when some sampled
    point breaks a check (notes name the sampled parameters it depends on)."""
    from llmarch.dsl.diagnostics import usage_error

    if not 1 <= samples <= MAX_SAMPLES:
        raise usage_error(f"the sample count must be between 1 and {MAX_SAMPLES:,}, got {samples:,}")
    if not 0 <= seed < 2 ** 64:
        raise usage_error(f"the seed must be a whole number from 0 to 2^64 - 1, got {seed}")
    point = model.point(scenario, sets)      # checks the point values, and that the scenario exists
    uncertain = model.uncertain(scenario, pinned=set(sets or ()))
    correlations = [c for c in model.correlations if c.first in uncertain and c.second in uncertain]
    layout = model.layout
    rows = model.row_infos
    fixed = list(model.fixed_items)
    figures = {name: _Accumulator() for name in FIGURES}
    parts = {row.key: _Accumulator() for row in rows} if components else {}
    parts.update({name: _Accumulator() for name, *_ in fixed} if components else {})
    s = {name: layout.span(name) for name, _ in layout.blocks}
    for chunk, start in enumerate(range(0, samples, CHUNK)):
        size = min(CHUNK, samples - start)
        keep = _keep(samples, start, size)
        keep_part = _keep(samples, start, size, KEEP_COMPONENTS)
        arrays = draw(uncertain, correlations, seed, chunk, size)
        out = _checked(model, scenario, sets, arrays, uncertain)   # no arrays: the point, every sample
        # an output no sampled parameter reaches stays one number (the accumulators keep it so)
        out = [v if np.ndim(v) == 0 else np.asarray(v, dtype=float) for v in out]
        cpr, ps, rpm = out[s["cost_per_request"].start], out[s["p_success"].start], out[s["requests_per_month"].start]
        per_cat = out[s["per_request_by_category"]]
        fixed_cat = out[s["fixed_by_category"]]
        fixed_total = sum(fixed_cat)
        monthly = rpm * cpr + fixed_total
        with np.errstate(divide="ignore", invalid="ignore"):
            per_success = np.where(np.asarray(ps) > 0, cpr / np.where(np.asarray(ps) > 0, ps, 1), np.inf)
        values = {"monthly_total": monthly, "cost_per_request": cpr, "cost_per_success": per_success, "p_success": ps}
        for c, pr, fx in zip(CATEGORIES, per_cat, fixed_cat):
            values[f"monthly_{c}"] = pr * rpm + fx
        for name, acc in figures.items():
            acc.add(values[name], size, keep)
        if components:
            visits, costs = out[s["row_visits"]], out[s["row_cost"]]
            for row, v, c in zip(rows, visits, costs):
                parts[row.key].add(v * c * rpm, size, keep_part)
            for (name, *_), value in zip(fixed, out[s["fixed_items"]]):
                parts[name].add(value, size, keep_part)
    categories = {row.key: row.category for row in rows}
    categories.update((name, category) for name, category, *_ in fixed)
    units = model.units
    return Simulation(model.title, scenario, samples, seed, uncertain, {n: units[n] for n in uncertain},
                      {name: acc.summary() for name, acc in figures.items()},
                      {name: acc.summary() for name, acc in parts.items()}, categories, point, dict(sets or {}),
                      correlations)


def monthly_totals(layout, out: list, size: int) -> np.ndarray:
    """The monthly total at each point from the evaluator's outputs (`layout` names them)."""
    cpr = np.broadcast_to(np.asarray(out[layout.span("cost_per_request").start], dtype=float), (size,))
    rpm = np.broadcast_to(np.asarray(out[layout.span("requests_per_month").start], dtype=float), (size,))
    fixed = sum(np.asarray(x, dtype=float) for x in out[layout.span("fixed_by_category")])
    return rpm * cpr + fixed


def _keep(samples: int, start: int, size: int, limit: int = KEEP) -> int:
    """How many of this chunk's samples the kept subsample takes (all, up to `limit`)."""
    if samples <= limit:
        return size
    return limit * (start + size) // samples - limit * start // samples


def _checked(model, scenario, sets, arrays, uncertain) -> list:
    """The outputs at the chunk's points, after the checks; a failure gets notes that sampled
    values did it, naming the uncertain parameters it depends on and where they are declared."""
    from dataclasses import replace

    from llmarch.dsl.diagnostics import LlmarchError

    try:
        return model.sampled_outputs(scenario, sets, arrays)
    except LlmarchError as exc:
        dependencies = model.dependencies(scenario, sets)

        def sampled(names) -> list[str]:
            seen, stack = set(), list(names)
            while stack:
                name = stack.pop()
                if name not in seen:
                    seen.add(name)
                    stack += dependencies(name)
            return [n for n in uncertain if n in seen]

        help_text = ("a distribution with unbounded tails (a normal) on a share or an amount can leave its "
                     "range: prefer an interval `a to b`, `pert` or `beta`")
        out = []
        for d in exc.diagnostics:
            names = next((sampled(c.parameters) for c in model.check_infos if c.span == d.span), list(uncertain))
            notes = tuple((f"`{n}` is sampled from the distribution declared here", uncertain[n].span)
                          for n in names if uncertain[n].span is not None)
            out.append(replace(d, message=d.message + " (at some sampled parameter values)", help=help_text,
                               notes=tuple(d.notes) + notes))
        raise LlmarchError(out, exc.sources) from None


@dataclass(frozen=True)
class ProjectionRisk:
    """A projection over uncertain parameters: each month's monthly total over the samples
    (common random numbers: the same draws every month) and the chance it exceeds a budget."""

    samples: int
    seed: int
    budget: Optional[float]
    quantiles: list[tuple[float, float, float]]      # per month: p5, p50, p95
    over_budget: list[Optional[float]]              # per month: P(monthly total > budget)

    def first_month_over(self, chance: float) -> Optional[int]:
        """The first month in which P(monthly total > budget) exceeds `chance`, or None."""
        return next((m for m, p in enumerate(self.over_budget) if p is not None and p > chance), None)

    def to_json(self) -> dict:
        return {"samples": self.samples, "seed": self.seed, "budget": self.budget,
                "months": [{"p5": a, "p50": b, "p95": c, "p_over_budget": p}
                           for (a, b, c), p in zip(self.quantiles, self.over_budget)],
                "first_month_p_over_10": self.first_month_over(0.10),
                "first_month_p_over_50": self.first_month_over(0.50)}


def project_risk(model, scenario: Optional[str], sets: Optional[Mapping[str, object]], months: int,
                 budget: Optional[float], samples: int = DEFAULT_SAMPLES, seed: int = 0) -> Optional[ProjectionRisk]:
    """`ProjectionRisk` for months 0 … `months` of the built-in `time`, or None when no
    parameter is uncertain in `scenario`."""
    if not model.uncertain(scenario, pinned=set(sets or ())):
        return None
    quantiles, over = [], []
    for month in range(months + 1):
        run = simulate(model, scenario, {**(sets or {}), "time": repr(float(month))}, samples, seed, components=False)
        s = run.figures["monthly_total"]
        quantiles.append((s.p5, s.p50, s.p95))
        over.append(s.probability(">", budget)[0] if budget is not None else None)
    return ProjectionRisk(samples, seed, budget, quantiles, over)
