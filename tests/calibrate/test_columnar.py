"""The SQL reader of Langfuse Parquet and CSV exports (`columnar`) gives the same spans and
the same skip causes as the Python reader (`readers.read_langfuse`) it stands in for."""

import csv
import json
from pathlib import Path

import pytest

from llmarch.compiler.calibrate.columnar import langfuse_select
from llmarch.compiler.calibrate.readers import COLUMNS, Skips, read_langfuse

FIXTURES = Path(__file__).parent / "fixtures"

BROKEN = [
    {"id": "b1", "trace_id": "tr-9", "name": "answer", "start_time": "2026-05-28T20:26:40Z",
     "usage_details": {"input": -3, "output": 1}},
    {"id": "b2", "trace_id": "tr-9", "name": "answer", "start_time": "2026-05-28T20:26:40Z",
     "usage_details": "{not json"},
    {"id": "b3", "trace_id": "tr-9", "name": "answer", "start_time": "2026-05-28T20:26:40Z",
     "usage_details": {"input": 10, "output": 20000000}},
    {"id": "b4", "trace_id": "tr-9", "name": "", "start_time": "2026-05-28T20:26:40Z"},
    {"id": "b5", "trace_id": "tr-9", "name": "answer", "start_time": "yesterday"},
    {"id": "", "trace_id": "tr-9", "name": "answer"},
    {"id": "b7", "trace_id": "tr-9", "name": "answer", "start_time": "2026-05-28T20:26:40Z",
     "usage_details": {"input": 10, "output": "many"}},
    {"id": "b8", "trace_id": "tr-9", "name": "answer", "start_time": "2026-05-28T20:26:40Z", "total_cost": -1},
    {"id": "b9", "trace_id": "tr-9", "name": "answer", "start_time": "2026-05-28T20:26:40Z",
     "end_time": "2026-05-28T20:26:39Z"},
]


def _write_csv(rows, path):
    columns = ["id", "trace_id", "parent_observation_id", "name", "provided_model_name", "start_time", "end_time",
               "level", "usage_details", "cost_details", "total_cost", "metadata"]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            w.writerow([json.dumps(r[c]) if isinstance(r.get(c), dict) else r.get(c, "") for c in columns])


def _both(path):
    import duckdb
    con = duckdb.connect()
    rows = con.execute(langfuse_select(con, str(path), path.name)).fetchall()
    sql_spans = sorted(tuple(r[:len(COLUMNS)]) for r in rows if r[-1] is None)
    sql_skips = Skips()
    for r in rows:
        if r[-1] is not None:
            sql_skips[r[-1]] += 1
    py_skips = Skips()
    py_spans = sorted(tuple(s) for s in read_langfuse(str(path), py_skips))
    return sql_spans, sql_skips, py_spans, py_skips


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_the_same_spans_as_the_python_reader(tmp_path, kind):
    path = FIXTURES / "langfuse_observations.csv"
    if kind == "parquet":
        import duckdb
        path = tmp_path / "observations.parquet"
        duckdb.connect().execute(f"COPY (SELECT * FROM read_csv('{FIXTURES / 'langfuse_observations.csv'}', "
                                 f"all_varchar = true)) TO '{path}' (FORMAT parquet)")
    sql_spans, sql_skips, py_spans, py_skips = _both(path)
    assert len(sql_spans) == 4 and not sql_skips and not py_skips
    for a, b in zip(sql_spans, py_spans):
        assert a[:6] == b[:6] and a[8:] == b[8:]
        assert a[6] == pytest.approx(b[6]) and (a[7] == b[7] or a[7] == pytest.approx(b[7]))


def test_the_same_skip_causes_as_the_python_reader(tmp_path):
    path = tmp_path / "broken.csv"
    _write_csv(BROKEN, path)
    sql_spans, sql_skips, py_spans, py_skips = _both(path)
    assert sql_spans == py_spans == []
    assert dict(sql_skips) == dict(py_skips) == {
        "negative usage_details.input": 1, "usage_details or cost_details is not JSON": 1,
        "absurd usage_details.output (over 10,000,000)": 1, "no observation name": 1,
        "unreadable start or end time": 1, "no trace_id or id": 1, "usage_details.output is not a number": 1,
        "negative or absurd recorded cost": 1, "ends before it starts (clock skew)": 1}


def test_calibrating_a_parquet_export_gives_what_its_json_lines_give(tmp_path):
    import sys

    import duckdb

    import llmarch
    sys.path.insert(0, str(Path(__file__).parent))
    from trace_generator import simulate, write_langfuse_csv, write_langfuse_jsonl
    model = llmarch.load(Path(__file__).resolve().parents[2] / "examples" / "quickstart.llmarch", cache=False)
    spans = simulate(model, requests=400, days=2, seed=5, reasoning_share=0.5)
    jsonl, csv_path, parquet = tmp_path / "o.jsonl", tmp_path / "o.csv", tmp_path / "o.parquet"
    write_langfuse_jsonl(spans, jsonl)
    write_langfuse_csv(spans, csv_path)
    duckdb.connect().execute(f"COPY (SELECT * FROM read_csv('{csv_path}', all_varchar = true)) TO '{parquet}' "
                             "(FORMAT parquet)")
    window = {"since": "2026-05-29", "until": "2026-05-30T06:00:00"}
    results = [model.calibrate([p], trace_format="langfuse", **window) for p in (jsonl, csv_path, parquet)]
    first = results[0]
    assert first.skips["before --since"] > 0 and first.skips["at or after --until"] > 0
    for other in results[1:]:
        assert dict(other.skips) == dict(first.skips)
        assert [(e.field, e.n) for e in other.estimates] == [(e.field, e.n) for e in first.estimates]
        assert "answer.reasoning" in {e.field for e in other.estimates}
        for a, b in zip(other.estimates, first.estimates):
            assert a.value == pytest.approx(b.value, nan_ok=True)


