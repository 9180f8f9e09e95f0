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
    from trace_generator import START, simulate, write_langfuse_csv, write_langfuse_jsonl
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
