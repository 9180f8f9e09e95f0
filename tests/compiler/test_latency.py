"""Latency: a request's expected time, derived by hand for the constructs that compound it
(retries with backoff, fallbacks, regeneration loops), and checked against an independent
numpy solve of the exported graph on random architectures."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import llmarch
from llmarch.compiler import output, present
from llmarch.compiler.schemas import DOCUMENTS

HEADER = """
architecture "case"
traffic = 1000 requests/day
model m { input = 1 USD/Mtok; output = 2 USD/Mtok; ttft = 400 ms; tokens_per_second = 80 tokens/s }
model big { input = 5 USD/Mtok; output = 15 USD/Mtok; ttft = 800 ms; tokens_per_second = 40 tokens/s }
"""


@pytest.mark.parametrize("p, attempts, backoff", [(0.1, 1, 0.0), (0.1, 3, 1.0), (0.5, 4, 2.5), (0.3, 10, 0.2)])
def test_call_tried_n_times_with_backoff(compile_text, p, attempts, backoff):
    """Attempt i is visited p^(i−1) times: the calls take t·(1 − p^N)/(1 − p) and the
    backoffs, waited before attempts 2 … N, b·(p − p^N)/(1 − p)."""
    retry = f"; backoff = {backoff} s" if attempts > 1 else ""
    model = compile_text(HEADER + f"""
        tool call {{ cost = 0.01 USD; latency = 300 ms; fail_rate = {p}; attempts = {attempts}{retry} }}
        flow {{ start -> call }}
    """)
    result = model.cost()
    calls = (1 - p ** attempts) / (1 - p)
    retries = (p - p ** attempts) / (1 - p)
    assert result.latency_per_request == pytest.approx(0.3 * calls + backoff * retries, rel=1e-12)
    assert result.happy_path_latency_per_request == pytest.approx(0.3, rel=1e-12)
    (row,) = result.components
    assert row.latency_per_request == pytest.approx(result.latency_per_request, rel=1e-12)


# (0.2, 3, 1.0) is the example of docs/capacity.md
@pytest.mark.parametrize("p, attempts, backoff", [(0.1, 2, 0.0), (0.2, 3, 1.0), (0.5, 5, 2.5)])
def test_the_spread_of_a_retried_call_by_enumerating_its_paths(compile_text, p, attempts, backoff):
    """K attempts are made with P(K = k) = p^(k−1)(1 − p) for k < N and p^(N−1) for k = N;
    the request then takes t·K + b·(K − 1)."""
    model = compile_text(HEADER + f"""
        tool call {{ cost = 0.01 USD; latency = 300 ms; fail_rate = {p}; attempts = {attempts}; backoff = {backoff} s;
                     fallback = success }}
        flow {{ start -> call }}
    """)
    result = model.cost()
    paths = [(p ** (k - 1) * (1 - p) if k < attempts else p ** (attempts - 1), 0.3 * k + backoff * (k - 1))
             for k in range(1, attempts + 1)]
    mean = sum(w * x for w, x in paths)
    variance = sum(w * (x - mean) ** 2 for w, x in paths)
    assert result.latency_per_request == pytest.approx(mean, rel=1e-12)
    assert result.latency_std_dev == pytest.approx(math.sqrt(variance), rel=1e-9)
    assert result.happy_path_latency_std_dev == 0.0


def test_model_call_time_and_fallback_model(compile_text):
    """ttft + output ÷ tokens_per_second, the fallback copy at its own model's speed."""
    model = compile_text(HEADER + """
        llm answer { model = m; input = 1000 tokens; output = 240 tokens; fail_rate = 20%; attempts = 2;
                     backoff = 1 s; fallback_model = big }
        flow { start -> answer }
    """)
    result = model.cost()
    call, fallback = 0.4 + 240 / 80, 0.8 + 240 / 40
    expected = call * (1 + 0.2) + 1.0 * 0.2 + fallback * 0.2 ** 2
    assert result.latency_per_request == pytest.approx(expected, rel=1e-12)
    rows = {r.name: r for r in result.components}
    assert rows["answer@big"].latency_per_request == pytest.approx(fallback * 0.04, rel=1e-12)
    assert rows["answer@big"].happy_path_latency_per_request == 0.0
    assert result.happy_path_latency_per_request == pytest.approx(call, rel=1e-12)


def test_component_speed_overrides_the_model(compile_text):
    model = compile_text(HEADER + """
        llm answer { model = m; input = 100 tokens; output = 300 tokens; ttft = 1 s; tokens_per_second = 150 tokens/s }
        llm short { model = m; input = 100 tokens; output = 40 tokens; tokens_per_second = 20 tokens/s }
        embedding e { model = m; input = 100 tokens }
        flow { start -> e -> answer -> short }
    """)
    rows = {r.name: r.latency_per_request for r in model.cost().components}
    assert rows == pytest.approx({"e": 0.4, "answer": 1 + 300 / 150, "short": 0.4 + 40 / 20}, rel=1e-12)


