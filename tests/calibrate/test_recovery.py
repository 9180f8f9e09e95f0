"""Calibration recovers a known model from its own simulated traces.

A few random models (seeded) are simulated with `trace_generator`, written as OTLP, Langfuse
and Helicone files, and calibrated: every parameter the file names must come back inside its
interval. With a dozen 95% intervals per model some would miss by chance, so the test asks
every parameter to be inside its interval widened to 99.9% (3.29 standard errors) and at
least 85% of them inside the 95% one. The reconciliation of the exact model must show a
gap inside the sampling error of the traced cost.
"""

import math
import random
import statistics
import sys
from pathlib import Path

import pytest

import llmarch

sys.path.insert(0, str(Path(__file__).parent))
from trace_generator import (DAY, START, simulate, write_helicone_csv, write_helicone_jsonl,  # noqa: E402
                             write_langfuse_jsonl, write_otlp)

WRITERS = {"otlp": write_otlp, "langfuse": write_langfuse_jsonl, "helicone": write_helicone_jsonl,
           "helicone-csv": write_helicone_csv}

WIDEN = 3.2905 / 1.95996

MODEL = """
architecture "random {seed}"
param questions = {traffic} requests/day
param fail = {fail}%
param hit = {hit}%
param prompt = {prompt} tokens
param answer_tokens = {answer} tokens
param search_share = {share}%
traffic = questions
model small = "openai:gpt-4o-mini" as of "2025-06-15"
model large = "openai:gpt-4o" as of "2025-06-15"
cache answers {{ hit_rate = hit; cost = 0.0001 USD/query }}
llm answer {{ model = small; input = prompt; output = answer_tokens; fail_rate = fail; attempts = {attempts}; fallback_model = large }}
retrieval search {{ cost = 0.001 USD/query }}
llm rewrite {{ model = small; input = 120 tokens; output = 30 tokens }}
flow {{ start -> answers; answers -> search (p = search_share); answers -> rewrite (otherwise); search -> answer; rewrite -> answer }}
"""


def _random_model(seed: int) -> tuple[str, dict]:
    rng = random.Random(seed)
    truth = {"questions": rng.choice([300, 500, 800]), "fail": round(rng.uniform(3, 25), 1),
             "hit": round(rng.uniform(5, 40), 1), "prompt": rng.randint(200, 2000),
             "answer_tokens": rng.randint(50, 600), "search_share": round(rng.uniform(10, 90), 1)}
    text = MODEL.format(seed=seed, traffic=truth["questions"], fail=truth["fail"], hit=truth["hit"],
                        prompt=truth["prompt"], answer=truth["answer_tokens"], share=truth["search_share"],
                        attempts=rng.randint(1, 3))
    return text, truth


def _in_unit(name, value):
    return value * 100 if name in ("fail", "hit", "search_share") else value


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("fmt", ["otlp", "langfuse", "helicone", "helicone-csv"])
def test_parameters_come_back_inside_their_intervals(tmp_path, seed, fmt):
    text, truth = _random_model(seed)
    path = tmp_path / "model.llmarch"
    path.write_text(text)
    model = llmarch.load(path, cache=False)
    days = 7
    spans = simulate(model, requests=truth["questions"] * days, days=days, seed=seed, reasoning_share=0.4)
    traces = tmp_path / f"traces.{fmt}.{'csv' if fmt.endswith('csv') else 'jsonl'}"
    WRITERS[fmt](spans, traces)
    cal = model.calibrate([traces], trace_format=fmt.split("-")[0], since=_iso(START), until=_iso(START + days * DAY))
    fitted = {e.parameter: e for e in cal.fitted}
    assert set(fitted) == set(truth)
    inside = 0
    for name, value in truth.items():
        e = fitted[name]
        scale = 100 if e.kind == "share" else 1
        low, high, mid = e.low * scale, e.high * scale, e.value * scale
        wide = (mid - (mid - low) * WIDEN, mid + (high - mid) * WIDEN)
        assert wide[0] <= value <= wide[1], f"{name}: {value} outside {wide} (n={e.n})"
        inside += low <= value <= high
    assert inside >= 0.85 * len(truth)
    # reasoning tokens, where the format carries them, are their own figure, part of the output
    reasoning = {e.field: e for e in cal.estimates}.get("answer.reasoning")
    if fmt.startswith("helicone"):
        assert reasoning is None
    else:
        true_mean = statistics.mean(s.reasoning_tokens for s in spans
                                    if s.name == "answer" and s.reasoning_tokens is not None)
        assert reasoning.low <= true_mean <= reasoning.high or abs(reasoning.value - true_mean) < 1e-9
        assert reasoning.parameter is None and reasoning.value < fitted["answer_tokens"].value


def _iso(seconds):
    from datetime import datetime, timezone
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()


@pytest.mark.parametrize("fmt", ["otlp", "helicone"])
def test_an_exact_model_reconciles_with_its_own_traces(tmp_path, fmt):
    text, truth = _random_model(7)
    path = tmp_path / "model.llmarch"
    path.write_text(text)
    model = llmarch.load(path, cache=False)
    spans = simulate(model, requests=4000, days=7, seed=7, cached_share=0.0)   # the file declares no prompt cache
    traces = tmp_path / "traces.jsonl"
    WRITERS[fmt](spans, traces)
    cal = model.calibrate([traces], trace_format=fmt)     # Helicone: its recorded `cost` is reconciled
    per_trace: dict[str, float] = {}
    for s in spans:
        per_trace[s.trace_id] = per_trace.get(s.trace_id, 0.0) + (s.cost or 0.0)
    standard_error = statistics.pstdev(per_trace.values()) * math.sqrt(len(per_trace))
    predicted = sum(r.predicted for r in cal.reconciliation if r.implied is not None)
    implied = sum(r.implied for r in cal.reconciliation if r.implied is not None)
    recorded = sum(r.recorded for r in cal.reconciliation if r.recorded is not None)
    assert abs(implied - predicted) < 3.29 * standard_error
    assert recorded == pytest.approx(implied, rel=1e-9)     # the generator records tokens at the file's prices
    assert cal.gap[-1].parameter is None and len(cal.gap) == len([e for e in cal.fitted if e.kind != "rate"]) + 1
    with_fitted = predicted + cal.gap[-1].change
    assert abs(implied - with_fitted) < 3.29 * standard_error     # the fitted file explains the traces too
    rows = {r.row: r for r in cal.reconciliation}
    assert "answer@large" in rows and rows["answer@large"].spans > 0