# --- Helicone CSV, read in SQL -----------------------------------------------------------------

HELICONE_COLUMNS = ["request_id", "request_created_at", "response_created_at", "request_model", "response_model",
                    "response_status", "prompt_tokens", "completion_tokens", "prompt_cache_read_tokens",
                    "prompt_cache_write_tokens", "latency", "cost", "request_properties", "properties.Component"]
_SESSION = '{"Helicone-Session-Id": "s9", "Helicone-Session-Path": "/request/answer"}'
HELICONE_BROKEN = [
    {"request_id": "", "request_created_at": "2026-05-28T09:00:00Z", "model": "gpt-4o-mini"},
    {"request_id": "h2", "request_created_at": "2026-05-28T09:00:00Z", "request_properties": "{not json"},
    {"request_id": "h3", "request_created_at": "2026-05-28T09:00:00Z"},                       # no name at all
    {"request_id": "h4", "request_created_at": "yesterday", "request_properties": _SESSION},
    {"request_id": "h5", "request_created_at": "2026-05-28T09:00:00Z", "latency": "slow",
     "request_properties": _SESSION},
    {"request_id": "h6", "request_created_at": "2026-05-28T09:00:00Z", "prompt_tokens": "-4",
     "request_properties": _SESSION},
    {"request_id": "h7", "request_created_at": "2026-05-28T09:00:00Z", "prompt_tokens": "10",
     "prompt_cache_read_tokens": "20", "request_properties": _SESSION},
    {"request_id": "h8", "request_created_at": "2026-05-28T09:00:00Z", "completion_tokens": "20000000",
     "request_properties": _SESSION},
    {"request_id": "h9", "request_created_at": "2026-05-28T09:00:00Z", "response_status": "ok",
     "request_properties": _SESSION},
    {"request_id": "h10", "request_created_at": "2026-05-28T09:00:00Z", "cost": "-1", "request_properties": _SESSION},
    {"request_id": "h11", "request_created_at": "2026-05-28T09:00:00Z", "cost": "a lot",
     "request_properties": _SESSION},
    {"request_id": "h12", "request_created_at": "2026-05-28T09:00:02Z", "response_created_at": "2026-05-28T09:00:01Z",
     "request_properties": _SESSION},
    {"request_id": "h13", "request_created_at": "2026-05-28T09:00:00Z", "prompt_cache_write_tokens": "x",
     "request_properties": _SESSION},
]
# usable rows that exercise each way to a name, a session and an error
HELICONE_GOOD = [
    # the flattened column wins over the JSON object's `component` (keys without regard to case)
    {"request_id": "g1", "request_created_at": "2026-05-28T09:00:00Z", "latency": "250", "response_status": "200",
     "prompt_tokens": "500", "prompt_cache_read_tokens": "100", "completion_tokens": "40", "cost": "0.0002",
     "request_properties": '{"helicone-session-id": "s1", "component": "ignored", "CACHE_HIT": true}',
     "properties.Component": "answer", "response_model": "gpt-4o-mini-2024-07-18"},
    # the session path's last segment names it; a 429 is an error
    {"request_id": "g2", "request_created_at": "2026-05-28 09:00:01", "response_created_at": "2026-05-28 09:00:03",
     "response_status": "429", "prompt_tokens": "480", "request_model": "gpt-4o-mini",
     "request_properties": '{"Helicone-Session-Id": "s1", "Helicone-Session-Path": "/request/answer/"}'},
    # no property at all: named by its model, a trace of its own
    {"request_id": "g3", "request_created_at": "2026-05-28T09:00:05.5Z", "request_model": "omni-moderation-latest",
     "prompt_tokens": "300", "completion_tokens": "0", "response_status": "200.0", "request_properties": "{}"},
]


def _write_helicone(rows, path):
    columns = HELICONE_COLUMNS + (["model"] if any("model" in r for r in rows) else [])
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            w.writerow([r.get(c, "") for c in columns])


def _both_helicone(path):
    import duckdb

    from llmarch.compiler.calibrate.columnar import helicone_select
    from llmarch.compiler.calibrate.engine import connect
    from llmarch.compiler.calibrate.readers import read_helicone
    con = connect(duckdb)
    rows = con.execute(helicone_select(con, str(path), path.name)).fetchall()
    sql_spans = sorted(tuple(r[:len(COLUMNS)]) for r in rows if r[-1] is None)
    sql_skips = Skips()
    for r in rows:
        if r[-1] is not None:
            sql_skips[r[-1]] += 1
    py_skips = Skips()
    py_spans = sorted(tuple(s) for s in read_helicone(str(path), py_skips))
    return sql_spans, sql_skips, py_spans, py_skips


