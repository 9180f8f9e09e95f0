"""The Langfuse reader for columnar exports (Parquet, CSV), in DuckDB: the same
normalization and the same skip causes as `readers.read_langfuse`, as one SELECT, so a
large export never goes through Python row by row.

`langfuse_select` returns a SELECT whose columns are `readers.COLUMNS` plus `skip_cause`
(NULL for a usable span); `engine` inserts the usable rows into `spans` and counts the
others by cause. The DuckDB-specific parts (reading the file, `json_extract_string`,
`json_valid`, `TRY_CAST`, `epoch`) are here, in the load step, not in `queries`.
"""

from __future__ import annotations

from .readers import CLOCK_SKEW, MAX_TOKENS, CalibrationError

__all__ = ["is_columnar", "langfuse_select"]

_TEXT_TYPES = ("VARCHAR", "JSON", '"NULL"')


def is_columnar(path: str) -> bool:
    return str(path).lower().endswith((".parquet", ".csv"))


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def langfuse_select(con, path: str, source: str) -> str:
    """The SELECT that normalizes the Langfuse export at `path`; raise `CalibrationError` for
    a file that is not one."""
    import duckdb
    lower = str(path).lower()
    relation = (f"read_parquet({_quote(str(path))})" if lower.endswith(".parquet") else
                f"read_csv({_quote(str(path))}, header = true, all_varchar = true)")
    kind = "Parquet file" if lower.endswith(".parquet") else "CSV"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except duckdb.Error as error:
        raise CalibrationError(f"{path}: not a readable {kind} ({str(error).splitlines()[0]})") from None
    types = {row[0]: str(row[1]).upper() for row in described}
    if "trace_id" not in types:
        raise CalibrationError(f"{path}: not a Langfuse observations {kind} (no `trace_id` column)")

    def text(*names: str) -> str:
        present = [f'NULLIF(CAST("{n}" AS VARCHAR), \'\')' for n in names if n in types]
        return f"COALESCE({', '.join(present)})" if len(present) > 1 else present[0] if present else "CAST(NULL AS VARCHAR)"

    def json_text(name: str) -> str:
        if name not in types:
            return "CAST(NULL AS VARCHAR)"
        if types[name] in _TEXT_TYPES:
            return f'NULLIF(CAST("{name}" AS VARCHAR), \'\')'
        return f'CAST(to_json("{name}") AS VARCHAR)'

    def seconds(*names: str) -> tuple[str, str]:
        """(epoch seconds, unreadable?) of the first present column."""
        for n in names:
            if n in types:
                if types[n].startswith("TIMESTAMP"):
                    return f'epoch("{n}")', "FALSE"
                raw = f'NULLIF(CAST("{n}" AS VARCHAR), \'\')'
                parsed = f"TRY_CAST({raw} AS TIMESTAMPTZ)"
                return f"epoch({parsed})", f"({raw} IS NOT NULL AND {parsed} IS NULL)"
        return "CAST(NULL AS DOUBLE)", "FALSE"

    start, start_bad = seconds("start_time", "startTime")
    end, end_bad = seconds("end_time", "endTime")

    def count(expr: str) -> str:
        return f"TRY_CAST({expr} AS DOUBLE)"

    tokens = {
        "input": "json_extract_string(usage, '$.input')",
        "output": "json_extract_string(usage, '$.output')",
        "cached": "COALESCE(json_extract_string(usage, '$.input_cached_tokens'), "
                  "json_extract_string(usage, '$.cache_read_input_tokens'), json_extract_string(usage, '$.input_cache_read'))",
        "written": "COALESCE(json_extract_string(usage, '$.input_cache_creation'), "
                   "json_extract_string(usage, '$.cache_creation_input_tokens'))",
        "reasoning": "COALESCE(json_extract_string(usage, '$.output_reasoning_tokens'), "
                     "json_extract_string(usage, '$.output_reasoning'))",
    }
    words = {"input": "usage_details.input", "output": "usage_details.output", "cached": "cached input tokens",
             "written": "cache creation tokens",
             "reasoning": "reasoning output tokens"}

    def checks(key: str) -> list[str]:
        raw, word = tokens[key], words[key]
        return [f"WHEN {raw} IS NOT NULL AND {count(raw)} IS NULL THEN '{word} is not a number'",
                f"WHEN {count(raw)} < 0 THEN 'negative {word}'",
                f"WHEN {count(raw)} > {MAX_TOKENS} THEN 'absurd {word} (over {MAX_TOKENS:,})'"]

    # the order of the causes follows readers._langfuse_span
    cause = "\n".join([
        "WHEN trace_id IS NULL OR span_id IS NULL THEN 'no trace_id or id'",
        "WHEN name IS NULL THEN 'no observation name'",
        "WHEN (usage_raw IS NOT NULL AND NOT json_valid(usage_raw)) OR (costs_raw IS NOT NULL AND NOT json_valid(costs_raw)) "
        "THEN 'usage_details or cost_details is not JSON'",
        *checks("cached"),
        "WHEN total_raw IS NOT NULL AND TRY_CAST(total_raw AS DOUBLE) IS NULL THEN 'recorded cost is not a number'",
        "WHEN TRY_CAST(total_raw AS DOUBLE) < 0 OR TRY_CAST(total_raw AS DOUBLE) > 1e6 "
        "THEN 'negative or absurd recorded cost'",
        "WHEN start_bad OR end_bad THEN 'unreadable start or end time'",
        *checks("input"), *checks("written"), *checks("output"), *checks("reasoning"),
        f"WHEN end_s < start_s THEN '{CLOCK_SKEW}'",
    ])

    def whole(key: str) -> str:
        return f"CAST(FLOOR({count(tokens[key])}) AS BIGINT)"

    return f"""
SELECT {_quote(source)} AS source, trace_id, span_id, parent_id, name, model, start_s, end_s,
       {whole('input')} AS input_tokens, {whole('cached')} AS cached_tokens,
       {whole('written')} AS cache_write_tokens,
       -- Langfuse's `output` leaves the reasoning tokens out: the whole output is their sum
       CASE WHEN {whole('reasoning')} IS NULL THEN {whole('output')}
            ELSE COALESCE({whole('output')}, 0) + {whole('reasoning')} END AS output_tokens,
       UPPER(COALESCE(level, '')) = 'ERROR' AS is_error,
       CASE WHEN json_extract_string(metadata, '$.cache_hit') IS NULL THEN NULL
            ELSE json_extract_string(metadata, '$.cache_hit') IN ('true', '1') END AS cache_hit,
       TRY_CAST(total_raw AS DOUBLE) AS recorded_cost, {whole('reasoning')} AS reasoning_tokens,
       CASE {cause} ELSE NULL END AS skip_cause
FROM (SELECT *, COALESCE(total_raw_own, json_extract_string(costs, '$.total')) AS total_raw
      FROM (SELECT *,
                   -- only valid JSON is read (an invalid one is a skip cause, above)
                   CASE WHEN json_valid(usage_raw) THEN usage_raw END AS usage,
                   CASE WHEN json_valid(costs_raw) THEN costs_raw END AS costs,
                   CASE WHEN json_valid(metadata_raw) THEN metadata_raw END AS metadata
            FROM (SELECT {text('trace_id', 'traceId')} AS trace_id, {text('id')} AS span_id,
                         {text('parent_observation_id', 'parentObservationId')} AS parent_id, {text('name')} AS name,
                         {text('provided_model_name', 'model')} AS model, {start} AS start_s, {end} AS end_s,
                         {start_bad} AS start_bad, {end_bad} AS end_bad, {text('level')} AS level,
                         {json_text('usage_details') if 'usage_details' in types else json_text('usageDetails')} AS usage_raw,
                         {json_text('cost_details') if 'cost_details' in types else json_text('costDetails')} AS costs_raw,
                         {json_text('metadata')} AS metadata_raw,
                         {text('total_cost', 'calculatedTotalCost')} AS total_raw_own
                  FROM {relation}) raw_rows) valid_json) with_total
"""
