"""Variance-based sensitivity: which guess matters most.

For the monthly total Y as a function of the uncertain parameters X1 … Xk (treated as
independent: Sobol indices are defined for independent inputs, so declared correlations
are set aside and the result says so), the first-order index S_i is the share of Var(Y)
that X_i explains alone, and the total index ST_i the share it explains with all its
interactions. Estimated by Saltelli's scheme: two independent sample matrices A and B of
N rows, and for each i the matrix AB_i, A with column i taken from B — N (k + 2) model
evaluations, each the exact expected cost at those values (the same generated code as
`cost`). Estimators (Saltelli et al. 2010, Jansen 1999):

    S_i  = mean(f(B) · (f(AB_i) − f(A))) / Var(Y)
    ST_i = mean((f(A) − f(AB_i))²) / (2 Var(Y))

with Var(Y) the variance of f(A) and f(B) together, every f centred on their mean first
(the same estimators in expectation, much less noisy when the bill is large next to its
spread). Their 95% confidence intervals are
percentile bootstrap intervals over `BOOTSTRAP` resamples of the N rows (seeded, so the
same seed gives the same intervals).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Optional

import numpy as np

from .distributions import Distribution, stream
from .montecarlo import monthly_totals

__all__ = ["SobolIndex", "SobolResult", "sobol", "DEFAULT_BASE", "BOOTSTRAP"]

#: Base samples N by default (N (k + 2) evaluations).
DEFAULT_BASE = 10_000
BOOTSTRAP = 200
_ROWS = 1 << 16        # rows evaluated per call (the evaluator blocks further by memory)


@dataclass(frozen=True)
class SobolIndex:
    parameter: str
    first_order: float
    first_order_ci: tuple[float, float]
    total: float
    total_ci: tuple[float, float]
    distribution: Distribution

    def to_json(self) -> dict:
        return {"parameter": self.parameter, "first_order": self.first_order,
                "first_order_ci": list(self.first_order_ci), "total": self.total, "total_ci": list(self.total_ci)}


@dataclass
class SobolResult:
    architecture: str
    scenario: Optional[str]
    base: int
    seed: int
    mean: float
    variance: float
    indices: list[SobolIndex]                 # ranked by total index, largest first
    units: dict[str, Optional[str]]
    correlated: bool                          # the file declares correlations these indices ignore
    sets: dict

    @property
    def evaluations(self) -> int:
        return self.base * (len(self.indices) + 2)


def sobol(model, scenario: Optional[str] = None, sets: Optional[Mapping[str, object]] = None,
          base: int = DEFAULT_BASE, seed: int = 0, bootstrap: int = BOOTSTRAP) -> SobolResult:
    """First-order and total Sobol indices of the monthly total for every uncertain
    parameter of `scenario` (`model`: an Evaluator or a cached NumericModel)."""
    from llmarch.dsl.diagnostics import usage_error

    if not 2 <= base <= 10_000_000:
        raise usage_error(f"the base sample count must be between 2 and 10,000,000, got {base:,}")
    model.point(scenario, sets)               # the point values are valid, the scenario exists
    uncertain = model.uncertain(scenario, pinned=set(sets or ()))
    if not uncertain:
        raise usage_error("no parameter is uncertain here: give some a distribution (`param x = 20% to 40%`) "
                          "for variance-based sensitivity", "exact derivatives: `llmarch sensitivity FILE`")
    names = list(uncertain)
    a = {n: d.sample(stream(seed, "sobol:A:" + n, 0), base) for n, d in uncertain.items()}
    b = {n: d.sample(stream(seed, "sobol:B:" + n, 0), base) for n, d in uncertain.items()}

    def evaluate(arrays: dict) -> np.ndarray:
        out = np.empty(base)
        for start in range(0, base, _ROWS):
            part = {n: v[start:start + _ROWS] for n, v in arrays.items()}
            size = min(_ROWS, base - start)
            out[start:start + size] = monthly_totals(model.layout, model.sampled_outputs(scenario, sets, part), size)
        return out

    fa, fb = evaluate(a), evaluate(b)
    fab = np.empty((len(names), base))
    for i, n in enumerate(names):
        fab[i] = evaluate({**a, n: b[n]})
    both = np.concatenate([fa, fb])
    mean = float(np.mean(both))
    variance = float(np.var(both, ddof=1))
    # centred: the estimators are unchanged in expectation, and far less noisy when the
    # mean is large next to the spread (a bill of $7,500 ± $800)
    fa, fb, fab = fa - mean, fb - mean, fab - mean
    first, total = _estimates(fa, fb, fab, variance)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed & 0xFFFFFFFF, seed >> 32, 0x5B0B])))
    boot_first = np.empty((bootstrap, len(names)))
    boot_total = np.empty((bootstrap, len(names)))
    for r in range(bootstrap):
        idx = rng.integers(0, base, base)
        ra, rb, rab = fa[idx], fb[idx], fab[:, idx]
        v = float(np.var(np.concatenate([ra, rb]), ddof=1))
        boot_first[r], boot_total[r] = _estimates(ra, rb, rab, v)
    indices = []
    for i, n in enumerate(names):
        indices.append(SobolIndex(n, float(first[i]), _interval(boot_first[:, i]), float(total[i]),
                                  _interval(boot_total[:, i]), uncertain[n]))
    indices.sort(key=lambda x: (-x.total, -x.first_order, x.parameter))
    units = model.units
    return SobolResult(model.title, scenario, base, seed, mean, variance, indices,
                       {n: units[n] for n in names},
                       any(c.first in uncertain and c.second in uncertain for c in model.correlations),
                       dict(sets or {}))


def _estimates(fa: np.ndarray, fb: np.ndarray, fab: np.ndarray, variance: float) -> tuple[np.ndarray, np.ndarray]:
    if not variance > 0 or not math.isfinite(variance):
        return np.zeros(fab.shape[0]), np.zeros(fab.shape[0])
    first = np.mean(fb * (fab - fa), axis=1) / variance
    total = np.mean((fa - fab) ** 2, axis=1) / (2 * variance)
    return first, total


def _interval(values: np.ndarray) -> tuple[float, float]:
    lo, hi = np.quantile(values, [0.025, 0.975])
    return float(lo), float(hi)
