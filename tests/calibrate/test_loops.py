"""Guardrail rejection rates and loop continuation rates are figures of their own: named
in the estimates (`check.rejection_rate`, `plan.continuation_rate`) and in
observed.llmarch's comments, recovered from simulated traces of a known model."""

import sys
from pathlib import Path

import pytest

import llmarch

sys.path.insert(0, str(Path(__file__).parent))
from trace_generator import simulate, write_otlp  # noqa: E402

AGENT = """
architecture "agent loop"
param questions = 500 requests/day
param again = 30%
param rejected = 12%
traffic = questions
model small = "openai:gpt-4o-mini" as of "2025-06-15"
llm plan { model = small; input = 300 tokens; output = 50 tokens }
retrieval tool { cost = 0.001 USD/query }
retrieval search { cost = 0.002 USD/query }
llm answer { model = small; input = 500 tokens; output = 200 tokens }
guardrail check { model = small; input = 250 tokens; output = 10 tokens }
flow {
  start -> plan
  plan -> tool (p = again)
  plan -> search (p = 10%)
  plan -> answer (otherwise)
  tool -> plan
  search -> plan
  answer -> check
  check -> answer (p = rejected, on_failure)
}
"""


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loops")
    path = folder / "agent.llmarch"
    path.write_text(AGENT)
    model = llmarch.load(path, cache=False)
    traces = folder / "traces.jsonl"
    write_otlp(simulate(model, requests=3000, days=6, seed=2), traces)
    return model.calibrate([traces]), path, folder


def test_rejection_and_continuation_rates_are_named_and_recovered(calibrated):
    cal, _, _ = calibrated
    by_field = {e.field: e for e in cal.estimates}
    rejection = by_field["check.rejection_rate"]
    assert rejection.parameter == "rejected" and rejection.low <= 0.12 <= rejection.high
    assert "checks that rejected, back to `answer`" in rejection.source
    # two ways round the loop from `plan`: each named by its target, and their sum
    again = by_field["plan.continuation_rate (to tool)"]
    assert again.parameter == "again" and again.low <= 0.30 <= again.high
    assert by_field["plan.continuation_rate (to search)"].parameter is None     # a literal
    total = by_field["plan.continuation_rate"]
    assert total.parameter is None and total.low <= 0.40 <= total.high
    # the edges out of the loop, and those on the way to a rejection, keep their names
    assert "plan -> answer" in by_field and "answer -> check" not in by_field   # p = 1 is not measured


def test_observed_file_names_them(calibrated):
    cal, path, folder = calibrated
    text = cal.observed_source(str(path), str(folder / "observed.llmarch"))
    assert "rejected = " in text and "`check` checks that rejected" in text
    assert "again = " in text and "went round the loop again, to `tool`" in text
    assert "#   plan.continuation_rate (to search) = " in text      # a literal: listed, not fitted
