"""Self-hosted models (`gpu { }`): replica counts, the monthly cost, capacity's rows, the
sensitivity of a step, the monthly projection and the crossover against an API model, all
derived by hand (docs/capacity.md, "Self-hosted models")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy

import llmarch
from llmarch.api import format_capacity, format_cost
from llmarch.cli import main
from llmarch.compiler.schemas import DOCUMENTS
from llmarch.dsl.diagnostics import LlmarchError

ROOT = Path(__file__).resolve().parents[2]

# 86,400 requests a day is one a second; a request sends 800 + 200 = 1,000 tokens, so the
# mean demand is 1,000 tokens/s and the peak (× 2) 2,000. A replica serves 2,000 tokens/s,
# sized to run at 50%: 1,000 tokens/s each. A replica costs 2.50 USD/h, 720 hours a month.
CASE = """
architecture "gpu"
param requests = 86400 requests/day in [1000, 400000]
traffic = requests
settings { peak = 2 }
model llama { gpu { price = 2.5 USD/h; throughput = 2000 tokens/s; utilisation = 50%; min_replicas = 1 } }
llm answer { model = llama; input = 800 tokens; output = 200 tokens }
flow { start -> answer -> success }
"""


def _gpu_row(result):
    (row,) = [c for c in result.components if c.kind == "gpu"]
    return row


def test_replicas_at_exactly_a_multiple_and_just_above(compile_text):
    """Peak demand 2,000 tokens/s against 1,000 a replica: exactly 2 replicas, 2 × 2.5 × 720
    = 3,600 USD; one request a day more needs a third (5,400 USD)."""
    model = compile_text(CASE)
    result = model.cost()
    row = _gpu_row(result)
    assert (row.name, row.category, row.monthly) == ("llama (GPUs)", "inference", pytest.approx(3600, rel=1e-12))
    assert result.cost_per_request == 0                      # a self-hosted call has no per-token price
    assert result.fixed_monthly == pytest.approx(3600, rel=1e-12)
    assert result.gpu_per_request == pytest.approx(3600 / (86400 * 30), rel=1e-12)
    assert _gpu_row(model.cost(set={"requests": 86401})).monthly == pytest.approx(5400, rel=1e-12)
    assert _gpu_row(model.cost(set={"requests": 86399})).monthly == pytest.approx(3600, rel=1e-12)
    assert _gpu_row(model.cost(set={"requests": 43200})).monthly == pytest.approx(1800, rel=1e-12)
    assert _gpu_row(model.cost(set={"requests": 43201})).monthly == pytest.approx(3600, rel=1e-12)


BOUNDARY = """
param q = 60480 requests/day
traffic = q
settings { peak = 3 }
model llama { gpu { price = 1 USD/h; throughput = 1100 tokens/s; utilisation = 70% } }
llm answer { model = llama; input = 800 tokens; output = 200 tokens; fail_rate = 10%; attempts = 2 }
flow { start -> answer -> success }
"""


def test_a_multiple_reached_through_numbers_floats_round(compile_text, monkeypatch):
    """1.1 calls of 1,000 tokens a request (one retry at 10%), 60,480 requests a day, peak 3:
    2,310 tokens/s, and a replica serves 1,100 × 70% = 770: exactly 3 replicas. In floating
    point the quotient comes out a hair above 3; the tolerance keeps it at 3 (without it,
    4 replicas: checked by turning it off)."""
    assert _gpu_row(compile_text(BOUNDARY).cost()).monthly == pytest.approx(3 * 720, rel=1e-12)
    assert _gpu_row(compile_text(BOUNDARY).cost(set={"q": 60481})).monthly == pytest.approx(4 * 720, rel=1e-12)
    from llmarch.compiler import ir
    monkeypatch.setattr(ir, "REPLICA_TOLERANCE", sympy.Float(0))
    assert _gpu_row(compile_text(BOUNDARY, name="exact.llmarch").cost()).monthly == pytest.approx(4 * 720)


def test_min_replicas_and_the_month_length(compile_text):
    """Few requests still pay for `min_replicas`; `min_replicas = 0` with no traffic pays
    nothing; a 28-day month has 672 hours."""
    few = compile_text(CASE.replace("min_replicas = 1", "min_replicas = 3"), name="few.llmarch")
    assert _gpu_row(few.cost(set={"requests": 1000})).monthly == pytest.approx(3 * 2.5 * 720, rel=1e-12)
    assert _gpu_row(few.cost()).monthly == pytest.approx(3 * 2.5 * 720, rel=1e-12)   # 2 needed, 3 kept
    none = compile_text(CASE.replace("min_replicas = 1", "min_replicas = 0")
                        .replace("traffic = requests", "traffic = 0 requests/day"), name="none.llmarch")
    assert _gpu_row(none.cost()).monthly == 0
    short = compile_text(CASE.replace("settings { peak = 2 }", "settings { peak = 2; month = 28 days }"),
                         name="short.llmarch")
    assert _gpu_row(short.cost()).monthly == pytest.approx(2 * 2.5 * 24 * 28, rel=1e-12)


def test_every_call_counts_retries_and_fallback_copies(compile_text):
    """`answer` on `llama` fails 10% of the time, 3 attempts: 1.11 calls a request, 1,110
    tokens; the 99.9% of requests it answers reach `check`, which falls back to `llama` after
    2 failed attempts at 50%: 0.999 × 0.25 calls of 100 tokens = 24.975. 1,134.975 tokens a
    request; at 86,400 requests a day and peak 2 that is 2,269.95 tokens/s: 3 replicas."""
    model = compile_text(CASE.replace("llm answer { model = llama; input = 800 tokens; output = 200 tokens }", """
        model api { input = 1 USD/Mtok; output = 1 USD/Mtok }
        llm answer { model = llama; input = 800 tokens; output = 200 tokens; fail_rate = 10%; attempts = 3 }
        guardrail check { model = api; input = 90 tokens; output = 10 tokens; fail_rate = 50%; attempts = 2
                          fallback_model = llama }""").replace("start -> answer -> success",
                                                           "start -> answer -> check -> success"))
    g = model.capacity().gpus[0]
    assert g.tokens_per_request == pytest.approx(1110 + 24.975, rel=1e-12)
    assert (g.mean_demand, g.peak_demand) == pytest.approx((1134.975, 2269.95), rel=1e-12)
    assert (g.mean_replicas, g.replicas) == (2, 3)
    assert _gpu_row(model.cost()).monthly == pytest.approx(3 * 2.5 * 720, rel=1e-12)


def test_capacity_rows(compile_text):
    """At 60,000 requests a day: 694.4 tokens/s at the mean (1 replica), 1,388.9 at the peak
    (2 replicas), each replica able to serve 2,000: 17.4% used at the mean, 34.7% at the
    peak; the peak reaches 2 × 1,000 tokens/s at 86,400 requests a day."""
    model = compile_text(CASE)
    c = model.capacity(set={"requests": 60000})
    (g,) = c.gpus
    assert (g.model, g.tokens_per_request, g.throughput, g.target_utilisation) == ("llama", 1000, 2000, 0.5)
    assert (g.mean_demand, g.peak_demand) == pytest.approx((60000 * 1000 / 86400, 2 * 60000 * 1000 / 86400), rel=1e-12)
    assert (g.min_replicas, g.mean_replicas, g.replicas) == (1, 1, 2)
    assert (g.mean_utilisation, g.peak_utilisation) == pytest.approx((694.444 / 4000, 1388.889 / 4000), rel=1e-6)
    assert g.price_per_hour == pytest.approx(2.5, rel=1e-12)
    assert g.monthly == pytest.approx(3600, rel=1e-12)
    assert g.monthly == _gpu_row(model.cost(set={"requests": 60000})).monthly    # the cost's own figure
    assert g.per_request == pytest.approx(3600 / (60000 * 30), rel=1e-12)
    assert g.next_replica_at == pytest.approx(86400, rel=1e-12)
    text = format_capacity(c)
    assert "GPUs: llama 2 replicas (sized for the peak; 1 at least) × $2.50/h = $3,600.00 a month" in text
    document = json.loads(format_capacity(c, "json"))
    DOCUMENTS["capacity"].model_validate(document)
    assert document["gpus"][0]["replicas"] == 2 and document["gpus"][0]["next_replica_at"] == pytest.approx(86400)


def test_cost_json_and_the_table_carry_the_gpus(compile_text, tmp_path, capsys):
    model = compile_text(CASE)
    document = json.loads(format_cost(model.cost(), "json"))
    DOCUMENTS["cost"].model_validate(document)
    assert document["results"]["self_hosted"] == {"gpu_monthly": pytest.approx(3600),
                                                  "gpu_per_request": pytest.approx(3600 / 2592000)}
    (row,) = [r for r in document["components"] if r["kind"] == "gpu"]
    assert row["expected_visits"] is None and row["monthly"] == pytest.approx(3600)
    assert "self_hosted" not in json.loads(format_cost(
        llmarch.load(ROOT / "examples" / "quickstart.llmarch").cost(), "json"))["results"]
    path = tmp_path / "case.llmarch"
    assert main(["cost", str(path)]) == 0
    out = capsys.readouterr().out
    assert "llama (GPUs)  gpu" in out and "GPUs spread per request       $0.001389" in out


def test_the_derivative_of_a_step_is_zero_and_the_tornado_shows_it(compile_text, tmp_path, capsys):
    """The replicas are flat between steps: d(monthly)/d(requests) is the per-request part
    alone, here 0 (a self-hosted call costs nothing per token); ±20% of 86,400 crosses the
    steps at 86,400 (to 3 replicas) but not 43,200: 3,600 … 5,400 USD."""
    model = compile_text(CASE.replace("86400 requests/day in [1000, 400000]", "86400 requests/day"))
    (row,) = model.sensitivity()
    assert row.derivative == 0 and row.elasticity == 0
    assert (row.monthly_at_low, row.monthly_at_high) == pytest.approx((3600, 5400), rel=1e-12)
    assert "ceiling" in model.explain()
    assert model.self_hosted == ["llama"]
    assert main(["sensitivity", str(tmp_path / "case.llmarch")]) == 0
    assert "the GPU replicas of `llama` step with the demand" in capsys.readouterr().out
    assert main(["sensitivity", str(ROOT / "examples" / "quickstart.llmarch")]) == 0
    assert "GPU replicas" not in capsys.readouterr().out


def test_the_projection_steps_as_traffic_grows(compile_text):
    """40,000 requests a day growing 50% a month: 40,000, 60,000, 90,000, 135,000, 202,500 a
    day need 1, 2, 3, 4, 5 replicas at the peak (× 2, 43,200 a day each): 1,800 USD a step."""
    model = compile_text(CASE.replace("param requests = 86400 requests/day in [1000, 400000]",
                                      "param requests = 40000 requests/day * 1.5 ^ (time / (1 month))"))
    projection = model.project(months=4)
    assert projection.monthly_total == pytest.approx([1800, 3600, 5400, 7200, 9000], rel=1e-12)


API = """
architecture "api"
param requests = 10000 requests/day in [1000, 200000]
traffic = requests
model api { input = 1 USD/Mtok; output = 1 USD/Mtok }
llm answer { model = api; input = 800 tokens; output = 200 tokens }
flow { start -> answer -> success }
"""

SELF = """
architecture "self"
param requests = 10000 requests/day in [1000, 200000]
traffic = requests
model llama { gpu { price = 1 USD/h; throughput = 1000 tokens/s } }
llm answer { model = llama; input = 800 tokens; output = 200 tokens }
flow { start -> answer -> success }
"""


def test_crossover_against_an_api_model(compile_text):
    """The API: 1,000 tokens at 1 USD/Mtok = 0.001 USD a request, 0.03 × requests a month.
    The GPUs: a replica serves 1,000 tokens/s = 86,400 requests a day, 720 USD a month.
    0.03 q = 720 at q = 24,000, inside the first step; past 86,400 the API stays above
    (0.03 × 86,400 = 2,592 > 1,440, and its slope outruns a step of 720 per 86,400)."""
    self_hosted = compile_text(SELF, name="self.llmarch")
    api = compile_text(API, name="api.llmarch")
    solution = self_hosted.crossover("requests", api)
    assert solution.solutions == [pytest.approx(24000, rel=1e-9)]
    assert solution.method.startswith("numeric")


def test_a_crossover_only_at_a_step_is_named_not_invented(compile_text):
    """An API with a 1,000 USD/month contract and 0.01 USD/Mtok (0.0003 USD a month per
    request a day): 1,000.3 … 1,045 USD over [1,000, 150,000] a day. The GPUs cost 720 up to
    86,400 a day and 1,440 above: cheaper below the step, dearer above, never equal. The
    answer is the step, said as such."""
    api = compile_text(API.replace("input = 1 USD/Mtok; output = 1 USD/Mtok", "input = 0.01 USD/Mtok; output = 0.01 USD/Mtok")
                       + "fixed contract { cost = 1000 USD/month }\n", name="api.llmarch")
    self_hosted = compile_text(SELF, name="self.llmarch")
    with pytest.raises(LlmarchError) as caught:
        self_hosted.crossover("requests", api, high=150000)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.message == ("the two never cost the same exactly: the difference jumps over 0 at "
                                  "`requests` = 86400")
    assert "GPU replica" in diagnostic.help
    # with the range past the second step (172,800 a day), 2,160 USD is still above the API's
    # 1,000 + 0.0003 q: the same one jump
    assert "at `requests` = 86400" in str(pytest.raises(LlmarchError, self_hosted.crossover, "requests", api,
                                                         high=200000).value.diagnostics[0].message)


def test_monte_carlo_over_uncertain_traffic_prices_each_samples_replicas(compile_text):
    """Traffic lognormal with a 90% interval of 50,000 to 150,000 a day; a replica per 43,200
    a day (peak 2, 1,000 tokens/s each), 1,800 USD a month each: the expected monthly cost is
    Σₖ 1,800 k · P(43,200 (k − 1) < q ≤ 43,200 k), by the lognormal's CDF; the simulated mean
    lands within 4 standard errors of it, and every sample is a whole number of replicas."""
    import math
    import numpy as np
    model = compile_text(CASE.replace("86400 requests/day in [1000, 400000]",
                                      "50000 requests/day to 150000 requests/day"))
    mu = math.log(math.sqrt(50000 * 150000))
    sigma = math.log(150000 / 50000) / (2 * 1.6448536269514722)

    def cdf(q: float) -> float:
        return 0.0 if q <= 0 else 0.5 * (1 + math.erf((math.log(q) - mu) / (sigma * math.sqrt(2))))

    expected = sum(1800 * k * (cdf(43200 * k) - cdf(43200 * (k - 1))) for k in range(1, 60))
    total = model.simulate(samples=40000, seed=3, components=False).figures["monthly_total"]
    assert abs(total.mean - expected) < 4 * total.se
    assert np.allclose(total.raw / 1800, np.round(total.raw / 1800))


def test_the_export_alone_gives_the_replicas_and_their_cost(tmp_path, capsys):
    """From `llmarch export` only: expected visits by a dense numpy solve of (I − Pᵀ) v = e
    over the exported graph, then Σ visits × tokens over the listed calls, the replicas and
    the monthly cost — equal to what the export (and cost) report. On the example (a retried
    call) with a regeneration loop added, so the visits come from a real linear system: the
    first attempt is visited 1 + 0.2 × 1.25 = 1.25 times, the retry 2% of that, 2,231.25
    tokens a request; at 150,000 tickets a day the peak asks 3 × 150,000 / 86,400 ×
    2,231.25 = 11,621 tokens/s of replicas serving 4,200 each: 3 (at 20,000, the minimum 2)."""
    import numpy as np
    text = (ROOT / "examples" / "self_hosted.llmarch").read_text(encoding="utf-8").replace(
        "start -> embed_query -> search -> answer -> check -> success",
        "start -> embed_query -> search -> answer -> check\n  check -> success (otherwise)\n"
        "  check -> answer (p = 20%, on_failure)")
    path = tmp_path / "loop.llmarch"
    path.write_text(text, encoding="utf-8")
    for tickets in ("20000", "150000"):
        assert main(["export", str(path), "--set", f"tickets_per_day={tickets}"]) == 0
        document = json.loads(capsys.readouterr().out)
        DOCUMENTS["export"].model_validate(document)
        ids = [n["id"] for n in document["nodes"]]
        index = {n: i for i, n in enumerate(ids)}
        transition = np.zeros((len(ids), len(ids)))
        for e in document["edges"]:
            transition[index[e["source"]], index[e["target"]]] = e["probability"]
        entry = np.zeros(len(ids))
        entry[index[document["entry"]]] = 1
        visits = np.linalg.solve(np.eye(len(ids)) - transition.T, entry)
        (hosted,) = document["self_hosted"]
        tokens = sum(visits[index[c["node"]]] * c["tokens_per_visit"] for c in hosted["calls"])
        per_second = document["requests_per_month"] / (hosted["hours_per_month"] * 3600)
        peak = hosted["peak_factor"] * per_second * tokens
        replicas = max(hosted["min_replicas"],
                       int(np.ceil(peak / (hosted["throughput"] * hosted["utilisation"]) * (1 - 1e-12))))
        assert replicas == hosted["replicas"] == {"20000": 2, "150000": 3}[tickets]
        monthly = replicas * hosted["price_per_hour"] * hosted["hours_per_month"]
        assert hosted["monthly"] == pytest.approx(monthly, rel=1e-12)
        assert document["results"]["self_hosted"]["gpu_monthly"] == pytest.approx(monthly, rel=1e-12)


def test_solving_for_a_monthly_target_on_the_staircase(compile_text):
    """720 USD a month per 86,400 requests a day: 1,000 USD is between two steps (the answer
    is the jump at 86,400), and 1,440 USD is the whole second step, not one point."""
    self_hosted = compile_text(SELF, name="self.llmarch")
    with pytest.raises(LlmarchError) as caught:
        self_hosted.solve("requests", 1000)
    assert caught.value.diagnostics[0].message == ("the target is never met exactly: the monthly cost jumps over "
                                                   "it at `requests` = 86400")
    with pytest.raises(LlmarchError) as caught:
        self_hosted.solve("requests", 1440)
    message = caught.value.diagnostics[0].message
    assert message.startswith("the target holds for every `requests` in [") and "not at separate points" in message


def test_explain_names_the_tokens_a_request_sends_the_model(monkeypatch):
    """In the chain of definitions (a model too large for closed forms) the demand is
    `tokens_on[llama]`: 1,750 tokens on each of `answer`'s two attempts."""
    from llmarch.compiler import explain
    monkeypatch.setattr(explain, "MAX_CLOSED_FORM_DEFINITIONS", 0)
    text = llmarch.load(ROOT / "examples" / "self_hosted.llmarch").explain()
    assert "tokens_on[llama] = 1750*visits[answer#1] + 1750*visits[answer#2]" in text
    assert "Max(2, ceiling(" in text and "tokens_on[llama]" in text.split("fixed monthly", 1)[1]