def test_guardrail_regeneration_loop_is_geometric(compile_text):
    """A check sending the answer back with probability r: 1/(1 − r) passes of both."""
    r = 0.25
    model = compile_text(HEADER + f"""
        llm gen {{ model = m; input = 500 tokens; output = 160 tokens }}
        guardrail check {{ cost = 0.0001 USD; latency = 50 ms }}
        flow {{
          start -> gen -> check
          check -> gen (p = {r})
        }}
    """)
    result = model.cost()
    assert result.latency_per_request == pytest.approx((0.4 + 2 + 0.05) / (1 - r), rel=1e-12)
    # a regeneration the flow asks for is not a failure: the happy path takes it too
    assert result.happy_path_latency_per_request == pytest.approx(result.latency_per_request, rel=1e-12)
    # K passes, geometric: Var K = r / (1 − r)²
    assert result.latency_std_dev == pytest.approx(2.45 * math.sqrt(r) / (1 - r), rel=1e-9)


def test_human_review_takes_its_time_once_the_file_declares_time(compile_text):
    model = compile_text(HEADER + """
        tool draft { cost = 0.002 USD; latency = 2 s }
        human review { time = 6 min; rate = 45 USD/hour }
        flow { start -> draft; draft -> review (p = 2%) }
        budget latency < 10 s
    """)
    result = model.cost()
    assert result.latency_per_request == pytest.approx(2 + 0.02 * 360, rel=1e-12)
    (budget,) = model.budgets()
    assert budget.holds and budget.value == pytest.approx(9.2) and budget.margin == pytest.approx(0.8)


def test_a_latency_budget_that_does_not_hold(compile_text):
    model = compile_text(HEADER + """
        tool slow { cost = 0.002 USD; latency = 1500 ms }
        flow { start -> slow }
        budget latency < 1 s
    """)
    (budget,) = model.budgets()
    assert not budget.holds and budget.value == pytest.approx(1.5)
    assert "latency is 1.5 s, over by 500 ms" in budget.line() or "1.5 s" in budget.line()


def test_latency_follows_scenarios_and_parameters(compile_text):
    model = compile_text(HEADER + """
        param lookup = 200 ms
        tool search { cost = 0.001 USD; latency = lookup * 2 }
        flow { start -> search }
        scenario slow { lookup = 1 s }
    """)
    assert model.cost().latency_per_request == pytest.approx(0.4)
    assert model.cost(scenario="slow").latency_per_request == pytest.approx(2.0)
    assert model.cost(set={"lookup": "50 ms"}).latency_per_request == pytest.approx(0.1)


def test_a_file_without_time_shows_nothing_new(compile_text):
    model = compile_text("""
        architecture "case"
        traffic = 1000 requests/day
        tool search { cost = 0.001 USD }
        human review { time = 6 min; rate = 45 USD/hour }
        flow { start -> search -> review }
    """)
    result = model.cost()
    assert result.latency_per_request is None and not result.has_latency
    data = output.cost_json(result)
    assert "latency" not in data["results"]
    assert all("latency_per_request" not in row for row in data["components"])
    assert "latency" not in output.cost_table(result) and "latency" not in output.cost_markdown(result)
    assert all("latency_per_visit" not in n for n in model.export()["nodes"])


def test_outputs_carry_latency(compile_text):
    model = compile_text(HEADER + """
        tool search { cost = 0.001 USD; latency = 150 ms; fail_rate = 10%; attempts = 2; backoff = 1 s }
        flow { start -> search }
    """)
    result = model.cost()
    data = output.cost_json(result)
    DOCUMENTS["cost"].model_validate({**data, "budgets": []})
    assert data["results"]["latency"]["per_request"] == result.latency_per_request
    table = output.cost_table(result)
    assert "expected latency per request" in table and present.duration(result.latency_per_request) in table
    export = model.export()
    DOCUMENTS["export"].model_validate(export)
    times = {n["id"]: n["latency_per_visit"] for n in export["nodes"]}
    assert times["search#1"] == pytest.approx(0.15) and times["search#2"] == pytest.approx(1.15)
    assert "expected latency per request (seconds)" in model.explain()


