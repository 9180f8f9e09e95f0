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
from llmarch.compiler.distributions import beta_median, regularized_beta, stream
from llmarch.compiler.montecarlo import CHUNK, draw

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


# --- medians (the point values) and means, by hand ------------------------------------------

def test_lognormal_median_and_mean():
    # ln X ~ N(mu, s): the 90% interval (300, 900) puts mu at the midpoint of the logs, so the
    # median e^mu is the geometric mean sqrt(300 × 900); the mean is e^(mu + s²/2)
    d, point = distribution_of("300 to 900 tokens")
    mu, s = (math.log(300) + math.log(900)) / 2, (math.log(900) - math.log(300)) / (2 * Z95)
    assert d.median == pytest.approx(math.sqrt(300 * 900), rel=1e-15)
    assert point == pytest.approx(math.sqrt(300 * 900), rel=1e-15)
    assert d.mean == pytest.approx(math.exp(mu + s * s / 2), rel=1e-14)
    called, _ = distribution_of("lognormal(300 tokens, 900 tokens)")
    assert (called.kind, called.args) == ("lognormal", d.args)


def test_logitnormal_median_and_mean():
    # logit X ~ N(mu, s), mu the midpoint of logit(20%) and logit(40%): the median's odds are
    # the geometric mean of the ends' odds, sqrt(1/4 × 2/3)
    d, point = distribution_of("20% to 40%")
    odds = math.sqrt(0.25 * (2 / 3))
    assert d.median == pytest.approx(odds / (1 + odds), rel=1e-14)
    assert point == pytest.approx(odds / (1 + odds), rel=1e-14)
    # the mean has no closed form: E[logistic(mu + s Z)] by adaptive quadrature at 30 digits
    # (mpmath, which sympy brings), independent of the module's Gauss–Hermite rule
    import mpmath
    with mpmath.workdps(30):
        z95 = mpmath.sqrt(2) * mpmath.erfinv(mpmath.mpf("0.9"))
        lo, hi = mpmath.log(mpmath.mpf(1) / 4), mpmath.log(mpmath.mpf(2) / 3)      # logit(20%), logit(40%)
        mu, s = (lo + hi) / 2, (hi - lo) / (2 * z95)
        mean = mpmath.quad(lambda z: mpmath.npdf(z) / (1 + mpmath.exp(-(mu + s * z))), [-mpmath.inf, 0, mpmath.inf])
    assert d.mean == pytest.approx(float(mean), rel=1e-14)
    called, _ = distribution_of("logitnormal(20%, 40%)")
    assert called.median == d.median


def test_normal_median_and_mean():
    d, point = distribution_of("normal(120 tokens, 30 tokens)")
    assert (d.kind, d.args, d.median, d.mean, point) == ("normal", (120, 30), 120, 120, 120)


def test_uniform_median_and_mean():
    d, point = distribution_of("uniform(100 tokens, 400 tokens)")
    assert d.median == d.mean == point == 250


@pytest.mark.parametrize("mode, median", [
    # F(m) = (m - lo)² / ((hi - lo)(mode - lo)) below the mode, 1 - (hi - m)² / ((hi - lo)(hi - mode))
    # above it; F(m) = 1/2 gives m = lo + sqrt((hi - lo)(mode - lo) / 2) when the mode is at or
    # past the middle, else hi - sqrt((hi - lo)(hi - mode) / 2). On [0, 4]:
    (1, 4 - math.sqrt(6)),      # mode 1: 4 - sqrt(4 × 3 / 2)
    (3, math.sqrt(6)),          # mode 3: sqrt(4 × 3 / 2)
    (2, 2),                     # symmetric
    (0, 4 - math.sqrt(8)),      # mode at the low end
    (4, math.sqrt(8)),          # mode at the high end
])
def test_triangular_median_and_mean(mode, median):
    d, point = distribution_of(f"triangular(0, {mode}, 4)")
    assert d.median == pytest.approx(median, rel=1e-15) and point == pytest.approx(median, rel=1e-15)
    assert d.mean == pytest.approx((0 + mode + 4) / 3, rel=1e-15)
    cdf = (median ** 2 / (4 * mode)) if median <= mode else 1 - (4 - median) ** 2 / (4 * (4 - mode))
    assert cdf == pytest.approx(0.5, rel=1e-14)


@pytest.mark.parametrize("a, b, median", [
    (3, 1, 2 ** (-1 / 3)),              # I_x(a, 1) = x^a = 1/2
    (0.5, 1, 2 ** (-1 / 0.5)),
    (1, 3, 1 - 2 ** (-1 / 3)),          # I_x(1, b) = 1 - (1 - x)^b = 1/2
    (1, 0.25, 1 - 2 ** (-1 / 0.25)),
    (2.5, 2.5, 0.5),                    # symmetric
    (40, 40, 0.5),
])
def test_beta_median_and_mean(a, b, median):
    d, point = distribution_of(f"beta({a}, {b})")
    assert d.median == pytest.approx(median, rel=1e-14, abs=1e-15)
    assert point == pytest.approx(median, rel=1e-14, abs=1e-15)
    assert d.mean == pytest.approx(a / (a + b), rel=1e-15)


