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
- Helicone requests (the REST API's `HeliconeRequest`, docs.helicone.ai/rest/request/
  post-v1requestquery-clickhouse, whose rows the `@helicone/export` tool writes as JSON,
  JSONL or CSV, docs.helicone.ai/tools/export): `request_id`, `request_created_at` and
  `response_created_at` (ISO 8601), `request_model`/`response_model`, `response_status`
  (the HTTP status: "Success (200), error (4xx/5xx)", docs.helicone.ai observability/
  requests), `prompt_tokens`, `completion_tokens`, `prompt_cache_read_tokens`,
  `prompt_cache_write_tokens`, `cost` ("calculated cost in USD", HQL's `cost`), `latency`
  / `delay_ms` (milliseconds), `request_properties` (custom properties, a string map set
  by `Helicone-Property-NAME` headers; the session headers `Helicone-Session-Id` and
  `Helicone-Session-Path` land there too, HQL's `properties['Helicone-Session-Id']`).
  The `Component` property is llmarch's own (no convention names a component).
`llmarch.cache_hit` (OTLP) and `metadata.cache_hit` (Langfuse) are llmarch's own marks for
a semantic cache's verdict (no convention has one; docs/calibrate.md).
"""

import json
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
    with pytest.raises(CalibrationError, match="a folder, not a trace file"):
        list(read_traces([tmp_path], "otlp", Skips()))
    with pytest.raises(CalibrationError, match="not a regular file"):       # never read: /dev/zero has no end
        list(read_traces(["/dev/zero"], "otlp", Skips()))


@pytest.mark.parametrize("name", ["helicone_export.jsonl", "helicone_export.csv"])
def test_helicone_export(name):
    spans, skips = _read(name, "helicone")
    assert not skips
    # the `Component` property, else the session path's last segment, else the model
    assert [s.name for s in spans] == ["answers", "answer", "answer", "omni-moderation-latest"]
    cache, failed, ok, moderation = spans
    # a session is a trace; a request with no session is a trace of its own
    assert {cache.trace_id, failed.trace_id, ok.trace_id} == {"sess-1"}
    assert moderation.trace_id == moderation.span_id
    assert all(s.parent_id is None for s in spans)       # Helicone records no parent request
    assert cache.cache_hit is False and cache.recorded_cost is None
    assert failed.is_error and not ok.is_error               # HTTP 500 vs 200
    assert failed.model == "gpt-4o-mini-2024-07-18"          # the response model wins
    assert failed.recorded_cost == pytest.approx(0.000072)
    # prompt_tokens includes the cache reads: 480 = 80 not cached + 400 read from the cache
    assert (ok.input_tokens, ok.cached_tokens, ok.output_tokens) == (80, 400, 250)
    assert ok.end_s - ok.start_s == pytest.approx(2.4)        # latency in milliseconds
    assert failed.end_s - failed.start_s == pytest.approx(1.0)  # response_created_at when present
    assert all("SECRET" not in repr(s) for s in spans)


def test_helicone_bad_rows(tmp_path):
    path = tmp_path / "helicone.jsonl"
    path.write_text("\n".join([
        '{"request_id": "a", "request_created_at": "2026-05-28T09:00:00Z", "response_status": 200, '
        '"request_model": "gpt-4o", "prompt_tokens": -3}',
        '{"request_id": "b", "request_created_at": "2026-05-28T09:00:00Z", "response_status": 200, '
        '"request_model": "gpt-4o", "prompt_tokens": 10, "prompt_cache_read_tokens": 20}',
        '{"request_created_at": "2026-05-28T09:00:00Z", "request_model": "gpt-4o"}',
        '{"request_id": "d", "request_created_at": "2026-05-28T09:00:00Z"}',
        '{"request_id": "e", "request_created_at": "2026-05-28T09:00:00Z", "request_model": "gpt-4o", '
        '"response_status": "teapot"}',
        '{"request_id": "f", "request_model": "gpt-4o", "request_properties": "{oops"}',
        '{not json',
        '{"request_id": "g", "request_created_at": "2026-05-28T09:00:00Z", "request_model": "gpt-4o", "cost": 2}',
    ]))
    skips = Skips()
    spans = list(read_traces([path], "helicone", skips))
    assert [s.span_id for s in spans] == ["g"]
    assert dict(skips) == {"negative prompt_tokens": 1, "prompt_cache_read_tokens exceeds prompt_tokens": 1,
                           "no request_id": 1, "no Component property, session path or model": 1,
                           "response_status is not a number": 1, "request_properties is not JSON": 1,
                           "malformed JSON line": 1}


def test_helicone_refuses_other_formats():
    with pytest.raises(CalibrationError, match="not a Helicone export CSV"):
        _read("langfuse_observations.csv", "helicone")
    with pytest.raises(CalibrationError, match="use --trace-format otlp"):
        _read("otlp_exporter.json", "helicone")


def test_reasoning_tokens(tmp_path):
    """OpenTelemetry's `gen_ai.usage.reasoning.output_tokens` ("the number of output tokens
    used for reasoning"; it "SHOULD be included in `gen_ai.usage.output_tokens`", semconv
    gen-ai registry), OpenLLMetry's older `gen_ai.usage.reasoning_tokens`, and Langfuse's
    `usage_details.output_reasoning_tokens`, which its SDKs subtract from `output` (as they
    subtract `input_cached_tokens` from `input`)."""
    otlp = tmp_path / "spans.jsonl"
    otlp.write_text("\n".join(json.dumps({"traceId": "t", "spanId": str(i), "name": "answer",
                                          "startTimeUnixNano": "1780000000000000000", "attributes": a})
                              for i, a in enumerate([
                                  {"gen_ai.usage.output_tokens": 900, "gen_ai.usage.reasoning.output_tokens": 600},
                                  {"gen_ai.usage.output_tokens": 300, "gen_ai.usage.reasoning_tokens": 100},
                                  {"gen_ai.usage.output_tokens": 30, "gen_ai.usage.reasoning.output_tokens": 60},
                                  {"gen_ai.usage.output_tokens": 30}])))
    skips = Skips()
    spans = list(read_traces([otlp], "otlp", skips))
    assert [(s.output_tokens, s.reasoning_tokens) for s in spans] == [(900, 600), (300, 100), (30, None)]
    assert dict(skips) == {"gen_ai.usage.reasoning.output_tokens exceeds gen_ai.usage.output_tokens": 1}
    langfuse = tmp_path / "observations.jsonl"
    langfuse.write_text(json.dumps({"id": "o1", "trace_id": "t", "name": "answer",
                                    "usage_details": {"input": 10, "output": 300, "output_reasoning_tokens": 600}}))
    spans = list(read_traces([langfuse], "langfuse", Skips()))
    assert (spans[0].output_tokens, spans[0].reasoning_tokens) == (900, 600)   # the whole output billed