def test_cached_and_fresh_outputs_are_the_same(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMARCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LLMARCH_NO_CACHE", raising=False)
    path = tmp_path / "timed.llmarch"
    path.write_text(HEADER + """
        llm answer { model = m; input = 1000 tokens; output = 240 tokens; fail_rate = 20%; attempts = 2;
                     backoff = 1 s; fallback_model = big }
        flow { start -> answer }
        budget latency < 6 s
    """)
    fresh = llmarch.load(path)
    first = json.dumps(output.cost_json(fresh.cost()))
    cached = llmarch.load(path)
    assert json.dumps(output.cost_json(cached.cost())) == first
    assert output.cost_table(cached.cost()) == output.cost_table(fresh.cost())


@pytest.mark.parametrize("duration, text", [(0.0, "0 s"), (0.00042, "0.42 ms"), (0.34, "340 ms"), (2.9, "2.9 s"),
                                            (14.3309, "14.3 s"), (270, "4.5 min"), (4320, "1.2 h"),
                                            (-0.12, "\u2212120 ms")])
def test_durations_read_in_the_unit_that_fits(duration, text):
    assert present.duration(duration) == text


def test_the_documented_example_takes_what_capacity_md_says():
    """docs/capacity.md works the language page's latency example by hand: 200953/40000 s."""
    from pathlib import Path
    text = (Path(__file__).resolve().parents[2] / "docs" / "language.md").read_text(encoding="utf-8")
    section = text.split("## Latency: time per visit", 1)[1]
    source = section.split("```llmarch\n", 1)[1].split("```", 1)[0]
    result = llmarch.loads(source, path="example.llmarch").cost()
    assert result.latency_per_request == pytest.approx(200953 / 40000, rel=1e-12)
    assert result.happy_path_latency_per_request == pytest.approx(4.85, rel=1e-12)
    rows = {r.name: r.latency_per_request for r in result.components}
    assert rows["answer"] == pytest.approx(2.47325) and rows["answer@big"] == pytest.approx(0.000575)


# --- random architectures against an independent solve of the export ---------------------

@st.composite
def timed_architectures(draw):
    n = draw(st.integers(1, 5))
    names = [f"c{i}" for i in range(n)]
    lines = ['architecture "random"', "traffic = 1000 requests/day"]
    flow = [f"  start -> {names[0]}"]
    for i, name in enumerate(names):
        fields = ["cost = 0.01 USD", f"latency = {draw(st.sampled_from([0, 50, 300, 2000]))} ms"]
        if draw(st.booleans()):
            attempts = draw(st.integers(2, 4))
            fields += [f"fail_rate = {draw(st.sampled_from([0.05, 0.2, 0.5]))}", f"attempts = {attempts}",
                       f"backoff = {draw(st.sampled_from([0, 0.5, 2]))} s"]
        lines.append(f"tool {name} {{ " + "; ".join(fields) + " }")
        budget = 0.9
        if i + 1 < n:
            p = draw(st.sampled_from([0.3, 0.6, 0.9]))
            flow.append(f"  {name} -> {names[i + 1]} (p = {p})")
            budget -= p
        back = draw(st.sampled_from(names[: i + 1]))
        q = min(budget, draw(st.sampled_from([0.0, 0.1, 0.3])))
        if q > 0:
            flow.append(f"  {name} -> {back} (p = {q:.2f})")
    return "\n".join(lines + ["flow {"] + flow + ["}"]) + "\n"


def _solve_export(export: dict) -> tuple[float, float]:
    """(mean, standard deviation) of a request's time from the exported chain: the first two
    moments of the time from each node on, m₁ = t + P m₁ and m₂ = t² + 2 t·(P m₁) + P m₂."""
    ids = [n["id"] for n in export["nodes"]]
    index = {n: i for i, n in enumerate(ids)}
    P = np.zeros((len(ids), len(ids)))
    for e in export["edges"]:
        P[index[e["source"]], index[e["target"]]] += e["probability"]
    for n in export["nodes"]:
        if n["outcome"] is not None:
            P[index[n["id"]], :] = 0.0
    t = np.array([n["latency_per_visit"] for n in export["nodes"]])
    solve = np.linalg.inv(np.eye(len(ids)) - P)
    first = solve @ t
    second = solve @ (t * t + 2 * t * (P @ first))
    i = index[export["entry"]]
    return float(first[i]), float(math.sqrt(max(second[i] - first[i] ** 2, 0.0)))


def _walk_times(export: dict, walks: int, rng) -> list[float]:
    """A request's time on each of `walks` random walks of the exported chain (see the
    export's guarantee in docs/semantics.md)."""
    nodes = {n["id"]: n for n in export["nodes"]}
    out: dict[str, list[tuple[str, float]]] = {}
    for e in export["edges"]:
        out.setdefault(e["source"], []).append((e["target"], e["probability"]))
    times = []
    for _ in range(walks):
        current, total = export["entry"], 0.0
        while nodes[current]["outcome"] is None:
            total += nodes[current]["latency_per_visit"]
            u, nxt = rng.random(), None
            for target, p in out.get(current, []):
                u -= p
                if u < 0:
                    nxt = target
                    break
            if nxt is None:
                break
            current = nxt
        times.append(total)
    return times


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(timed_architectures(), st.integers(0, 2**32 - 1))
def test_expected_latency_and_its_spread_match_a_numpy_solve_of_the_export(tmp_path, source, seed):
    path = tmp_path / "random.llmarch"
    path.write_text(source)
    model = llmarch.load(path)
    result = model.cost()
    export = model.export()
    assert export["results"]["latency"]["per_request"] == result.latency_per_request
    mean, std_dev = _solve_export(export)
    assert math.isclose(result.latency_per_request, mean, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(result.latency_std_dev, std_dev, rel_tol=1e-6, abs_tol=1e-6)
    # and a simulation of walks on the exported graph: the mean within 6 exact standard errors
    walks = 2000
    times = _walk_times(export, walks, random.Random(seed))
    assert abs(np.mean(times) - result.latency_per_request) <= 6 * std_dev / math.sqrt(walks) + 1e-9
    assert math.isclose(sum(r.latency_per_request or 0.0 for r in result.components), result.latency_per_request,
                        rel_tol=1e-9, abs_tol=1e-12)


# --- sensitivity: exact derivatives of the expected latency --------------------------------

def test_latency_derivatives_match_finite_differences(compile_text):
    model = compile_text(HEADER + """
        param lookup = 200 ms
        param speed = 80 tokens/s
        param failing = 10%
        param regenerate = 20%
        tool search { cost = 0.001 USD; latency = lookup * 2 }
        llm answer { model = m; input = 500 tokens; output = 240 tokens; tokens_per_second = speed;
                     fail_rate = failing; attempts = 3; backoff = 1 s }
        guardrail check { cost = 0.0001 USD; latency = 50 ms }
        flow {
          start -> search -> answer -> check
          check -> answer (p = regenerate)
        }
    """)
    rows = {r.name: r for r in model.sensitivity()}
    base = model.cost().latency_per_request
    for name, value, step in [("lookup", 200, 1e-3), ("speed", 80, 1e-4), ("failing", 0.1, 1e-6),
                              ("regenerate", 0.2, 1e-6)]:
        up = model.cost(set={name: value + step}).latency_per_request
        down = model.cost(set={name: value - step}).latency_per_request
        assert rows[name].derivative_latency == pytest.approx((up - down) / (2 * step), rel=1e-5)
        assert rows[name].latency_elasticity == pytest.approx(rows[name].derivative_latency * value / base, rel=1e-12)
    # by hand: the search takes 2 × lookup, read in ms: 2 ms a ms, 0.002 s per ms
    assert rows["lookup"].derivative_latency == pytest.approx(0.002, rel=1e-12)
    from llmarch.compiler import analysis_output
    text = analysis_output.sensitivity_text(model.sensitivity(), "case")
    assert "d latency / d param" in text and "0.002 s per ms" in text
    DOCUMENTS["sensitivity"].model_validate(analysis_output.sensitivity_json(model.sensitivity(), "case", None)
                                            | {"at_month": None})


def test_sensitivity_without_latency_is_unchanged(compile_text):
    model = compile_text("""
        architecture "case"
        traffic = 1000 requests/day
        param price = 0.01 USD
        tool search { cost = price }
        flow { start -> search }
    """)
    (row,) = model.sensitivity()
    assert row.derivative_latency is None and "derivative_latency" not in row.to_json()
    from llmarch.compiler import analysis_output
    assert "latency" not in analysis_output.sensitivity_text([row], "case")


def test_diff_shows_the_change_of_latency(tmp_path):
    from llmarch.compiler.diff import compile_side, diff_json, diff_results, diff_text
    old, new, plain = tmp_path / "old.llmarch", tmp_path / "new.llmarch", tmp_path / "plain.llmarch"
    body = ('architecture "case"\ntraffic = 1000 requests/day\n'
            'tool search {{ cost = 0.001 USD{} }}\nflow {{ start -> search }}\n')
    old.write_text(body.format("; latency = 300 ms"))
    new.write_text(body.format("; latency = 120 ms"))
    plain.write_text(body.format(""))
    d = diff_results(compile_side(str(old)), compile_side(str(new)), "old", "new")
    (row,) = [r for r in d.totals if r.name == "expected latency per request"]
    assert (row.before, row.after) == (pytest.approx(0.3), pytest.approx(0.12))
    assert "300 ms" in diff_text(d) and "\u2212180 ms" in diff_text(d)
    DOCUMENTS["diff"].model_validate(diff_json(d))
    d = diff_results(compile_side(str(plain)), compile_side(str(old)), "plain", "old")
    (row,) = [r for r in d.totals if r.name == "expected latency per request"]
    assert row.before is None and row.status == "added"
    d = diff_results(compile_side(str(plain)), compile_side(str(plain)), "plain", "plain")
    assert all(r.name != "expected latency per request" for r in d.totals)
