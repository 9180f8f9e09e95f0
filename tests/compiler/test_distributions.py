"""The distributions of uncertain parameters (compiler/distributions.py), against closed
forms derived by hand: medians and means of every kind, the percentiles of `a to b`
intervals, the regularized incomplete beta function, the random streams, and rank
correlations applied by reordering.

Sampled checks use a fixed seed, and their tolerances come from the sampling distribution
they check, never from a guess: the rank of an empirical quantile is binomial, a sample
Spearman correlation has a standard deviation of about 1/sqrt(n). Each is allowed 5
standard deviations, so a failure means a bug, not bad luck (about 6e-7 per check for an
arbitrary seed).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

import llmarch

#: Standard deviations a sampled check is allowed (see the module's docstring).
SIGMAS = 5
Z95 = NormalDist().inv_cdf(0.95)


def distribution_of(value: str, name: str = "x"):
    """The distribution the language makes of `param x = value`, with the point value
    `cost` uses (declared units)."""
    model = llmarch.loads(f'architecture "d"\nparam {name} = {value}\ntraffic = 1 requests/day\n'
                          "tool t { cost = 0 USD }\nflow { start -> t }\n")
    return model.compiled.arch.parameters[name].distribution, model.parameters[name]


def rank_window(n: int, q: float) -> tuple[int, int]:
    """The 0-based ranks between which the q-quantile of n samples falls, SIGMAS binomial
    standard deviations either side: the number of samples below the true q-quantile is
    Binomial(n, q), with standard deviation sqrt(n q (1 - q))."""
    half = SIGMAS * math.sqrt(n * q * (1 - q))
    return max(0, math.floor(n * q - half)), min(n - 1, math.ceil(n * q + half))


# --- `a to b` is a 90% interval -------------------------------------------------------------

@pytest.mark.parametrize("value, kind, low, high", [
    ("300 to 900 tokens", "lognormal", 300, 900),      # positive amounts: lognormal
    ("2 to 8", "lognormal", 2, 8),                     # positive numbers beyond 1: lognormal
    ("20% to 40%", "logitnormal", 0.2, 0.4),           # shares: logit-normal
    ("-5 to 15", "normal", -5, 15),                    # reaching zero or below: normal
    ("-30% to 10%", "normal", -0.3, 0.1),
])
def test_an_interval_has_its_ends_as_5th_and_95th_percentiles(value, kind, low, high):
    d, _ = distribution_of(value)
    assert d.kind == kind
    n = 200_000
    samples = np.sort(d.sample(np.random.default_rng(20261203), n))
    for q, end in ((0.05, low), (0.95, high)):
        first, last = rank_window(n, q)
        assert samples[first] <= end <= samples[last], (q, end, samples[first], samples[last])


def test_a_normal_interval_is_centred_on_its_ends():
    # `-5 to 15` is the normal with 5th percentile -5 and 95th 15: mean and median 5,
    # sd 10 / Φ⁻¹(0.95); the point value `cost` uses is that median, exactly
    d, point = distribution_of("-5 to 15")
    assert d.args == pytest.approx((5.0, 10 / Z95), rel=1e-15)
    assert d.median == 5.0 and d.mean == 5.0
    assert point == 5.0
