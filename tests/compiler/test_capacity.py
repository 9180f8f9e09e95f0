"""Capacity: provider limits against the demand a request makes, derived by hand (a limit that
binds at a computed traffic, a fallback's calls on the fallback model, tokens per minute with
retries, Little's law), and checked against an independent numpy solve of the exported
graph's visits on random architectures."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import llmarch
from llmarch.api import format_capacity
from llmarch.cli import main
from llmarch.compiler.schemas import DOCUMENTS

HEADER = """
architecture "case"
traffic = 1440 requests/day
settings { peak = 3 }
model m { input = 1 USD/Mtok; output = 2 USD/Mtok; ttft = 400 ms; tokens_per_second = 50 tokens/s
          rpm = 60 requests/min; input_tpm = 30000 tokens/min; output_tpm = 1000 tokens/min; concurrency = 2 requests }
model big { input = 5 USD/Mtok; output = 15 USD/Mtok; ttft = 800 ms; tokens_per_second = 25 tokens/s
            rpm = 10 requests/min }
"""


def _limit(capacity, model: str, limit: str):
    (row,) = [r for r in capacity.limits if r.model == model and r.limit == limit]
    return row


def test_a_limit_binds_at_the_traffic_where_the_peak_demand_reaches_it(compile_text):
    """1440 requests/day is 1 a minute; one call of 200 output tokens: 200 tokens/min at the
    mean, 600 at the peak (× 3) against 1000: it binds at 1440 × 1000 / 600 = 2400 a day."""
    model = compile_text(HEADER + """
        llm answer { model = m; input = 1000 tokens; output = 200 tokens }
        flow { start -> answer -> success }
    """)
    c = model.capacity()
    out = _limit(c, "m", "output_tpm")
    assert (out.per_request, out.mean_demand, out.peak_demand) == pytest.approx((200, 200, 600), rel=1e-12)
    assert out.peak_utilisation == pytest.approx(0.6, rel=1e-12)
    assert out.headroom == pytest.approx(400, rel=1e-12)
    assert out.binds_at == pytest.approx(2400, rel=1e-12)
    rpm = _limit(c, "m", "rpm")                       # 3 calls a minute at the peak against 60
    assert rpm.binds_at == pytest.approx(1440 * 60 / 3, rel=1e-12)
    assert c.binding == out
    assert out.throttled_share == 0
    # at 3600 requests/day (2.5 a minute), the peak asks 1500 tokens/min: a third is refused
    busy = compile_text(HEADER.replace("1440 requests/day", "3600 requests/day") + """
        llm answer { model = m; input = 1000 tokens; output = 200 tokens }
        flow { start -> answer -> success }
    """, name="busy.llmarch").capacity()
    assert _limit(busy, "m", "output_tpm").throttled_share == pytest.approx(1 - 1000 / 1500, rel=1e-12)


def test_tokens_per_minute_count_every_retry(compile_text):
    """Attempt i is visited p^(i−1) times: 1 + p + p² calls, each sending its input tokens."""
    p = 0.2
    model = compile_text(HEADER + f"""
        llm answer {{ model = m; input = 1000 tokens; output = 200 tokens; fail_rate = {p}; attempts = 3 }}
        flow {{ start -> answer -> success }}
    """)
    c = model.capacity()
    calls = 1 + p + p * p
    assert _limit(c, "m", "rpm").per_request == pytest.approx(calls, rel=1e-12)
    assert _limit(c, "m", "input_tpm").mean_demand == pytest.approx(1000 * calls, rel=1e-12)
    assert _limit(c, "m", "input_tpm").peak_demand == pytest.approx(3000 * calls, rel=1e-12)


def test_a_fallback_models_calls_count_on_the_fallback_model(compile_text):
    """After three failed attempts (p³ of requests) the call goes to `big`: its rpm counts
    p³ calls a request, and `m`'s counts the attempts only."""
    p = 0.1
    model = compile_text(HEADER + f"""
        llm answer {{ model = m; input = 1000 tokens; output = 200 tokens; fail_rate = {p}; attempts = 3;
                     fallback_model = big }}
        flow {{ start -> answer -> success }}
    """)
    c = model.capacity()
    assert _limit(c, "big", "rpm").per_request == pytest.approx(p ** 3, rel=1e-12)
    assert _limit(c, "m", "rpm").per_request == pytest.approx(1 + p + p * p, rel=1e-12)
    # big's limit: 10 a minute against 3 × p³ at the peak
    assert _limit(c, "big", "rpm").binds_at == pytest.approx(1440 * 10 / (3 * p ** 3), rel=1e-12)


