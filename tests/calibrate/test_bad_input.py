"""The broken-trace corpus: each damage is a counted skip with its cause, or one clear error;
never a traceback, never a silent drop."""

import json
from pathlib import Path

import pytest

import llmarch

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart.llmarch"


def _span(trace, span, name="answer", parent=None, **attributes):
    out = {"traceId": trace, "spanId": span, "name": name, "startTimeUnixNano": str(1780000000 * 10**9 + int(span, 16)),
           "endTimeUnixNano": str(1780000000 * 10**9 + int(span, 16) + 10**8), "attributes": attributes}
    if parent:
        out["parentSpanId"] = parent
    return json.dumps(out)


GOOD = [_span("t1", "1", "answers"), _span("t1", "2", **{"gen_ai.request.model": "gpt-4o-mini",
                                                      "gen_ai.usage.input_tokens": 480, "gen_ai.usage.output_tokens": 250}),
        _span("t2", "3", "answers"), _span("t2", "4", **{"gen_ai.request.model": "gpt-4o-mini",
                                                      "gen_ai.usage.input_tokens": 470, "gen_ai.usage.output_tokens": 240})]

CASES = {
    "malformed line": (['{"traceId": "t9", "spanId": "9", "name": "answer", '], "skipped 1 span: malformed JSON line"),
    "no trace id": ([json.dumps({"spanId": "9", "name": "answer"})],
                    "skipped 1 span: a JSON object that is neither OTLP resourceSpans nor a span"),
    "no name": ([json.dumps({"traceId": "t9", "spanId": "9"})], "skipped 1 span: no span name"),
    "negative tokens": ([_span("t9", "9", **{"gen_ai.usage.input_tokens": -5})],
                        "skipped 1 span: negative gen_ai.usage.input_tokens"),
    "absurd tokens": ([_span("t9", "9", **{"gen_ai.usage.output_tokens": 10**12})],
                      "skipped 1 span: absurd gen_ai.usage.output_tokens (over 10,000,000)"),
    "cached over input": ([_span("t9", "9", **{"gen_ai.usage.input_tokens": 10,
                                                "gen_ai.usage.cache_read.input_tokens": 20})],
                          "skipped 1 span: gen_ai.usage.cache_read.input_tokens exceeds gen_ai.usage.input_tokens"),
    "not a number": ([_span("t9", "9", **{"gen_ai.usage.input_tokens": "many"})],
                     "skipped 1 span: gen_ai.usage.input_tokens is not a number"),
    # the end 1 s before the start: two clocks that disagree
    "clock skew": ([json.dumps({"traceId": "t9", "spanId": "9", "name": "answer", "startTimeUnixNano": "1780000001000000000",
                                "endTimeUnixNano": "1780000000000000000"})],
                   "skipped 1 span: ends before it starts (clock skew)"),
    # the structure of an OTLP document, damaged: each counted by what is wrong, never a traceback
    "resourceSpans not a list": (['{"resourceSpans": 7}'], "skipped 1 span: `resourceSpans` is not a list"),
    "resource not an object": (['{"resourceSpans": [5]}'], "skipped 1 span: a `resourceSpans` entry is not a JSON object"),
    "scopeSpans not a list": (['{"resourceSpans": [{"scopeSpans": 3}]}'], "skipped 1 span: `scopeSpans` is not a list"),
    "spans not a list": (['{"resourceSpans": [{"scopeSpans": [{"spans": 4}]}]}'], "skipped 1 span: `spans` is not a list"),
    "attributes not a list": ([json.dumps({"traceId": "t9", "spanId": "9", "name": "answer", "attributes": 5})],
                              "skipped 1 span: attributes are not a list or an object"),
    "intValue not a number": ([json.dumps({"traceId": "t9", "spanId": "9", "name": "answer", "attributes": [
        {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "x"}}]})],
        "skipped 1 span: gen_ai.usage.input_tokens is not a number"),
    "NaN time": (['{"traceId": "t9", "spanId": "9", "name": "answer", "startTimeUnixNano": NaN}'],
                 "skipped 1 span: unreadable start or end time"),
    "infinite time": (['{"traceId": "t9", "spanId": "9", "name": "answer", "startTimeUnixNano": 1e400}'],
                      "skipped 1 span: unreadable start or end time"),
    "an id of another type": ([json.dumps({"traceId": "t9", "spanId": "9", "name": "answer",
                                           "attributes": [{"key": "gen_ai.usage.input_tokens",
                                                           "value": {"intValue": [1]}}]})],
                              "skipped 1 span: gen_ai.usage.input_tokens is not a number"),
    "missing tokens": ([_span("t1", "9", **{"gen_ai.request.model": "gpt-4o-mini"})],
                       "kept 1 `answer` spans with no token counts"),
    "orphan": ([_span("t1", "9", parent="ffff")], "kept 1 spans whose parent is not in their trace (orphans)"),
    "unknown model": ([_span("t1", "9", **{"gen_ai.request.model": "claude-3-haiku"})],
                      "kept 1 spans named like a component but on a model the file does not declare"),
    "unmatched": ([_span("t1", "9", "moderation")], "unmatched: 1 spans named `moderation` (no component of that name)"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_damage_is_counted_and_reported(tmp_path, case):
    lines, message = CASES[case]
    path = tmp_path / "traces.jsonl"
    path.write_text("\n".join(GOOD + lines) + "\n")
    model = llmarch.load(QUICKSTART, cache=False)
    cal = model.calibrate([path])
    text = llmarch.api.format_calibration(cal)
    assert message in text
    assert cal.traces == 2 or case in ("missing tokens", "orphan", "unknown model", "unmatched")


def test_unusable_input_is_one_clear_error(tmp_path):
    model = llmarch.load(QUICKSTART, cache=False)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(llmarch.api.CalibrationError, match="no spans to calibrate from"):
        model.calibrate([empty])
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(GOOD) + "\n")
    with pytest.raises(llmarch.api.CalibrationError, match=r"no spans to calibrate from \(skipped 4 spans: before --since\)"):
        model.calibrate([good], since="2030-01-01")
    with pytest.raises(llmarch.api.CalibrationError, match="--until is not after --since"):
        model.calibrate([good], since="2026-02-01", until="2026-01-01")
    with pytest.raises(llmarch.api.CalibrationError, match="is not a date"):
        model.calibrate([good], since="last tuesday")


