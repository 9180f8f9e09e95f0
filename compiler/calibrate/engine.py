"""DuckDB: the normalized spans and the span map loaded into one in-memory database, and
the queries of `queries.py` run over them. The only module that imports DuckDB for the
aggregation (the Parquet reader in `readers.py` uses it to read); both import it lazily."""

from __future__ import annotations

import csv
import os
import tempfile
from typing import Iterable, Optional

from . import queries
from .readers import COLUMNS, Span

__all__ = ["SpanMapRow", "aggregate", "connect"]

_TYPES = {"source": "VARCHAR", "trace_id": "VARCHAR", "span_id": "VARCHAR", "parent_id": "VARCHAR",
          "name": "VARCHAR", "model": "VARCHAR", "start_s": "DOUBLE", "end_s": "DOUBLE",
          "input_tokens": "BIGINT", "cached_tokens": "BIGINT", "cache_write_tokens": "BIGINT",
          "output_tokens": "BIGINT", "is_error": "BOOLEAN", "cache_hit": "BOOLEAN", "recorded_cost": "DOUBLE",
          "reasoning_tokens": "BIGINT"}

#: DuckDB's memory limit while calibrating (it spills to a temporary folder beyond it).
MEMORY_LIMIT = "1200MB"

SpanMapRow = tuple  # (span_pattern, model_prefix or None, row_name, component, is_copy, priority)


def _load_columnar(con, paths: Iterable[str], since: Optional[float], until: Optional[float], skips,
                   trace_format: str = "langfuse") -> None:
    """Langfuse Parquet or CSV exports, or Helicone CSV exports, into `spans`, normalized in
    SQL (`columnar`): each file is read once, with its skip causes; then the causes and the
    spans outside the window are counted and deleted."""
    import duckdb

    from .columnar import MALFORMED_CSV_ROW, columnar_select
    from .readers import CalibrationError
    paths = list(paths)
    if not paths:
        return
    for path in paths:
        select = columnar_select(con, path, os.path.basename(path), trace_format)
        try:
            con.execute(f"INSERT INTO spans SELECT {', '.join(COLUMNS)}, skip_cause FROM ({select}) normalized")
        except duckdb.Error as error:
            raise CalibrationError(f"{path}: not readable ({str(error).splitlines()[0]})") from None
    if any(not str(p).lower().endswith(".parquet") for p in paths):
        # the CSV rows DuckDB could not split (several errors of one line are one row)
        rejected = con.execute("SELECT COUNT(*) FROM (SELECT DISTINCT scan_id, file_id, line FROM reject_errors)"
                               ).fetchone()[0]
        if rejected:
            skips[MALFORMED_CSV_ROW] += rejected
    for cause, n in con.execute("SELECT skip_cause, COUNT(*) FROM spans WHERE skip_cause IS NOT NULL "
                                "GROUP BY skip_cause").fetchall():
        skips[cause] += n
    drop = ["skip_cause IS NOT NULL"]
    for bound, test, cause in ((since, "start_s < ?", "before --since"), (until, "start_s >= ?", "at or after --until")):
        if bound is not None:
            n = con.execute(f"SELECT COUNT(*) FROM spans WHERE skip_cause IS NULL AND {test}", [bound]).fetchone()[0]
            if n:
                skips[cause] += n
            drop.append(test.replace("?", repr(float(bound))))
    con.execute(f"DELETE FROM spans WHERE {' OR '.join(drop)}")


def _cell(value) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def aggregate(spans: Iterable[Span], span_map: list[SpanMapRow], since: Optional[float], until: Optional[float],
              skips, columnar: Iterable[str] = (), trace_format: str = "langfuse") -> dict[str, list[tuple]]:
    """Every query of `queries.QUERIES` over `spans` and the columnar exports in `columnar`
    (files of `trace_format` that `columnar.is_columnar` reads in SQL; spans outside
    [since, until) and unusable ones counted in `skips`), as lists of rows."""
    import duckdb
    with tempfile.TemporaryDirectory(prefix="llmarch-calibrate-") as folder:
        return _aggregate(duckdb, folder, spans, span_map, since, until, skips, columnar, trace_format)


def connect(duckdb):
    """A DuckDB connection as calibration runs it: no progress bar (it would write to the
    terminal), and times without a zone read as UTC, as the Python readers read them (DuckDB
    would take the machine's zone)."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    return con


def _aggregate(duckdb, folder, spans, span_map, since, until, skips, columnar, trace_format) -> dict[str, list[tuple]]:
    con = connect(duckdb)
    # a bound on memory (DuckDB spills to `folder` beyond it): 10M spans fit in about 2 GiB
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = '{folder}'")
    path = os.path.join(folder, "spans.csv")
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        for span in spans:
            if since is not None and span.start_s is not None and span.start_s < since:
                skips["before --since"] += 1
                continue
            if until is not None and span.start_s is not None and span.start_s >= until:
                skips["at or after --until"] += 1
                continue
            writer.writerow([_cell(v) for v in span])
    columns = ", ".join(f"'{c}': '{_TYPES[c]}'" for c in COLUMNS)
    # read_csv with explicit columns: nothing is guessed from the data
    con.execute(f"CREATE TABLE spans AS SELECT *, CAST(NULL AS VARCHAR) AS skip_cause FROM read_csv(?, "
                f"header = false, columns = {{{columns}}}, "
                "delim = ',', auto_detect = false, nullstr = '', quote = '\"', escape = '\"')", [path])
    _load_columnar(con, columnar, since, until, skips, trace_format)
    con.execute("CREATE TABLE span_map (span_pattern VARCHAR, model_prefix VARCHAR, row_name VARCHAR, "
                "component VARCHAR, is_copy BOOLEAN, priority INTEGER)")
    if span_map:
        con.executemany("INSERT INTO span_map VALUES (?, ?, ?, ?, ?, ?)", span_map)
    con.execute(queries.NAME_MAP)
    con.execute(queries.MAPPED)
    con.execute("DROP TABLE spans")   # `mapped` has every span; keep one copy
    out = {name: con.execute(sql).fetchall() for name, sql in queries.QUERIES.items()}
    con.close()
    return out