def test_pert_mean_and_median():
    # PERT(lo, m, hi) = lo + (hi - lo) Beta(1 + 4(m - lo)/(hi - lo), 1 + 4(hi - m)/(hi - lo)):
    # mean (lo + 4m + hi) / 6
    d, point = distribution_of("pert(100 tokens, 200 tokens, 700 tokens)")
    assert d.mean == pytest.approx((100 + 4 * 200 + 700) / 6, rel=1e-15)
    # shapes 1 + 4/6 and 1 + 20/6; its median is where I_x of them is one half
    assert regularized_beta((point - 100) / 600, 1 + 4 * 100 / 600, 1 + 4 * 500 / 600) == pytest.approx(0.5, abs=1e-14)
    symmetric, point = distribution_of("pert(100 tokens, 400 tokens, 700 tokens)")
    assert symmetric.median == symmetric.mean == point == 400
    # a mode at an end is a power law: PERT(0, 0, 1) is Beta(1, 5), median 1 - 2^(-1/5)
    _, point = distribution_of("pert(0, 0, 1)")
    assert point == pytest.approx(1 - 2 ** (-1 / 5), rel=1e-14)


@pytest.mark.parametrize("value, median, mean", [
    # the lower weighted median: the smallest value whose cumulative weight reaches 50%
    ("choice { 50%: 100 tokens, 50%: 200 tokens }", 100, 150),
    ("choice { 30%: 900 tokens, 70%: 400 tokens }", 400, 0.3 * 900 + 0.7 * 400),
    ("choice { 70%: 900 tokens, 30%: 400 tokens }", 900, 0.7 * 900 + 0.3 * 400),
    ("choice { 20%: 1, 30%: 2, 50%: 3 }", 2, 0.2 + 0.6 + 1.5),
    ("choice { 0.49: 10, 0.02: 20, 0.49: 30 }", 20, 20),
    ("choice { 100%: 5 }", 5, 5),
])
def test_choice_median_and_mean(value, median, mean):
    d, point = distribution_of(value)
    assert d.median == point == median
    assert d.mean == pytest.approx(mean, rel=1e-15)


def test_the_point_value_is_the_median_in_the_declared_unit():
    # a parameter declared per hour keeps its distribution per hour; its point value too
    d, point = distribution_of("100 to 400 requests/hour")
    assert d.args == pytest.approx((100, 400), rel=1e-14)
    assert point == pytest.approx(200, rel=1e-14)


# --- the regularized incomplete beta function ------------------------------------------------

# dyadic, so that 1 - x is exact (the symmetry test would otherwise measure rounding)
GRID = [0.0, 2 ** -30, 1 / 128, 1 / 8, 1 / 4, 1 / 2, 11 / 16, 7 / 8, 127 / 128, 1 - 2 ** -30, 1.0]


@pytest.mark.parametrize("x", GRID)
def test_regularized_beta_of_one_one_is_x(x):
    assert regularized_beta(x, 1, 1) == pytest.approx(x, rel=1e-14, abs=1e-15)