def test_little_law_in_flight_is_arrivals_times_visits_times_time(compile_text):
    """A call takes 0.4 + 200/50 = 4.4 s; with p = 0.5 and two attempts and a 1 s backoff the
    component holds a request 4.4 + 0.5 × 5.4 s on average; at 1 request a minute that many
    sixtieths of a request are inside at once. The model's `concurrency` counts the calls
    only (no backoff): 4.4 × 1.5 s."""
    model = compile_text(HEADER + """
        llm answer { model = m; input = 1000 tokens; output = 200 tokens; fail_rate = 0.5; attempts = 2;
                     backoff = 1 s; fallback = success }
        flow { start -> answer -> success }
    """)
    c = model.capacity()
    (row,) = c.in_flight
    seconds = 4.4 + 0.5 * 5.4
    assert row.seconds_per_request == pytest.approx(seconds, rel=1e-12)
    assert row.mean == pytest.approx(seconds / 60, rel=1e-12)
    assert row.peak == pytest.approx(3 * seconds / 60, rel=1e-12)
    assert row.seconds_per_request == pytest.approx(model.cost().latency_per_request, rel=1e-12)
    conc = _limit(c, "m", "concurrency")
    assert conc.per_request == pytest.approx(4.4 * 1.5, rel=1e-12)
    assert conc.peak_demand == pytest.approx(3 * 4.4 * 1.5 / 60, rel=1e-12)


def test_no_limits_and_no_time(compile_text):
    model = compile_text("""
        architecture "plain"
        traffic = 100 requests/day
        model m { input = 1 USD/Mtok; output = 2 USD/Mtok }
        llm answer { model = m; input = 100 tokens; output = 10 tokens }
        flow { start -> answer -> success }
    """)
    c = model.capacity()
    assert c.limits == [] and c.binding is None and c.in_flight == [] and c.peak == 1
    text = format_capacity(c)
    assert "no limit declared" in text and "declares no time" in text
    DOCUMENTS["capacity"].model_validate(json.loads(format_capacity(c, "json")))


def test_the_command_prints_the_binding_limit(tmp_path, capsys):
    path = tmp_path / "case.llmarch"
    path.write_text(HEADER + """
llm answer { model = m; input = 1000 tokens; output = 200 tokens }
flow { start -> answer -> success }
""")
    assert main(["capacity", str(path)]) == 0
    out = capsys.readouterr().out
    assert "binds first: `m` output_tpm at 2400 requests/day" in out
    assert main(["capacity", str(path), "-f", "markdown"]) == 0
    assert "| `m` | output_tpm |" in capsys.readouterr().out


# --- random architectures against an independent solve of the export ---------------------

@st.composite
def limited_architectures(draw):
    n = draw(st.integers(1, 4))
    names = [f"c{i}" for i in range(n)]
    lines = ['architecture "random"', "traffic = 1000 requests/day", "settings { peak = 2 }",
             "model m { input = 1 USD/Mtok; output = 2 USD/Mtok; ttft = 300 ms; tokens_per_second = 100 tokens/s; "
             "rpm = 100 requests/min; input_tpm = 100000 tokens/min; concurrency = 5 requests }",
             "model big { input = 5 USD/Mtok; output = 15 USD/Mtok; ttft = 600 ms; tokens_per_second = 40 tokens/s; "
             "rpm = 20 requests/min; output_tpm = 5000 tokens/min }"]
    flow = [f"  start -> {names[0]}"]
    for i, name in enumerate(names):
        tokens = draw(st.sampled_from([100, 800, 3000]))
        fields = [f"model = {draw(st.sampled_from(['m', 'big']))}", f"input = {tokens} tokens", "output = 120 tokens"]
        if draw(st.booleans()):
            fields += [f"fail_rate = {draw(st.sampled_from([0.05, 0.2, 0.5]))}",
                       f"attempts = {draw(st.integers(2, 3))}", "backoff = 1 s"]
            if draw(st.booleans()):
                fields.append("fallback_model = big")
        lines.append(f"llm {name} {{ " + "; ".join(fields) + " }")
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


def _export_visits(export: dict) -> dict[str, float]:
    ids = [n["id"] for n in export["nodes"]]
    index = {n: i for i, n in enumerate(ids)}
    P = np.zeros((len(ids), len(ids)))
    for e in export["edges"]:
        P[index[e["source"]], index[e["target"]]] += e["probability"]
    entry = np.zeros(len(ids))
    entry[index[export["entry"]]] = 1.0
    visits = np.linalg.solve(np.eye(len(ids)) - P.T, entry)
    return dict(zip(ids, visits))