def _same_spans(sql_spans, py_spans):
    assert len(sql_spans) == len(py_spans)
    for a, b in zip(sql_spans, py_spans):
        assert a[:6] == b[:6] and a[8:] == b[8:], (a, b)
        assert a[6] == pytest.approx(b[6]) and (a[7] == b[7] or a[7] == pytest.approx(b[7]))


def test_helicone_csv_in_sql_gives_the_python_readers_spans(tmp_path):
    for path in (FIXTURES / "helicone_export.csv", tmp_path / "good.csv"):
        if path.name == "good.csv":
            _write_helicone(HELICONE_GOOD, path)
        sql_spans, sql_skips, py_spans, py_skips = _both_helicone(path)
        assert not sql_skips and not py_skips and sql_spans
        _same_spans(sql_spans, py_spans)
    by_id = {s[2]: s for s in sql_spans}
    # hand-read from the rows above: (trace, name, model, input not cached, cached, output, error, hit, cost)
    assert by_id["g1"][1] == "s1" and by_id["g1"][4] == "answer" and by_id["g1"][8:16] == \
        (400, 100, None, 40, False, True, 0.0002, None)[:8]
    assert by_id["g1"][7] - by_id["g1"][6] == pytest.approx(0.25)          # the end: start + latency in ms
    assert (by_id["g2"][4], by_id["g2"][12]) == ("answer", True)
    assert (by_id["g3"][1], by_id["g3"][4], by_id["g3"][12]) == ("g3", "omni-moderation-latest", False)


def test_helicone_csv_in_sql_gives_the_python_readers_skip_causes(tmp_path):
    path = tmp_path / "broken.csv"
    _write_helicone(HELICONE_BROKEN, path)
    sql_spans, sql_skips, py_spans, py_skips = _both_helicone(path)
    assert sql_spans == py_spans == []
    assert dict(sql_skips) == dict(py_skips) == {
        "no request_id": 1, "request_properties is not JSON": 1, "no Component property, session path or model": 1,
        "unreadable start or end time": 1, "latency is not a number": 1, "negative prompt_tokens": 1,
        "prompt_cache_read_tokens exceeds prompt_tokens": 1, "absurd completion_tokens (over 10,000,000)": 1,
        "response_status is not a number": 1, "negative or absurd recorded cost": 1,
        "recorded cost is not a number": 1, "ends before it starts (clock skew)": 1,
        "prompt_cache_write_tokens is not a number": 1}


def test_calibrating_a_helicone_csv_gives_what_its_json_lines_give(tmp_path):
    import sys

    import llmarch
    sys.path.insert(0, str(Path(__file__).parent))
    from trace_generator import simulate, write_helicone_csv, write_helicone_jsonl
    model = llmarch.load(Path(__file__).resolve().parents[2] / "examples" / "quickstart.llmarch", cache=False)
    spans = simulate(model, requests=400, days=2, seed=7)
    jsonl, csv_path = tmp_path / "h.jsonl", tmp_path / "h.csv"
    write_helicone_jsonl(spans, jsonl)
    write_helicone_csv(spans, csv_path)
    window = {"since": "2026-05-29", "until": "2026-05-30T06:00:00"}
    first, other = (model.calibrate([p], trace_format="helicone", **window) for p in (jsonl, csv_path))
    assert first.skips["before --since"] > 0 and dict(other.skips) == dict(first.skips)
    assert (other.traces, other.spans) == (first.traces, first.spans)
    assert [(e.field, e.n) for e in other.estimates] == [(e.field, e.n) for e in first.estimates]
    for a, b in zip(other.estimates, first.estimates):
        assert a.value == pytest.approx(b.value, nan_ok=True)


def test_times_without_a_zone_are_utc_on_any_machine(tmp_path, monkeypatch):
    """DuckDB reads a time without a zone in the machine's zone; the Python readers in UTC.
    The engine's connection is set to UTC, so a Langfuse CSV gives the same window anywhere."""
    import time

    import llmarch
    path = tmp_path / "naive.csv"
    rows = [{"id": f"o{i}", "trace_id": f"t{i}", "name": "answer", "provided_model_name": "gpt-4o-mini",
             "start_time": f"2026-05-28 0{i}:00:00", "end_time": f"2026-05-28 0{i}:00:01",
             "usage_details": {"input": 480, "output": 250}} for i in range(1, 5)]
    _write_csv(rows, path)
    model = llmarch.load(Path(__file__).resolve().parents[2] / "examples" / "quickstart.llmarch", cache=False)
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        cal = model.calibrate([path], trace_format="langfuse", since="2026-05-28T01:30:00Z")
    finally:
        monkeypatch.undo()
        time.tzset()
    # 01:00 UTC is before the window, 02:00–04:00 UTC in it (in New York's zone all four would be)
    assert cal.traces == 3 and cal.skips["before --since"] == 1