@pytest.mark.parametrize("a", [0.3, 1, 2, 7.5, 40])
@pytest.mark.parametrize("x", GRID)
def test_regularized_beta_with_b_one_is_x_to_the_a(a, x):
    assert regularized_beta(x, a, 1) == pytest.approx(x ** a, rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("a, b", [(0.5, 0.5), (2, 3), (3.3, 0.7), (10, 40), (150, 3)])
@pytest.mark.parametrize("x", GRID)
def test_regularized_beta_symmetry(a, b, x):
    assert regularized_beta(x, a, b) == pytest.approx(1 - regularized_beta(1 - x, b, a), abs=1e-14)


@pytest.mark.parametrize("a, n", [(1, 3), (2, 4), (3, 9), (5, 5)])
@pytest.mark.parametrize("x", [0.1, 0.37, 0.5, 0.8])
def test_regularized_beta_is_a_binomial_tail(a, n, x):
    # I_x(a, n - a + 1) = P(Binomial(n, x) >= a)
    tail = sum(math.comb(n, j) * x ** j * (1 - x) ** (n - j) for j in range(a, n + 1))
    assert regularized_beta(x, a, n - a + 1) == pytest.approx(tail, rel=1e-13)


def test_regularized_beta_known_value():
    # I_½(2, 3) = P(Binomial(4, ½) >= 2) = 11/16
    assert regularized_beta(0.5, 2, 3) == pytest.approx(11 / 16, rel=1e-15)


def test_beta_median_solves_the_cdf():
    for a, b in [(2, 5), (0.5, 3), (9, 1.5)]:
        assert regularized_beta(beta_median(a, b), a, b) == pytest.approx(0.5, abs=1e-14)


# --- sampling: the random streams ----------------------------------------------------------

def test_a_stream_depends_only_on_seed_name_and_chunk():
    first = stream(7, "tokens", 3).random(1000)
    assert np.array_equal(first, stream(7, "tokens", 3).random(1000))      # deterministic
    for other in (stream(8, "tokens", 3), stream(7, "token", 3), stream(7, "tokens", 4),
                  stream(7 + 2 ** 32, "tokens", 3)):                        # the seed's high word counts
        assert not np.array_equal(first, other.random(1000))


def test_a_parameters_draws_do_not_depend_on_the_others():
    tokens, _ = distribution_of("300 to 900 tokens")
    hit, _ = distribution_of("20% to 40%")
    alone = draw({"tokens": tokens}, [], seed=3, chunk=0, size=5000)
    together = draw({"hit": hit, "tokens": tokens}, [], seed=3, chunk=0, size=5000)
    assert np.array_equal(alone["tokens"], together["tokens"])
    assert np.array_equal(together["hit"], draw({"hit": hit}, [], seed=3, chunk=0, size=5000)["hit"])


def test_a_parameters_draws_through_simulate_do_not_depend_on_the_others():
    # the same file with a second, unrelated uncertain parameter: the first one's figures are
    # the same numbers
    text = ('architecture "s"\nparam tokens = 300 to 900 tokens\nparam other = {other}\ntraffic = 1 requests/day\n'
            'model m { input = 1 USD/Mtok; output = 0 USD/Mtok }\nllm a { model = m; input { q = tokens }; output = 0 tokens }\n'
            'fixed f { cost = other * 1 USD/month }\nflow { start -> a }\n')
    one = llmarch.loads(text.replace("{other}", "5")).simulate(samples=3000, seed=11)
    two = llmarch.loads(text.replace("{other}", "2 to 8")).simulate(samples=3000, seed=11)
    assert np.array_equal(one.figures["monthly_inference"].kept, two.figures["monthly_inference"].kept)
    assert not np.array_equal(one.figures["monthly_total"].kept, two.figures["monthly_total"].kept)


# --- rank correlations -----------------------------------------------------------------------

class _Correlation:
    def __init__(self, first, second, rank):
        self.first, self.second, self.rank = first, second, rank


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


@pytest.mark.parametrize("rank", [0.6, -0.4, 0.95, 0.0, 1.0])
def test_a_correlation_is_honoured_and_the_marginals_are_unchanged(rank):
    tokens, _ = distribution_of("300 to 900 tokens")
    hit, _ = distribution_of("pert(10%, 30%, 60%)")
    uncertain = {"tokens": tokens, "hit": hit}
    plain = draw(uncertain, [], seed=5, chunk=2, size=CHUNK)
    correlated = draw(uncertain, [_Correlation("tokens", "hit", rank)], seed=5, chunk=2, size=CHUNK)
    for name in uncertain:       # the same values, in another order
        assert np.array_equal(np.sort(correlated[name]), np.sort(plain[name]))
    # a sample Spearman correlation of n pairs has sd about 1/sqrt(n - 1) (its value under
    # independence; a Gaussian copula's is smaller as |r| grows)
    assert spearman(correlated["tokens"], correlated["hit"]) == pytest.approx(rank, abs=SIGMAS / math.sqrt(CHUNK - 1))
    assert abs(spearman(plain["tokens"], plain["hit"])) < SIGMAS / math.sqrt(CHUNK - 1)


def test_three_correlations_through_the_language():
    text = """architecture "c"
param a = 300 to 900 tokens
param b = 20% to 40%
param c = uniform(1, 5)
correlate a with b = 0.7
correlate b with c = -0.5
correlate a with c = -0.2
traffic = 1 requests/day
tool t { cost = 0 USD }
flow { start -> t }
"""
    arch = llmarch.loads(text).compiled.arch
    uncertain = arch.uncertain()
    values = draw(uncertain, arch.correlations, seed=1, chunk=0, size=CHUNK)
    plain = draw(uncertain, [], seed=1, chunk=0, size=CHUNK)
    tolerance = SIGMAS / math.sqrt(CHUNK - 1)
    for first, second, rank in (("a", "b", 0.7), ("b", "c", -0.5), ("a", "c", -0.2)):
        assert spearman(values[first], values[second]) == pytest.approx(rank, abs=tolerance)
    for name in uncertain:
        assert np.array_equal(np.sort(values[name]), np.sort(plain[name]))