def test_the_command_prints_one_line_and_exits_1(tmp_path, capsys):
    from llmarch.cli import main
    bad = tmp_path / "log.txt"
    bad.write_text("INFO started\n")
    assert main(["calibrate", str(QUICKSTART), "--traces", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("llmarch: error:") and "not JSON" in err and "Traceback" not in err
    assert main(["calibrate", str(QUICKSTART), "--traces", str(Path(__file__).parent / "fixtures" /
                                                                "langfuse_observations.jsonl")]) == 1
    assert "the files were read as otlp: is that their format?" in capsys.readouterr().err


def test_a_helicone_export_end_to_end(tmp_path, capsys):
    """The hand-written Helicone fixture through the command: the `Component` property maps
    requests to components, the unnamed moderation call is listed by its model, and the
    recorded `cost` is reconciled."""
    from llmarch.cli import main
    fixture = Path(__file__).parent / "fixtures" / "helicone_export.jsonl"
    assert main(["calibrate", str(QUICKSTART), "--traces", str(fixture), "--trace-format", "helicone",
                 "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["traces"] == 2 and out["skipped"] == {}
    assert out["unmatched"] == [{"name": "omni-moderation-latest", "spans": 1}]
    rows = {r["row"]: r for r in out["reconciliation"]}
    assert rows["answer"]["recorded"] == pytest.approx(0.000072 + 0.000192)
    estimates = {e["field"]: e for e in out["estimates"]}
    assert estimates["answer.fail_rate"]["value"] == pytest.approx(0.5)
    # a Helicone file read as OTLP is one clear error that names the flag
    assert main(["calibrate", str(QUICKSTART), "--traces", str(fixture)]) == 1
    assert "--trace-format otlp, langfuse or helicone" in capsys.readouterr().err


def test_a_damaged_first_line_is_counted_too(tmp_path):
    path = tmp_path / "traces.jsonl"
    path.write_text("\n".join(['{"traceId": "t9", "spanId": "9", "name": "ans'] + GOOD + ["\xff not json"]) + "\n")
    cal = llmarch.load(QUICKSTART, cache=False).calibrate([path])
    assert cal.traces == 2 and dict(cal.skips) == {"malformed JSON line": 2}


def test_json_lines_are_streamed(tmp_path):
    """Memory stays bounded by a line, not the file: reading 10 MB of OTLP lines peaks far
    below the file's size (Python's own allocations, tracemalloc)."""
    import tracemalloc

    from llmarch.compiler.calibrate.readers import Skips, read_traces
    line = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [json.loads(s) for s in GOOD * 25]}]}]})
    path = tmp_path / "big.jsonl"
    with open(path, "w") as f:
        for _ in range(10_000_000 // len(line)):
            f.write(line + "\n")
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_traces([path], "otlp", Skips()))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count > 40_000 and peak < 2_000_000, (count, peak)


@pytest.mark.parametrize("trace_format,fixture", [("helicone", "helicone_export.csv"),
                                                  ("langfuse", "langfuse_observations.csv")])
def test_a_malformed_csv_row_is_counted(tmp_path, trace_format, fixture):
    """A row that does not split into the header's columns (one field too many; an
    unterminated quote, which runs to the end of the file) is a counted skip; the other
    rows are read as before."""
    text = (Path(__file__).parent / "fixtures" / fixture).read_bytes().decode("utf-8")
    path = tmp_path / fixture
    nl = "\r\n" if "\r\n" in text else "\n"      # the file's own line ends
    path.write_bytes((text.rstrip("\r\n") + nl + "x," * 30 + "x" + nl + 'y,"unterminated' + nl).encode())
    model = llmarch.load(QUICKSTART, cache=False)
    whole = model.calibrate([Path(__file__).parent / "fixtures" / fixture], trace_format=trace_format)
    damaged = model.calibrate([path], trace_format=trace_format)
    assert dict(damaged.skips) == {"malformed CSV row (not the header's columns)": 2}
    assert (damaged.traces, damaged.spans) == (whole.traces, whole.spans)
    assert "skipped 2 spans: malformed CSV row (not the header's columns)" in llmarch.api.format_calibration(damaged)
