"""Monte Carlo (`llmarch simulate`, `Model.simulate`) against analytic oracles, through the
public API and the command.

Oracles: a monthly total linear in one lognormal parameter (its mean and quantiles are
closed forms), a sum of independent normals (mean and variance exact), the probability a
probabilistic budget bounds; simulate equals cost where every distribution is pinned to a
number; common random numbers make two scenarios differ sample for sample exactly as cost
does. Every sampled check has a fixed seed and a tolerance taken from its own sampling
distribution (4 or 5 standard deviations: a failure is a bug, not bad luck).
"""

from __future__ import annotations

import json
import math
from statistics import NormalDist

import numpy as np
import pytest

import llmarch
from llmarch.cli import EXIT_BUDGET, EXIT_OK, EXIT_USAGE, main
from llmarch.compiler.montecarlo import CHUNK, KEEP, _keep
from llmarch.dsl.diagnostics import LlmarchError

PHI = NormalDist()
Z95 = PHI.inv_cdf(0.95)
SAMPLES = 50_000

#: The monthly total is K × tokens: 1,000 requests a day × 30 days × $1 per million tokens.
LINEAR = """architecture "linear in one lognormal"
param tokens = 300 to 900 tokens
traffic = 1000 requests/day
model m { input = 1 USD/Mtok; output = 0 USD/Mtok }
llm answer { model = m; input { question = tokens }; output = 0 tokens }
flow { start -> answer }
"""
K = 30_000 * 1e-6
MU, S = (math.log(300) + math.log(900)) / 2, (math.log(900) - math.log(300)) / (2 * Z95)


def lognormal_quantile(q: float) -> float:
    return K * math.exp(MU + S * PHI.inv_cdf(q))


def rank_window(kept: np.ndarray, q: float, sigmas: float = 5) -> tuple[float, float]:
    """The order statistics between which the true q-quantile of the sorted samples `kept`
    falls unless something is wrong: the count of samples below it is Binomial(m, q)."""
    m = kept.size
    half = sigmas * math.sqrt(m * q * (1 - q))
    return float(kept[max(0, math.floor(m * q - half))]), float(kept[min(m - 1, math.ceil(m * q + half))])


@pytest.fixture(scope="module")
def linear():
    return llmarch.loads(LINEAR)


# --- analytic oracles ------------------------------------------------------------------------

def test_the_model_is_linear_in_tokens(linear):
    assert linear.cost(set={"tokens": 1}).monthly_total == pytest.approx(K, rel=1e-14)
    assert linear.cost().monthly_total == pytest.approx(K * math.sqrt(300 * 900), rel=1e-14)   # the median


def test_a_monthly_total_linear_in_one_lognormal(linear):
    sim = linear.simulate(samples=SAMPLES, seed=0)
    total = sim.figures["monthly_total"]
    assert total.n == SAMPLES and total.kept.size == SAMPLES
    # mean K e^(mu + s²/2), sd K e^(mu + s²/2) sqrt(e^(s²) - 1); the sample mean within 4 s.e.
    mean = K * math.exp(MU + S * S / 2)
    sd = mean * math.sqrt(math.exp(S * S) - 1)
    assert abs(total.mean - mean) < 4 * sd / math.sqrt(SAMPLES)
    assert total.se == pytest.approx(total.sd / math.sqrt(SAMPLES), rel=1e-12)
    # quantiles K e^(mu + s Φ⁻¹(q)): each inside the order-statistic window of its rank, and
    # the reported quantile inside the same window
    for q, reported in ((0.05, total.p5), (0.5, total.p50), (0.95, total.p95), (0.99, total.p99)):
        low, high = rank_window(total.kept, q)
        assert low <= lognormal_quantile(q) <= high, q
        assert low <= reported <= high, q
        # the reported 95% interval is inside the 5-sigma window and holds the estimate
        ci_low, ci_high = total.interval(q)
        assert low <= ci_low <= reported <= ci_high <= high, q
    assert lognormal_quantile(0.05) == pytest.approx(K * 300, rel=1e-14)    # the interval's ends, by construction
    assert lognormal_quantile(0.95) == pytest.approx(K * 900, rel=1e-14)
    # one component, all inference: its figures are the total's
    assert np.array_equal(sim.components["answer"].kept, total.kept)
    assert np.array_equal(sim.figures["monthly_inference"].kept, total.kept)
    assert sim.figures["p_success"].mean == 1.0 and sim.figures["p_success"].sd == 0.0


