"""Spans to components: by name, by a component's `span = "glob"`, fallback copies by model."""

import json

import llmarch
from llmarch.compiler.calibrate.mapping import like_pattern

MODEL = """
traffic = 1000 requests/day
model small = "openai:gpt-4o-mini" as of "2025-06-15"
model large = "openai:gpt-4o" as of "2025-06-15"
llm answer { model = small; input = 500 tokens; output = 200 tokens; fail_rate = 5%; fallback_model = large
             span = "chat gpt-4o*" }
llm moderate { model = small; input = 100 tokens; output = 1 tokens }
flow { start -> moderate -> answer }
"""


def _span(trace, span, name, model, start):
    return json.dumps({"traceId": trace, "spanId": span, "name": name,
                       "startTimeUnixNano": str(1780000000 * 10**9 + start * 10**9),
                       "endTimeUnixNano": str(1780000000 * 10**9 + start * 10**9 + 1),
                       "attributes": {"gen_ai.request.model": model, "gen_ai.usage.input_tokens": 100,
                                      "gen_ai.usage.output_tokens": 10}})


def test_like_pattern_takes_percent_and_underscore_literally():
    assert like_pattern("chat gpt-4o*") == "chat gpt-4o%"
    assert like_pattern("a_b%c?!") == "a!_b!%c_!!"


def test_a_span_glob_replaces_the_name_and_the_model_picks_the_fallback_copy(compile_text, tmp_path):
    model = compile_text(MODEL)
    assert model.compiled.arch.components["answer"].telemetry_span == "chat gpt-4o*"
    lines = [_span("t1", "1", "moderate", "gpt-4o-mini", 0),
             _span("t1", "2", "chat gpt-4o-mini", "gpt-4o-mini-2024-07-18", 1),
             _span("t2", "3", "moderate", "gpt-4o-mini", 2),
             _span("t2", "4", "chat gpt-4o-mini", "gpt-4o-mini", 3),
             _span("t2", "5", "chat gpt-4o", "gpt-4o-2024-08-06", 4),     # the fallback, on the large model
             _span("t2", "6", "answer", "gpt-4o-mini", 5)]                 # the name no longer maps
    path = tmp_path / "traces.jsonl"
    path.write_text("\n".join(lines) + "\n")
    cal = model.calibrate([path])
    rows = {r.row: r.spans for r in cal.reconciliation}
    assert rows["answer"] == 2 and rows["answer@large"] == 1 and rows["moderate"] == 2
    assert cal.unmatched == [("answer", 1)]
