"""Uncertain parameters: the distributions a `param` may be given, their point values, and
how they are sampled.

A leaf: plain Python and numpy, no sympy, so the numeric model and the Monte Carlo engine
(`montecarlo.py`) read it as they are. Every value here is in the parameter's declared
unit (the unit the file wrote it in).

The kinds, with the arguments a `Distribution` keeps:

| kind | written | args | sampled as |
|---|---|---|---|
| lognormal | `300 to 900 tokens`, `lognormal(p5, p95)` | (p5, p95) | exp(mu + s Z) |
| logitnormal | `20% to 40%`, `logitnormal(p5, p95)` | (p5, p95) | 1 / (1 + exp(-(mu + s Z))) |
| normal | `-5 to 5`, `normal(mean, sd)` | (mean, sd) | mean + sd Z |
| uniform | `uniform(lo, hi)` | (lo, hi) | lo + (hi - lo) U |
| triangular | `triangular(lo, mode, hi)` | (lo, mode, hi) | its inverse CDF at U |
| pert | `pert(lo, mode, hi)` | (lo, mode, hi) | lo + (hi - lo) Beta(1 + 4(mode - lo)/(hi - lo), 1 + 4(hi - mode)/(hi - lo)) |
| beta | `beta(a, b)` | (a, b) | Beta(a, b) |
| choice | `choice { 70%: x, 30%: y }` | the values | values[k] with probability weights[k] |

`a to b` is a 90% interval (a is the 5th percentile, b the 95th): a logit-normal when both
ends are shares strictly between 0 and 1, a lognormal when both are positive, else a
normal. Z is a standard normal, U a uniform on [0, 1).

The point value every deterministic command uses is the distribution's **median**.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Optional, Sequence

from llmarch.dsl.diagnostics import Span

__all__ = ["Distribution", "KINDS", "FUNCTIONS", "Z95", "interval_kind", "beta_median", "regularized_beta",
           "stream", "rank_to_pearson"]

#: Φ⁻¹(0.95): a 90% interval spans mean ± Z95 standard deviations of a normal.
Z95 = 1.6448536269514722

#: The kinds, in the order docs list them.
KINDS = ("lognormal", "logitnormal", "normal", "uniform", "triangular", "pert", "beta", "choice")

#: The distribution functions a file may call, with their argument names.
FUNCTIONS = {"normal": ("mean", "sd"), "lognormal": ("p5", "p95"), "logitnormal": ("p5", "p95"),
             "uniform": ("low", "high"), "triangular": ("low", "mode", "high"), "pert": ("low", "mode", "high"),
             "beta": ("a", "b")}

_NAMES = {"lognormal": "lognormal", "logitnormal": "logit-normal", "normal": "normal", "uniform": "uniform",
          "triangular": "triangular", "pert": "PERT", "beta": "beta", "choice": "choice"}


def interval_kind(low: float, high: float, dimensionless: bool) -> str:
    """The kind `low to high` stands for (see the module's table)."""
    if dimensionless and 0 < low and high < 1:
        return "logitnormal"
    if low > 0:
        return "lognormal"
    return "normal"


@dataclass(frozen=True)
class Distribution:
    """One uncertain value: `kind` (of `KINDS`), its `args` (declared units), the weights of
    a `choice`, and where and how it was written."""

    kind: str
    args: tuple[float, ...]
    weights: tuple[float, ...] = ()
    span: Optional[Span] = field(default=None, compare=False)
    written: str = field(default="", compare=False)     # the source text, `20% to 40%`

    # --- the shape ---------------------------------------------------------------------------
    def scaled(self, factor: float) -> "Distribution":
        """The same distribution of `factor` times the value (a change of unit)."""
        if factor == 1 or self.kind in ("beta", "logitnormal"):
            return self
        if self.kind == "normal":
            mean, sd = self.args
            return Distribution("normal", (mean * factor, sd * abs(factor)), (), self.span, self.written)
        return Distribution(self.kind, tuple(a * factor for a in self.args), self.weights, self.span, self.written)

    @property
    def _log_params(self) -> tuple[float, float]:
        """(mu, s) of the normal under a lognormal's log or a logit-normal's logit."""
        low, high = self.args
        f = math.log if self.kind == "lognormal" else _logit
        return (f(low) + f(high)) / 2, (f(high) - f(low)) / (2 * Z95)

    @property
    def _beta_shape(self) -> tuple[float, float, float, float]:
        """(a, b, low, width) of a beta or PERT on [low, low + width]."""
        if self.kind == "beta":
            return self.args[0], self.args[1], 0.0, 1.0
        low, mode, high = self.args
        width = high - low
        return 1 + 4 * (mode - low) / width, 1 + 4 * (high - mode) / width, low, width

    @property
    def median(self) -> float:
        """The point value: the value the guess is as likely to fall below as above (for a
        `choice`, the lower weighted median)."""
        kind, args = self.kind, self.args
        if kind == "normal":
            return args[0]
        if kind == "lognormal":
            return math.sqrt(args[0] * args[1])
        if kind == "logitnormal":
            return _logistic(self._log_params[0])
        if kind == "uniform":
            return (args[0] + args[1]) / 2
        if kind == "triangular":
            low, mode, high = args
            if mode - low >= (high - low) / 2:
                return low + math.sqrt((high - low) * (mode - low) / 2)
            return high - math.sqrt((high - low) * (high - mode) / 2)
        if kind in ("pert", "beta"):
            a, b, low, width = self._beta_shape
            return low + width * beta_median(a, b)
        # choice: the smallest value whose cumulative weight reaches one half
        total = 0.0
        for weight, value in sorted(zip(self.weights, args), key=lambda wv: wv[1]):
            total += weight
            if total >= 0.5 - 1e-12:
                return value
        return max(args)

    @property
    def mean(self) -> float:
        """The expectation (a logit-normal's by 64-point Gauss–Hermite quadrature)."""
        kind, args = self.kind, self.args
        if kind == "normal":
            return args[0]
        if kind == "lognormal":
            mu, s = self._log_params
            return math.exp(mu + s * s / 2)
        if kind == "logitnormal":
            import numpy as np
            mu, s = self._log_params
            x, w = np.polynomial.hermite.hermgauss(64)
            return float(np.sum(w / (1 + np.exp(-(mu + math.sqrt(2) * s * x)))) / math.sqrt(math.pi))
        if kind == "uniform":
            return (args[0] + args[1]) / 2
        if kind == "triangular":
            return sum(args) / 3
        if kind in ("pert", "beta"):
            a, b, low, width = self._beta_shape
            return low + width * a / (a + b)
        return sum(w * v for w, v in zip(self.weights, args))

    def describe(self, show=str, unit: str = "") -> str:
        """How `simulate`, `explain` and the docs name it: "logit-normal, 90% interval 20% to
        40%"; `show` formats a value, `unit` (with its leading space) follows the last one."""
        name, args, u = _NAMES[self.kind], self.args, unit
        if self.kind in ("lognormal", "logitnormal"):
            return f"{name}, 90% interval {show(args[0])} to {show(args[1])}{u}"
        if self.kind == "normal":
            return f"normal, mean {show(args[0])}{u}, sd {show(args[1])}{u}"
        if self.kind == "uniform":
            return f"uniform from {show(args[0])} to {show(args[1])}{u}"
        if self.kind in ("triangular", "pert"):
            return f"{name} from {show(args[0])} to {show(args[2])}{u}, mode {show(args[1])}{u}"
        if self.kind == "beta":
            return f"beta(a = {args[0]:g}, b = {args[1]:g})"
        return "choice of " + ", ".join(f"{show(v)}{u} ({w * 100:.4g}%)" for w, v in zip(self.weights, args))

    # --- sampling ----------------------------------------------------------------------------
    def sample(self, rng, size: int):
        """`size` independent draws (declared units) from `rng`, a numpy Generator. The
        normal family transforms standard normals and uniform, triangular and choice
        transform uniforms, so a scenario that changes the distribution within a family
        keeps each sample's rank (common random numbers)."""
        import numpy as np
        kind, args = self.kind, self.args
        if kind == "normal":
            return args[0] + args[1] * rng.standard_normal(size)
        if kind in ("lognormal", "logitnormal"):
            mu, s = self._log_params
            z = mu + s * rng.standard_normal(size)
            return np.exp(z) if kind == "lognormal" else 1 / (1 + np.exp(-z))
        if kind in ("pert", "beta"):
            a, b, low, width = self._beta_shape
            return low + width * rng.beta(a, b, size)
        u = rng.random(size)
        if kind == "uniform":
            return args[0] + (args[1] - args[0]) * u
        if kind == "triangular":
            low, mode, high = args
            width = high - low
            cut = (mode - low) / width
            return np.where(u < cut, low + np.sqrt(u * width * (mode - low)),
                            high - np.sqrt((1 - u) * width * (high - mode)))
        cumulative = np.cumsum(self.weights)
        cumulative[-1] = 1.0
        index = np.searchsorted(cumulative, u, side="right")
        return np.asarray(args, dtype=float)[np.minimum(index, len(args) - 1)]


# --- the random streams ------------------------------------------------------------------------------

def stream(seed: int, name: str, chunk: int):
    """The numpy Generator of parameter `name` for chunk `chunk` of a run with `seed`. A
    parameter's draws depend only on these three, never on which other parameters are
    uncertain or on the scenario: scenarios, `diff` sides and projection months then share
    their random numbers, and their differences are not noise."""
    import numpy as np
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    words = [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4)]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed & 0xFFFFFFFF, seed >> 32, *words, chunk])))