SUM = """architecture "a sum of independent normals"
param a = normal(100 USD/month, 10 USD/month)
param b = normal(50 USD/month, 5 USD/month)
param c = normal(1 USD/day, 0.1 USD/day)
traffic = 1 requests/day
tool t { cost = 0 USD }
flow { start -> t }
fixed fa { cost = a }
fixed fb { cost = b; category = ops }
fixed fc { cost = c }
"""


def test_a_sum_of_independent_normals():
    # c is $1 ± $0.1 a day: $30 ± $3 a month (a 30-day month)
    mean, variance = 100 + 50 + 30, 10 ** 2 + 5 ** 2 + 3 ** 2
    sim = llmarch.loads(SUM).simulate(samples=SAMPLES, seed=1)
    total = sim.figures["monthly_total"]
    assert abs(total.mean - mean) < 4 * math.sqrt(variance / SAMPLES)
    # the sample variance of n normals has sd σ² sqrt(2 / (n - 1))
    assert abs(total.sd ** 2 - variance) < 4 * variance * math.sqrt(2 / (SAMPLES - 1))
    for q in (0.05, 0.5, 0.95):
        low, high = rank_window(total.kept, q)
        assert low <= mean + math.sqrt(variance) * PHI.inv_cdf(q) <= high
    # each part is its own normal; the ops vector is fb alone
    for name, (m, s) in {"fa": (100, 10), "fb": (50, 5), "fc": (30, 3)}.items():
        part = sim.components[name]
        assert abs(part.mean - m) < 4 * s / math.sqrt(SAMPLES), name
    assert np.array_equal(sim.figures["monthly_ops"].kept, sim.components["fb"].kept)


def test_correlated_normals_add_their_covariance():
    # with rank correlation r, the Gaussian copula's correlation is ρ = 2 sin(π r / 6), and
    # normal marginals keep it: var(a + b) = σa² + σb² + 2 ρ σa σb
    text = SUM.replace("fixed fc { cost = c }", "correlate a with b = 0.8\nfixed fc { cost = 30 USD/month }")
    sim = llmarch.loads(text).simulate(samples=SAMPLES, seed=2)
    rho = 2 * math.sin(math.pi * 0.8 / 6)
    variance = 100 + 25 + 2 * rho * 10 * 5
    total = sim.figures["monthly_total"]
    # loosely: the sample variance of a + b, normal, within 5 of its standard deviations, plus
    # the copula's own sampling error in ρ (about (1 - ρ²)/sqrt(n) per chunk)
    tolerance = 5 * variance * math.sqrt(2 / (SAMPLES - 1)) + 2 * 10 * 5 * 5 * (1 - rho ** 2) / math.sqrt(SAMPLES)
    assert abs(total.sd ** 2 - variance) < tolerance
    independent = llmarch.loads(SUM.replace("fixed fc { cost = c }", "fixed fc { cost = 30 USD/month }"))
    assert independent.simulate(samples=SAMPLES, seed=2).figures["monthly_total"].sd ** 2 < variance - 5 * tolerance


# --- probabilistic budgets --------------------------------------------------------------------

def test_the_probability_a_budget_bounds(linear):
    # P(monthly > K × 900) = P(tokens > its 95th percentile) = 5%, exactly
    sim = linear.simulate(samples=SAMPLES, seed=0)
    p, se = sim.figures["monthly_total"].probability(">", K * 900)
    assert se == pytest.approx(math.sqrt(0.05 * 0.95 / SAMPLES), rel=0.05)
    assert abs(p - 0.05) < 4 * math.sqrt(0.05 * 0.95 / SAMPLES)
    # and the other way round, at another point: P(monthly <= K × 519.6…) = 50%
    p, _ = sim.figures["monthly_total"].probability("<=", K * math.sqrt(300 * 900))
    assert abs(p - 0.5) < 4 * math.sqrt(0.25 / SAMPLES)


def budgets_of(text: str, **kwargs):
    model = llmarch.loads(text)
    return model, [b for b in model.budgets(**kwargs) if b.budget.probabilistic]


