"""Calibration's throughput: spans per second of `llmarch calibrate` on a Langfuse Parquet
export, against the floor — a bare DuckDB `GROUP BY` over the same file.

    python bench/bench_calibrate.py make 1000000          # writes /tmp/llmarch-bench/spans_1000000.parquet
    python bench/bench_calibrate.py make-otlp 1000000     # OTLP JSON lines of the support assistant (simulated)
    python bench/bench_calibrate.py calibrate-otlp FILE
    python bench/bench_calibrate.py make-helicone 1000000 # a Helicone export CSV of the support assistant (simulated)
    python bench/bench_calibrate.py calibrate-helicone FILE
    python bench/bench_calibrate.py calibrate FILE        # Model.calibrate on it (support assistant)
    python bench/bench_calibrate.py floor FILE            # SELECT name, COUNT(*), SUM(...) GROUP BY name
    farm-bench -n 3 --timeout 900 --vs 'python bench/bench_calibrate.py floor FILE' -- \
        python bench/bench_calibrate.py calibrate FILE

The spans are synthetic observations of the support assistant (names of its components,
six per trace, one trace a second), generated in DuckDB so that making 10M takes seconds.
Results: docs/performance.md, section "Calibrate".
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDER = Path("/tmp/llmarch-bench")
NAMES = ["answer_cache", "embed_query", "search", "route", "summarize", "check"]


def make(count: int) -> Path:
    import duckdb
    FOLDER.mkdir(parents=True, exist_ok=True)
    target = FOLDER / f"spans_{count}.parquet"
    names = "[" + ", ".join(f"'{n}'" for n in NAMES) + "]"
    duckdb.connect().execute(f"""
        COPY (SELECT 'o' || i AS id, 't' || (i // 6) AS trace_id, NULL AS parent_observation_id,
                     'GENERATION' AS type, list_extract({names}, CAST(i % 6 AS INTEGER) + 1) AS name,
                     CASE WHEN i % 6 IN (1, 4, 5) THEN 'gpt-4' ELSE NULL END AS provided_model_name,
                     strftime(TIMESTAMP '2026-05-28 00:00:00' + INTERVAL (i // 6) SECOND
                              + INTERVAL (i % 6) MILLISECOND, '%Y-%m-%dT%H:%M:%S.%gZ') AS start_time,
                     NULL AS end_time,
                     CASE WHEN hash(i) % 40 = 0 THEN 'ERROR' ELSE 'DEFAULT' END AS level,
                     '{{"input": ' || (400 + hash(i) % 200) || ', "output": ' || (300 + hash(i + 1) % 100) || '}}'
                         AS usage_details,
                     '{{}}' AS cost_details, 0.001 AS total_cost, '{{}}' AS metadata
              FROM range({count}) r(i))
        TO '{target}' (FORMAT parquet)""")
    print(f"{target}: {count:,} spans, {target.stat().st_size / 1e6:.1f} MB")
    return target


def calibrate(path: str) -> None:
    import llmarch
    model = llmarch.load(ROOT / "examples" / "support_assistant.llmarch")
    cal = model.calibrate([path], trace_format="langfuse", scenario="production")
    print(f"{cal.spans:,} spans, {cal.traces:,} traces")


def make_otlp(count: int) -> Path:
    """About `count` spans of simulated support-assistant requests (tests/calibrate's generator)."""
    sys.path.insert(0, str(ROOT / "tests" / "calibrate"))
    import llmarch
    from trace_generator import simulate, write_otlp
    FOLDER.mkdir(parents=True, exist_ok=True)
    model = llmarch.load(ROOT / "examples" / "support_assistant.llmarch")
    spans = simulate(model, "production", requests=max(1, count * 10 // 61), days=7, seed=3)
    target = FOLDER / f"otlp_{count}.jsonl"
    write_otlp(spans, target)
    print(f"{target}: {len(spans):,} spans, {target.stat().st_size / 1e6:.1f} MB")
    return target


def calibrate_otlp(path: str) -> None:
    import llmarch
    model = llmarch.load(ROOT / "examples" / "support_assistant.llmarch")
    cal = model.calibrate([path], trace_format="otlp", scenario="production")
    print(f"{cal.spans:,} spans, {cal.traces:,} traces")


def make_helicone(count: int) -> Path:
    """About `count` requests of simulated support-assistant traffic as a Helicone export CSV
    (tests/calibrate's generator: a session per request, the `Component` property)."""
    sys.path.insert(0, str(ROOT / "tests" / "calibrate"))
    import llmarch
    from trace_generator import simulate, write_helicone_csv
    FOLDER.mkdir(parents=True, exist_ok=True)
    model = llmarch.load(ROOT / "examples" / "support_assistant.llmarch")
    spans = simulate(model, "production", requests=max(1, count * 10 // 61), days=7, seed=3)
    target = FOLDER / f"helicone_{count}.csv"
    write_helicone_csv(spans, target)
    print(f"{target}: {len(spans):,} spans, {target.stat().st_size / 1e6:.1f} MB")
    return target


def calibrate_helicone(path: str) -> None:
    import llmarch
    model = llmarch.load(ROOT / "examples" / "support_assistant.llmarch")
    cal = model.calibrate([path], trace_format="helicone", scenario="production")
    print(f"{cal.spans:,} spans, {cal.traces:,} traces")


def floor(path: str) -> None:
    import duckdb
    rows = duckdb.connect().execute(
        "SELECT name, COUNT(*), COUNT(DISTINCT trace_id), SUM(CAST(json_extract(usage_details, '$.input') AS BIGINT)) "
        "FROM read_parquet(?) GROUP BY name", [path]).fetchall()
    print(f"{sum(r[1] for r in rows):,} spans")


if __name__ == "__main__":
    command, argument = sys.argv[1], sys.argv[2]
    {"make": lambda a: make(int(a)), "make-otlp": lambda a: make_otlp(int(a)), "calibrate": calibrate,
     "calibrate-otlp": calibrate_otlp, "make-helicone": lambda a: make_helicone(int(a)),
     "calibrate-helicone": calibrate_helicone, "floor": floor}[command](argument)