@settings(max_examples=25, deadline=None)
@given(limited_architectures())
def test_demand_and_in_flight_match_the_exported_graphs_visits(tmp_path_factory, source):
    path = tmp_path_factory.mktemp("cap") / "random.llmarch"
    path.write_text(source)
    model = llmarch.load(path, cache=False)
    export = model.export()
    visits = _export_visits(export)
    c = model.capacity()
    comps = model.compiled.arch.components
    calls = {"m": 0.0, "big": 0.0}
    tokens_in = {"m": 0.0, "big": 0.0}
    for node, v in visits.items():
        base = node.split("#")[0].split("@")[0]
        if base not in comps:
            continue
        on = node.split("@")[1] if "@" in node else comps[base].model
        calls[on] += v
        tokens_in[on] += v * float(comps[base].input_tokens)
    assert _limit(c, "m", "rpm").per_request == pytest.approx(calls["m"], rel=1e-9, abs=1e-12)
    assert _limit(c, "big", "rpm").per_request == pytest.approx(calls["big"], rel=1e-9, abs=1e-12)
    assert _limit(c, "m", "input_tpm").per_request == pytest.approx(tokens_in["m"], rel=1e-9, abs=1e-9)
    times = {n["id"]: n["latency_per_visit"] for n in export["nodes"]}
    system = sum(visits[n] * times[n] for n in visits)
    assert sum(r.seconds_per_request for r in c.in_flight) == pytest.approx(system, rel=1e-9)
    assert sum(r.mean for r in c.in_flight) == pytest.approx(1000 / 86400 * system, rel=1e-9)


def test_the_example_of_the_docs(tmp_path):
    """docs/capacity.md's worked example: the file there, the figures derived there by hand,
    and the table it shows is the one the command prints."""
    from pathlib import Path
    page = (Path(__file__).resolve().parents[2] / "docs" / "capacity.md").read_text(encoding="utf-8")
    section = page.split("## Provider limits and the peak", 1)[1]
    source = section.split("```llmarch\n", 1)[1].split("```", 1)[0]
    shown = "model  limit" + section.split("```\nmodel  limit", 1)[1].split("```", 1)[0]
    path = tmp_path / "doc.llmarch"
    path.write_text(source)
    c = llmarch.load(path, cache=False).capacity()
    tpm = _limit(c, "m", "tpm")
    assert tpm.per_request == pytest.approx(1.11 * 1200, rel=1e-12)
    assert tpm.binds_at == pytest.approx(1440 * 5000 / 3996, rel=1e-12)
    assert c.binding == tpm
    assert _limit(c, "m", "output_tpm").binds_at == pytest.approx(1440 * 1000 / 666, rel=1e-12)
    assert _limit(c, "big", "rpm").per_request == pytest.approx(0.001, rel=1e-9)
    assert _limit(c, "m", "concurrency").mean_demand == pytest.approx(1.11 * 4.4 / 60, rel=1e-12)
    (answer, copy) = c.in_flight
    assert answer.seconds_per_request == pytest.approx(1.11 * 4.4 + 0.11, rel=1e-12)
    assert copy.seconds_per_request == pytest.approx(0.001 * 8.8, rel=1e-9)
    printed = format_capacity(c)
    assert shown.strip() in printed


def test_the_support_examples_limits_as_the_docs_show_them(capsys, monkeypatch):
    """docs/capacity.md quotes `llmarch capacity` on the support example: every line it
    shows is printed (the page leaves rows out with `...`)."""
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    page = (root / "docs" / "capacity.md").read_text(encoding="utf-8")
    section = page.split("## The support example's limits", 1)[1]
    shown = section.split("```\n", 2)[1].split("```", 1)[0]
    assert main(["capacity", "examples/support_assistant.llmarch", "--scenario", "production"]) == 0
    printed = capsys.readouterr().out.splitlines()
    for line in shown.splitlines():
        if line and line != "...":
            assert line in printed

    # and at 2,500 tickets a day (`--set`), GPT-4's tpm is over its limit at the peak
    over = section.split("--set tickets_per_day=2500\n", 1)[1].split("```", 1)[0]
    assert main(["capacity", "examples/support_assistant.llmarch", "--scenario", "production",
                 "--set", "tickets_per_day=2500"]) == 0
    printed = capsys.readouterr().out.splitlines()
    for line in over.splitlines():
        if line and line != "...":
            assert line in printed