@pytest.mark.parametrize("line, holds", [
    ("budget P(monthly_total > 27 USD/month) < 10%", True),      # the truth is 5%
    ("budget P(monthly_total > 27 USD/month) < 4%", False),
    ("budget P(monthly_total > 27 USD/month) < 5%", None),       # on the line: too close to call
    ("budget p95(monthly_total) < 30 USD/month", True),          # the truth is $27
    ("budget p95(monthly_total) < 25 USD/month", False),
    ("budget p95(monthly_total) < 27 USD/month", None),
    ("budget mean(cost_per_request) < 0.0006 USD", True),        # the truth is $0.000549…
    ("budget mean(cost_per_request) > 0.0006 USD", False),
    ("budget median(monthly_total) >= 15 USD/month", True),      # the truth is $15.59
    ("budget P(monthly_total <= 9 USD/month) < 8%", True),       # $9 = K × 300, the 5th percentile: 5%
    ("budget P(monthly_total < 9 USD/month) > 2%", True),
])
def test_probabilistic_budgets_hold_fail_or_are_too_close_to_call(line, holds):
    model, (result,) = budgets_of(LINEAR + line + "\n")
    assert result.holds is holds, result.line()
    assert result.low <= result.value <= result.high
    diagnostics = llmarch.api.budget_failures([result])
    expected = {True: [], False: ["E701"], None: ["W701"]}[holds]
    assert [d.code for d in diagnostics] == expected


def test_a_budget_probability_is_estimated_within_its_interval(linear):
    _, (result,) = budgets_of(LINEAR + "budget P(monthly_total > 27 USD/month) < 10%\n")
    assert abs(result.value - 0.05) < 4 * math.sqrt(0.05 * 0.95 / SAMPLES)
    assert result.high - result.low == pytest.approx(2 * 1.96 * math.sqrt(result.value * (1 - result.value) / SAMPLES),
                                                     rel=1e-9)
    assert result.samples == SAMPLES


def test_budgets_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "risk.llmarch"
    path.write_text(LINEAR + "budget P(monthly_total > 27 USD/month) < 4%\n")
    for command in ("simulate", "cost", "check", "lint"):
        assert main([command, str(path)]) == EXIT_BUDGET, command
        err = capsys.readouterr().err
        assert ("error[E701]: budget `P(monthly_total > $27.00 a month) < 4%` does not hold with the defaults: "
                "estimate 4.958%, 95% interval 4.768% to 5.148%, 50,000 samples") in err, command
    path.write_text(LINEAR + "budget P(monthly_total > 27 USD/month) < 10%\n")
    for command in ("simulate", "cost", "check", "lint"):
        assert main([command, str(path)]) == EXIT_OK, command
        assert "E701" not in capsys.readouterr().err
    path.write_text(LINEAR + "budget P(monthly_total > 27 USD/month) < 5%\n")
    for command in ("simulate", "cost", "check"):
        assert main([command, str(path)]) == EXIT_OK, command
        assert "warning[W701]: budget `P(monthly_total > $27.00 a month) < 5%` is too close to call" in \
            capsys.readouterr().err
    # the JSON of cost and simulate carry the verdicts
    assert main(["cost", str(path), "-f", "json"]) == EXIT_OK
    (budget,) = json.loads(capsys.readouterr().out)["budgets"]
    assert budget["statistic"] == "P" and budget["holds"] is None and budget["samples"] == SAMPLES


def test_a_scoped_probabilistic_budget_is_checked_in_its_scenario_only(tmp_path, capsys):
    path = tmp_path / "scoped.llmarch"
    path.write_text(LINEAR + "scenario big { tokens = 2000 to 4000 tokens }\n"
                    "budget p95(monthly_total) < 40 USD/month in big\n")
    assert main(["cost", str(path)]) == EXIT_OK
    assert main(["cost", str(path), "--scenario", "big"]) == EXIT_BUDGET
    assert "does not hold in scenario `big`" in capsys.readouterr().err
    assert main(["check", str(path)]) == EXIT_BUDGET


# --- simulate is cost where nothing is uncertain ----------------------------------------------

