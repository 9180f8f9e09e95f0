"""The readers, on fixture files written by hand from each format's documentation.

Where each field's meaning comes from:
- OTLP JSON: opentelemetry-proto's JSON mapping of `ExportTraceServiceRequest`
  (`resourceSpans` → `scopeSpans` → `spans`; `traceId`/`spanId`/`parentSpanId` as hex;
  `startTimeUnixNano`/`endTimeUnixNano` as decimal strings; `attributes` as key/AnyValue
  lists with int64 as strings; `status.code` 2 = STATUS_CODE_ERROR). The OpenTelemetry
  Collector's file exporter writes one such request per line.
- GenAI semantic conventions (OpenTelemetry semconv, gen-ai spans): `gen_ai.operation.name`,
  `gen_ai.provider.name` (older `gen_ai.system`), `gen_ai.request.model`,
  `gen_ai.response.model`, `gen_ai.usage.input_tokens` — which *includes* cached tokens —,
  `gen_ai.usage.output_tokens`, `gen_ai.usage.cache_read.input_tokens` ("the number of
  cached tokens used to process the input"), `gen_ai.usage.cache_creation.input_tokens`
  ("tokens written to the cache"), `error.type`.
- Langfuse observations (the public API's Observation/ObservationsView and the export's
  snake_case columns): `id`, `trace_id`, `parent_observation_id`, `type` (GENERATION, SPAN,
  EVENT), `name`, `provided_model_name`, `start_time`/`end_time` (ISO 8601),
  `level` (DEBUG, DEFAULT, WARNING, ERROR), `usage_details` (`input`, `output`,
  `input_cached_tokens`, …), `cost_details` ("key is the name of the cost metric, value is
  the cost in USD; the total key is the sum"), `total_cost`.
`llmarch.cache_hit` (OTLP) and `metadata.cache_hit` (Langfuse) are llmarch's own marks for
a semantic cache's verdict (no convention has one; docs/calibrate.md).
"""

from pathlib import Path

import pytest

from llmarch.compiler.calibrate.readers import CalibrationError, Skips, read_traces

FIXTURES = Path(__file__).parent / "fixtures"


def _read(name, fmt):
    skips = Skips()
    return list(read_traces([FIXTURES / name], fmt, skips)), skips


def test_otlp_exporter_file():
    spans, skips = _read("otlp_exporter.json", "otlp")
    assert not skips
    assert [s.name for s in spans] == ["request", "answers", "answer", "answer"]
    root, cache, failed, ok = spans
    assert root.parent_id is None and cache.parent_id == root.span_id
    assert cache.cache_hit is False
    assert failed.is_error and failed.model == "gpt-4o-mini-2024-07-18"      # the response model wins
    assert failed.input_tokens == 480 and failed.output_tokens is None
    # input_tokens includes the cached ones: 480 = 80 not cached + 400 read from the cache
    assert (ok.input_tokens, ok.cached_tokens, ok.output_tokens) == (80, 400, 250)
    assert not ok.is_error and ok.model == "gpt-4o-mini"                   # request model when no response model
    assert ok.start_s == pytest.approx(1780000001.4)
    # prompt contents are never read into a span
    assert all("SECRET" not in repr(s) for s in spans)


def test_otlp_spans_as_json_lines():
    spans, skips = _read("otlp_spans.jsonl", "otlp")
    assert not skips and len(spans) == 3
    assert [s.cache_hit for s in spans[:2]] == [True, False]
    assert spans[2].input_tokens == 500 and spans[2].parent_id == "b7ad6b7169203332"


@pytest.mark.parametrize("name", ["langfuse_observations.jsonl", "langfuse_observations.csv"])
def test_langfuse_export(name):
    spans, skips = _read(name, "langfuse")
    assert not skips
    assert [s.name for s in spans] == ["answers", "answer", "answer", "moderation"]
    cache, failed, ok, moderation = spans
    assert cache.cache_hit is False and cache.recorded_cost is None
    assert failed.is_error and failed.recorded_cost == pytest.approx(0.000072)
    # Langfuse's `input` excludes the cached tokens (they are `input_cached_tokens`)
    assert (ok.input_tokens, ok.cached_tokens, ok.output_tokens) == (80, 400, 250)
    assert ok.recorded_cost == pytest.approx(0.000192)
    assert moderation.model == "omni-moderation-latest"
    assert all("SECRET" not in repr(s) for s in spans)


def test_langfuse_parquet(tmp_path):
    import duckdb
    target = tmp_path / "observations.parquet"
    duckdb.connect().execute(f"COPY (SELECT * FROM read_csv('{FIXTURES / 'langfuse_observations.csv'}', "
                             f"all_varchar = true)) TO '{target}' (FORMAT parquet)")
    skips = Skips()
    spans = list(read_traces([target], "langfuse", skips))
    assert not skips
    assert [(s.name, s.input_tokens, s.cached_tokens) for s in spans][2] == ("answer", 80, 400)


def test_a_file_of_another_format_is_a_clear_error(tmp_path):
    with pytest.raises(CalibrationError, match="an OpenTelemetry file, not a Langfuse export"):
        _read("otlp_exporter.json", "langfuse")
    with pytest.raises(CalibrationError, match="not a Langfuse observations CSV"):
        bad = tmp_path / "x.csv"
        bad.write_text("a,b\n1,2\n")
        list(read_traces([bad], "langfuse", Skips()))
    with pytest.raises(CalibrationError, match="not JSON"):
        bad = tmp_path / "x.txt"
        bad.write_text("timestamp level message\n")
        list(read_traces([bad], "otlp", Skips()))
    with pytest.raises(CalibrationError, match="no such trace file"):
        list(read_traces([tmp_path / "missing.jsonl"], "otlp", Skips()))