def rank_to_pearson(rank: float) -> float:
    """The correlation of a Gaussian copula whose Spearman rank correlation is `rank`."""
    return 2 * math.sin(math.pi * rank / 6)


# --- special functions (pure Python: no scipy) ---------------------------------------------------------

def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _logistic(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), the CDF of Beta(a, b) at x: Lentz's continued fraction (Numerical
    Recipes §6.4), relative error about 1e-15."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(x, a, b) / a
    return 1 - front * _beta_fraction(1 - x, b, a) / b


def _beta_fraction(x: float, a: float, b: float) -> float:
    tiny, eps = 1e-300, 1e-16
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        for numerator in (m * (b - m) * x / ((a + m2 - 1) * (a + m2)),
                          -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1) < eps:
            break
    return h


def beta_median(a: float, b: float) -> float:
    """The median of Beta(a, b): I_x(a, b) = 1/2 solved by bisection to the last bit."""
    if a == b:
        return 0.5
    low, high = 0.0, 1.0
    for _ in range(200):
        mid = (low + high) / 2
        if mid in (low, high):
            break
        if regularized_beta(mid, a, b) < 0.5:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def weighted(values: Sequence[float], weights: Sequence[float]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """A choice's values and weights, normalized to add up to 1."""
    total = sum(weights)
    return tuple(values), tuple(w / total for w in weights)