RICH = """architecture "retries, a fallback and a cache"
param questions = 2000 to 8000 requests/day
param hit = 20% to 40%
param prompt = pert(200 tokens, 400 tokens, 1200 tokens)
param fail = beta(2, 40)
param answer_len = choice { 70%: 250 tokens, 30%: 600 tokens }
param dash = uniform(50 USD/month, 90 USD/month)
traffic = questions
model small { input = 0.15 USD/Mtok; output = 0.6 USD/Mtok }
model large { input = 2.5 USD/Mtok; output = 10 USD/Mtok }
cache answers { hit_rate = hit; cost = 0.0001 USD/query }
llm answer {
  model = small
  input { system = 400 tokens; question = prompt }
  output = answer_len
  fail_rate = fail
  attempts = 2
  fallback_model = large
}
fixed dashboard { cost = dash; category = ops }
flow { start -> answers -> answer }
scenario pinned { questions = 5000 requests/day; hit = 30%; prompt = 500 tokens; fail = 4%; answer_len = 300 tokens; dash = 70 USD/month }
"""
PINS = {"questions": 5000, "hit": 0.3, "prompt": 500, "fail": 0.04, "answer_len": 300, "dash": 70}


@pytest.mark.parametrize("how", ["set", "scenario"])
def test_simulate_is_cost_when_every_distribution_is_pinned(how):
    model = llmarch.loads(RICH)
    assert set(model.compiled.arch.uncertain()) == set(PINS)
    if how == "set":
        sim, cost = model.simulate(set=PINS, samples=3000), model.cost(set=PINS)
    else:
        sim, cost = model.simulate("pinned", samples=3000), model.cost("pinned")
    assert sim.uncertain == {}
    exact = {"monthly_total": cost.monthly_total, "cost_per_request": cost.cost_per_request,
             "cost_per_success": cost.cost_per_success, "p_success": cost.p_success,
             **{f"monthly_{c}": v for c, v in cost.by_category.items()}}
    for name, value in exact.items():
        figure = sim.figures[name]
        assert figure.mean == pytest.approx(value, rel=1e-14, abs=1e-300), name
        assert figure.sd <= 1e-14 * abs(value), name
        assert all(v == pytest.approx(value, rel=1e-14, abs=1e-300) for v in figure.quantiles.values()), name
    for row in cost.components:
        assert sim.components[row.name].mean == pytest.approx(row.monthly, rel=1e-13), row.name


def test_the_point_value_is_cost_at_the_medians():
    model = llmarch.loads(RICH)
    sim = model.simulate(samples=2000)
    assert sim.point.monthly_total == model.cost().monthly_total
    medians = {name: d.median for name, d in sim.uncertain.items()}
    assert model.cost(set=medians).monthly_total == pytest.approx(model.cost().monthly_total, rel=1e-12)


# --- common random numbers ----------------------------------------------------------------------

CRN = LINEAR + """param hosting = 100 USD/month
fixed host { cost = hosting }
scenario pricier_hosting { hosting = 150 USD/month }
"""


def test_two_scenarios_that_differ_by_a_number_differ_sample_for_sample_as_cost_does():
    model = llmarch.loads(CRN)
    base, pricier = model.simulate(samples=SAMPLES, seed=4), model.simulate("pricier_hosting", samples=SAMPLES, seed=4)
    step = model.cost("pricier_hosting").monthly_total - model.cost().monthly_total
    assert step == pytest.approx(50, rel=1e-12)
    # the same random numbers: every sample moves by the step (sorting keeps the pairing, the
    # shift being the same for all); with other random numbers they would not
    difference = pricier.figures["monthly_total"].kept - base.figures["monthly_total"].kept
    assert np.allclose(difference, step, rtol=0, atol=1e-12)
    other_seed = model.simulate("pricier_hosting", samples=SAMPLES, seed=5).figures["monthly_total"].kept
    assert not np.allclose(other_seed - base.figures["monthly_total"].kept, step, rtol=0, atol=1e-6)
    assert pricier.figures["monthly_total"].mean - base.figures["monthly_total"].mean == pytest.approx(step, rel=1e-12)


def test_twice_the_traffic_doubles_every_sample():
    text = LINEAR.replace("traffic = 1000 requests/day", "param rate = 1000 requests/day\ntraffic = rate")
    text += "scenario twice { rate = 2000 requests/day }\n"
    model = llmarch.loads(text)
    one, two = model.simulate(samples=SAMPLES, seed=6), model.simulate("twice", samples=SAMPLES, seed=6)
    ratio = model.cost("twice").monthly_total / model.cost().monthly_total
    assert ratio == 2
    assert np.array_equal(two.figures["monthly_total"].kept, ratio * one.figures["monthly_total"].kept)


