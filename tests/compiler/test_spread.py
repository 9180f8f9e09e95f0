"""The spread between requests: the distribution of one request's latency and cost over the
path it takes, at fixed parameter values. Hand-derived for retries (the paths enumerated)
and a regeneration loop (geometric); on random architectures against the exact mean and
standard deviation of the Markov chain and against walks simulated on the exported graph
(an independent oracle, compared through the Dvoretzky–Kiefer–Wolfowitz bound)."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import llmarch
from llmarch.cli import main
from llmarch.compiler import spread as spread_module

from .test_latency import _walk_times, timed_architectures

RETRY = """
architecture "case"
traffic = 1000 requests/day
tool call {{ cost = 0.01 USD; latency = 300 ms; fail_rate = {p}; attempts = {n}; backoff = {b} s; fallback = success }}
flow {{ start -> call }}
"""


@pytest.mark.parametrize("p, n, b", [(0.2, 3, 1.0), (0.5, 5, 2.5), (0.1, 2, 0.0)])
def test_a_retried_call_takes_each_of_its_paths_with_its_probability(compile_text, p, n, b):
    """K attempts with P(K = k) = p^(k−1)(1 − p) for k < N and p^(N−1) for k = N: the request
    takes 0.3·K + b·(K − 1) seconds and costs 0.01·K dollars."""
    spreads = compile_text(RETRY.format(p=p, n=n, b=b)).request_spreads()
    weights = [p ** (k - 1) * (1 - p) if k < n else p ** (n - 1) for k in range(1, n + 1)]
    times = [0.3 * k + b * (k - 1) for k in range(1, n + 1)]
    latency, cost = spreads["latency"], spreads["cost_per_request"]
    assert latency.method == cost.method == "exact" and latency.unresolved == 0
    assert sorted(set(times)) == pytest.approx(list(latency.values), abs=1e-12)
    assert list(latency.probabilities) == pytest.approx(weights, abs=1e-15)
    assert list(cost.values) == pytest.approx([0.01 * k for k in range(1, n + 1)], abs=1e-15)
    cumulative = np.cumsum(weights)
    for q in (0.5, 0.8, 0.95, 0.99):
        k = int(np.searchsorted(cumulative, q - 1e-12))       # the first k with P(K ≤ k) ≥ q
        assert latency.quantile(q) == pytest.approx(times[k], abs=1e-12)
        assert latency.interval(q) == (latency.quantile(q), latency.quantile(q))
    # a percentile sitting exactly on a step of the distribution: P(K = 1) = 0.8 with p = 0.2
    if p == 0.2:
        assert latency.quantile(0.8) == pytest.approx(0.3)
        assert latency.quantile(0.8000001) == pytest.approx(1.6)


def test_the_documented_example_of_capacity_md(compile_text):
    """docs/capacity.md: t = 0.3 s, p = 20%, N = 3, b = 1 s: 0.3 s (80%), 1.6 s (16%), 2.9 s (4%),
    so p50 = 0.3 s, p95 = 1.6 s, p99 = 2.9 s; cost p99 = $0.03."""
    model = compile_text(RETRY.format(p=0.2, n=3, b=1.0))
    spreads = model.request_spreads()
    assert [spreads["latency"].quantile(q) for q in (0.5, 0.95, 0.99)] == pytest.approx([0.3, 1.6, 2.9])
    assert spreads["cost_per_request"].quantile(0.99) == pytest.approx(0.03)
    assert spreads["latency"].std_dev == pytest.approx(math.sqrt(0.443456), rel=1e-9)


LOOP = """
architecture "loop"
traffic = 1000 requests/day
tool gen { cost = 0.02 USD; latency = 2 s }
tool check { cost = 0.001 USD; latency = 450 ms }
flow { start -> gen -> check; check -> gen (p = 25%) }
"""


def test_a_regeneration_loop_is_geometric(compile_text):
    """K passes with P(K = k) = 0.75 · 0.25^(k−1): the k-th smallest time is 2.45·k s, and the
    q-quantile is the least k with 1 − 0.25^k ≥ q."""
    spread = compile_text(LOOP).request_spreads()["latency"]
    assert spread.method == "exact"
    assert spread.unresolved < 1e-12
    k = np.arange(1, 8)
    assert list(spread.values[:7]) == pytest.approx(list(2.45 * k), rel=1e-12)
    assert list(spread.probabilities[:7]) == pytest.approx(list(0.75 * 0.25 ** (k - 1)), rel=1e-9)
    for q in (0.5, 0.9, 0.95, 0.99, 0.999):
        least = next(k for k in range(1, 100) if 1 - 0.25 ** k >= q - 1e-12)
        assert spread.quantile(q) == pytest.approx(2.45 * least, rel=1e-12)
    assert spread.mean == pytest.approx(2.45 / 0.75, rel=1e-9)
    assert spread.std_dev == pytest.approx(2.45 * math.sqrt(0.25) / 0.75, rel=1e-9)


def test_an_overlay_is_charged_to_the_calls_of_the_path(compile_text):
    """An overlay priced per call costs more on a path that retries: its expected cost is
    the cost model's, and the path with three attempts pays three calls' worth."""
    model = compile_text("""
        architecture "traced"
        traffic = 1000 requests/day
        model m { input = 1 USD/Mtok; output = 2 USD/Mtok }
        llm call { model = m; input = 1000 tokens; output = 500 tokens; fail_rate = 20%; attempts = 3; fallback = success }
        observe trace { per_request = 0.001 USD; per_call = 0.0005 USD; sample = 50% }
        flow { start -> call }
    """)
    spread = model.request_spreads()["cost_per_request"]
    assert spread.mean == pytest.approx(model.cost().cost_per_request, rel=1e-9)
    one_call = 1000e-6 + 2 * 500e-6
    expected = [0.5 * 0.001 + k * (one_call + 0.5 * 0.0005) for k in (1, 2, 3)]
    assert list(spread.values) == pytest.approx(expected, rel=1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(timed_architectures())
def test_random_architectures_against_the_chain_and_simulated_walks(tmp_path, source):
    path = tmp_path / "random.llmarch"
    path.write_text(source)
    model = llmarch.load(path)
    result = model.cost()
    spreads = model.request_spreads()
    latency = spreads["latency"]
    assert latency.unresolved < 1e-9
    assert math.isclose(latency.mean, result.latency_per_request, rel_tol=1e-7, abs_tol=1e-9)
    # exact: to the quantum; on a grid, every visit rounded by at most half a step
    assert math.isclose(latency.std_dev, result.latency_std_dev, rel_tol=1e-5 if latency.method == "exact" else 1e-2,
                        abs_tol=1e-6)
    if latency.method == "grid":       # the rounded-down and rounded-up propagations bracket the mean
        (lv, lp), (hv, hp) = latency.bounds
        assert float(np.dot(lv, lp)) - 1e-9 <= result.latency_per_request <= float(np.dot(hv, hp)) + 1e-9
    assert math.isclose(spreads["cost_per_request"].mean, result.cost_per_request, rel_tol=1e-7, abs_tol=1e-12)
    # walks on the exported graph (a different program): with n walks, the empirical CDF is
    # within ε = √(ln(2/α) / 2n) of the true one everywhere with probability 1 − α (DKW)
    n = 4000
    times = np.sort(_walk_times(model.export(), n, random.Random(7)))
    epsilon = math.sqrt(math.log(2 / 1e-6) / (2 * n))
    for q in (0.5, 0.9, 0.95, 0.99):
        low, high = latency.interval(q)       # the quantile itself when exact
        assert low <= latency.quantile(q) <= high
        x_low, x_high = low - 1e-9, high + 1e-9
        at_or_below = np.searchsorted(times, x_high, side="right") / n
        below = np.searchsorted(times, x_low, side="left") / n
        assert at_or_below >= q - epsilon and below <= q + epsilon


def test_the_grid_brackets_the_exact_percentiles(compile_text, monkeypatch):
    model = compile_text(LOOP)
    exact = model.request_spreads()["latency"]
    monkeypatch.setattr(spread_module, "MAX_ATOMS", 5)     # too few amounts for the fine quantum
    model = compile_text(LOOP.replace("2 s", "2.000001 s"), name="grid.llmarch")
    gridded = model.request_spreads()["latency"]
    assert gridded.method == "grid" and gridded.step > 0
    for q in (0.5, 0.95, 0.99):
        low, high = gridded.interval(q)
        true = exact.quantile(q) * 2.450001 / 2.45
        assert low - 1e-12 <= true <= high + 1e-12
        assert high - low < 0.01 * true


def test_walks_when_the_propagation_would_take_too_long(compile_text, monkeypatch):
    monkeypatch.setattr(spread_module, "_WORK", 1)
    monkeypatch.setattr(spread_module, "_GRID_WORK", 1)
    spread = compile_text(RETRY.format(p=0.2, n=3, b=1.0)).request_spreads()["latency"]
    assert spread.method == "simulated" and spread.walks == spread_module.WALKS
    assert spread.how() == f"{spread_module.WALKS:,} simulated walks"
    low, high = spread.interval(0.5)
    assert low <= 0.3 <= high
    assert spread.mean == pytest.approx(0.612, rel=0.02)
    p, se = spread.probability(">", 1.0)
    assert abs(p - 0.2) < 4 * se


BUDGETS = RETRY.format(p=0.2, n=3, b=1.0) + """
budget p95(latency) < 3 s
budget p95(latency) < 1 s
budget p99(cost_per_request) < 0.05 USD
budget P(latency > 1 s) < 10%
budget mean(latency) < 1 s
"""


def test_budgets_over_requests(compile_text):
    """p95 of one request's latency is 1.6 s (paths: 0.3 s 80%, 1.6 s 16%, 2.9 s 4%);
    20% of requests take longer than 1 s."""
    model = compile_text(BUDGETS)
    results = model.budgets()
    verdicts = [(r.budget.statistic, r.budget.limit, r.value, r.holds) for r in results]
    assert verdicts == [("p95", 3.0, pytest.approx(1.6), True), ("p95", 1.0, pytest.approx(1.6), False),
                        ("p99", 0.05, pytest.approx(0.03), True), ("P", 0.1, pytest.approx(0.2), False),
                        ("mean", 1.0, pytest.approx(0.612), True)]
    assert all(r.requests == "exact" and r.samples == 0 for r in results)
    with pytest.raises(llmarch.LlmarchError) as failed:
        model.check()
    text = str(failed.value)
    assert "`p95(latency) < 1 s` does not hold with the defaults: 1.6 s over requests" in text
    assert "`P(latency > 1 s) < 10%` does not hold with the defaults: 20% of requests" in text


def test_budgets_over_requests_in_json_and_the_cli(tmp_path, capsys):
    path = tmp_path / "b.llmarch"
    path.write_text(BUDGETS)
    assert main(["cost", str(path), "--format", "json"]) == 4
    data = json.loads(capsys.readouterr().out)
    first = data["budgets"][0]
    assert first["over"] == "requests" and first["method"] == "exact" and first["value"] == pytest.approx(1.6)


def test_a_statistic_of_latency_needs_time_and_of_overhead_is_refused(compile_text):
    with pytest.raises(llmarch.LlmarchError) as failed:
        compile_text("""
            architecture "x"
            traffic = 10 requests/day
            tool t { cost = 0.01 USD }
            flow { start -> t }
            budget p95(latency) < 3 s
        """)
    assert "E241" in str(failed.value)


def test_capacity_prints_the_spread_of_one_request(tmp_path, capsys):
    path = tmp_path / "c.llmarch"
    path.write_text(RETRY.format(p=0.2, n=3, b=1.0))
    assert main(["capacity", str(path)]) == 0
    out = capsys.readouterr().out
    assert "one request" in out and "exact" in out
    (line,) = [x for x in out.splitlines() if x.startswith("latency")]
    assert line.split()[1:9] == ["612", "ms", "666", "ms", "300", "ms", "1.6", "s"]
    assert main(["capacity", str(path), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["requests"]["latency"]["percentiles"] == {"p50": 0.3, "p95": 1.6, "p99": 2.9}
    assert data["requests"]["cost_per_request"]["method"] == "exact"