# --- seeds, pins and overrides ------------------------------------------------------------------

def test_the_same_seed_gives_byte_identical_json(tmp_path, capsys):
    path = tmp_path / "rich.llmarch"
    path.write_text(RICH)
    outputs = []
    for seed in ("7", "7", "8"):
        assert main(["simulate", str(path), "--samples", "20000", "--seed", seed, "-f", "json"]) == EXIT_OK
        outputs.append(capsys.readouterr().out.encode())
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]
    data = json.loads(outputs[0])
    assert data["seed"] == 7 and data["samples"] == 20_000 and data["quantiles"] == "exact"
    assert set(data["results"]["monthly_total"]) == {"mean", "sd", "se_mean", "p5", "p50", "p95", "p99"}
    assert set(data["uncertain"]) == set(PINS)


def test_set_pins_a_distribution(tmp_path, capsys):
    path = tmp_path / "linear.llmarch"
    path.write_text(LINEAR)
    assert main(["simulate", str(path), "--set", "tokens=500", "-f", "json", "-n", "1000"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["uncertain"] == {} and data["set"] == {"tokens": "500"}
    total = data["results"]["monthly_total"]
    assert total["mean"] == pytest.approx(K * 500, rel=1e-14) and total["sd"] <= 1e-14 * K * 500
    assert total["p5"] == total["p95"] == pytest.approx(K * 500, rel=1e-14)
    # a value with a unit, as for cost
    assert main(["simulate", str(path), "--set", "tokens=0.5 Ktok", "-f", "json", "-n", "1000"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["results"]["monthly_total"]["mean"] == pytest.approx(K * 500, rel=1e-14)
    assert main(["simulate", str(path), "--set", "tokenz=500"]) == EXIT_USAGE
    assert "unknown parameter `tokenz`" in capsys.readouterr().err


OVERRIDES = LINEAR.replace("traffic = 1000 requests/day", "param rate = 1000 requests/day\ntraffic = rate") + """
scenario sure_tokens { tokens = 600 tokens }
scenario unsure_rate { rate = 500 to 2000 requests/day }
scenario parent "both uncertain, new ranges" { tokens = 100 to 200 tokens; rate = 20000 to 80000 requests/day }
scenario child extends parent { tokens = 150 tokens }
scenario grandchild extends child { }
"""


def test_a_scenario_overrides_a_distribution_with_a_number_and_a_number_with_a_distribution():
    model = llmarch.loads(OVERRIDES)
    sure = model.simulate("sure_tokens", samples=2000)
    assert sure.uncertain == {}
    assert sure.figures["monthly_total"].mean == pytest.approx(K * 600, rel=1e-14)
    unsure = model.simulate("unsure_rate", samples=SAMPLES, seed=3)
    assert list(unsure.uncertain) == ["tokens", "rate"]
    rate = unsure.uncertain["rate"]
    assert (rate.kind, rate.args) == ("lognormal", pytest.approx((500, 2000), rel=1e-14))
    assert unsure.units["rate"] == "requests/day"
    # the rate's median is the point value: sqrt(500 × 2000) = 1000 requests a day
    assert model.cost("unsure_rate").monthly_total == pytest.approx(K * math.sqrt(300 * 900), rel=1e-12)
    # the product of two independent lognormals is lognormal: its p5 and p95 are known
    sigma = math.hypot(S, (math.log(2000) - math.log(500)) / (2 * Z95))
    median = 30 * 1e-6 * math.sqrt(300 * 900) * math.sqrt(500 * 2000)
    total = unsure.figures["monthly_total"]
    for q in (0.05, 0.95):
        low, high = rank_window(total.kept, q)
        assert low <= median * math.exp(sigma * PHI.inv_cdf(q)) <= high


def test_scenarios_inherit_distributions_and_a_child_pins_one():
    model = llmarch.loads(OVERRIDES)
    parent, child, grandchild = (model.simulate(s, samples=SAMPLES, seed=9) for s in ("parent", "child", "grandchild"))
    assert list(parent.uncertain) == ["tokens", "rate"]
    assert list(child.uncertain) == ["rate"] and list(grandchild.uncertain) == ["rate"]
    assert child.uncertain["rate"] == parent.uncertain["rate"]
    assert child.uncertain["rate"].args == pytest.approx((20000, 80000), rel=1e-14)
    # the child pins tokens at 150: its total is 30 × 1e-6 × 150 × rate, with the rate's own
    # random numbers (the parent's too): its samples are rate's samples, scaled
    assert np.array_equal(child.figures["monthly_total"].kept, grandchild.figures["monthly_total"].kept)
    rate_median = math.sqrt(20000 * 80000)
    assert model.cost("child").monthly_total == pytest.approx(30 * 1e-6 * 150 * rate_median, rel=1e-12)
    for q in (0.05, 0.5, 0.95):
        low, high = rank_window(child.figures["monthly_total"].kept, q)
        true = 30 * 1e-6 * 150 * rate_median * math.exp((math.log(4) / (2 * Z95)) * PHI.inv_cdf(q))
        assert low <= true <= high


# --- the engine's edges -------------------------------------------------------------------------

def test_sampled_values_that_break_a_check_are_reported_with_the_distribution():
    text = LINEAR.replace("output = 0 tokens }", "output = 0 tokens; fail_rate = fail; attempts = 2 }")
    text += "param fail = normal(5%, 2.5%)\n"   # its 90% range is within 0-100%; 2.3% of draws fall below 0
    model = llmarch.loads(text, path="sampled.llmarch")
    model.cost()                                     # the median, 5%, is fine
    with pytest.raises(LlmarchError) as info:
        model.simulate(samples=2000)
    (d,) = info.value.diagnostics
    assert d.message.endswith("(at some sampled parameter values)")
    assert any("`fail` is sampled from the distribution declared here" in note for note, _ in d.notes)


def test_sample_counts_and_seeds_are_checked(linear):
    for bad in ({"samples": 0}, {"samples": -5}, {"seed": -1}, {"seed": 2 ** 64}):
        with pytest.raises(LlmarchError) as info:
            linear.simulate(**bad)
        assert info.value.diagnostics[0].code.startswith("E6")


def test_a_run_of_one_sample_and_a_run_across_chunks(linear):
    one = linear.simulate(samples=1, seed=0)
    assert one.figures["monthly_total"].sd == 0 and one.figures["monthly_total"].kept.size == 1
    across = linear.simulate(samples=CHUNK + 10, seed=0)
    total = across.figures["monthly_total"]
    assert total.n == CHUNK + 10 and total.kept.size == CHUNK + 10
    # chunk 0 is the same in a longer run: the first CHUNK samples are a run of CHUNK
    first = linear.simulate(samples=CHUNK, seed=0).figures["monthly_total"].kept
    assert np.isin(first, total.kept).all()


@pytest.mark.parametrize("samples", [KEEP + 1, 2 * KEEP, 7 * KEEP + 12345, 10 ** 9])
def test_the_kept_subsample_has_exactly_keep_samples(samples):
    kept = sum(_keep(samples, start, min(CHUNK, samples - start)) for start in range(0, samples, CHUNK))
    assert kept == KEEP


def test_a_model_keeps_only_its_last_runs(linear):
    # `simulate` then `budgets` share one run; a loop over seeds must not keep every run's
    # samples (up to a million of each figure) alive
    first = linear.simulate(samples=1000, seed=100)
    assert linear.simulate(samples=1000, seed=100) is first
    for seed in range(101, 111):
        linear.simulate(samples=1000, seed=seed)
    again = linear.simulate(samples=1000, seed=100)
    assert again is not first                                  # it was let go, and is run again
    assert np.array_equal(again.figures["monthly_total"].kept, first.figures["monthly_total"].kept)


def test_the_kept_part_of_a_chunk_does_not_hold_the_chunk():
    """Past KEEP samples only part of each chunk is kept: a view would keep every whole chunk
    alive (100,000,000 samples once took 14.8 GiB); the kept part must be a copy."""
    from llmarch.compiler.montecarlo import _Accumulator
    acc = _Accumulator()
    chunk = np.arange(1000, dtype=float)
    acc.add(chunk, 1000, 10)
    assert acc.kept[0].base is None and acc.kept[0].size == 10
    acc.add(chunk + 1, 1000, 1000)      # all of it kept: no copy needed
    assert acc.kept[1].size == 1000
    assert acc.summary().n == 2000
