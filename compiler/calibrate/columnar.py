"""The readers for columnar exports, in DuckDB: Langfuse Parquet and CSV (the same
normalization and skip causes as `readers.read_langfuse`) and Helicone CSV (as
`readers.read_helicone`), each as one SELECT, so a large export never goes through Python
row by row.

`langfuse_select` and `helicone_select` return a SELECT whose columns are
`readers.COLUMNS` plus `skip_cause` (NULL for a usable span); `engine` inserts the usable
rows into `spans` and counts the others by cause. The DuckDB-specific parts (reading the
file, `json_extract_string`, `json_valid`, `json_transform`, `TRY_CAST`, `epoch`) are here,
in the load step, not in `queries`. Times without a zone are UTC, as in the Python
readers: the engine's connection runs with `TimeZone = 'UTC'`.
"""

from __future__ import annotations

from .readers import CLOCK_SKEW, COMPONENT_PROPERTY, MAX_TOKENS, SESSION_ID, SESSION_PATH, CalibrationError

__all__ = ["is_columnar", "columnar_select", "langfuse_select", "helicone_select", "MALFORMED_CSV_ROW"]

_TEXT_TYPES = ("VARCHAR", "JSON", '"NULL"')
#: How a CSV export is read: every column of the header as text, the dialect given (RFC
#: 4180: `,`, `"` quoted and doubled), nothing guessed from a sample; a row that does not
#: split into the header's columns (too many, an unterminated quote) is kept out of the
#: result and recorded in DuckDB's `reject_errors` table, from which `engine` counts it.
CSV_OPTIONS = "header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', store_rejects = true"
#: The skip cause of such a row.
MALFORMED_CSV_ROW = "malformed CSV row (not the header's columns)"


def is_columnar(path: str, trace_format: str = "langfuse") -> bool:
    """Whether `path` in `trace_format` is read by a SELECT here (else by `readers`)."""
    lower = str(path).lower()
    if trace_format == "langfuse":
        return lower.endswith((".parquet", ".csv"))
    return trace_format == "helicone" and lower.endswith(".csv")


def columnar_select(con, path: str, source: str, trace_format: str) -> str:
    """The SELECT that normalizes `path` (see `is_columnar`)."""
    return (helicone_select if trace_format == "helicone" else langfuse_select)(con, path, source)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _csv_relation(path: str) -> str:
    """`read_csv(…)` of a CSV export, its columns named by its header line (read here)."""
    import csv
    try:
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, csv.Error) as error:
        raise CalibrationError(f"{path}: not a readable CSV ({error})") from None
    if not header:
        raise CalibrationError(f"{path}: not a readable CSV (no header line)")
    columns = ", ".join(f"{_quote(name)}: 'VARCHAR'" for name in header)
    return f"read_csv({_quote(str(path))}, columns = {{{columns}}}, {CSV_OPTIONS})"


def langfuse_select(con, path: str, source: str) -> str:
    """The SELECT that normalizes the Langfuse export at `path`; raise `CalibrationError` for
    a file that is not one."""
    import duckdb
    lower = str(path).lower()
    relation = (f"read_parquet({_quote(str(path))})" if lower.endswith(".parquet") else
                _csv_relation(path))
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


def _count_checks(raw: str, word: str) -> list[str]:
    """The skip causes of a token count, as `readers._count` words them."""
    number = f"TRY_CAST({raw} AS DOUBLE)"
    return [f"WHEN {raw} IS NOT NULL AND {number} IS NULL THEN '{word} is not a number'",
            f"WHEN isnan({number}) OR {number} < 0 THEN 'negative {word}'",
            f"WHEN {number} > {MAX_TOKENS} THEN 'absurd {word} (over {MAX_TOKENS:,})'"]


def _lambda(name: str, body: str) -> str:
    """A lambda in the syntax of the installed DuckDB: `lambda e: …` from 1.3 on (2.0 refuses
    the arrow), `e -> …` before."""
    import duckdb
    try:
        version = tuple(int(part) for part in duckdb.__version__.split(".")[:2])
    except ValueError:
        version = (1, 3)
    return f"lambda {name}: {body}" if version >= (1, 3) else f"{name} -> {body}"


def _whole(raw: str) -> str:
    return f"CAST(FLOOR(TRY_CAST({raw} AS DOUBLE)) AS BIGINT)"


def helicone_select(con, path: str, source: str) -> str:
    """The SELECT that normalizes a Helicone export CSV (`@helicone/export --format csv`)
    at `path`, as `readers._helicone_span` does a row; raise `CalibrationError` for a file
    that is not one."""
    import duckdb
    relation = _csv_relation(path)
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except duckdb.Error as error:
        raise CalibrationError(f"{path}: not a readable CSV ({str(error).splitlines()[0]})") from None
    names = [row[0] for row in described]
    if "request_id" not in names:
        raise CalibrationError(f"{path}: not a Helicone export CSV (no `request_id` column)")

    def column(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def text(*wanted: str) -> str:
        present = [f"NULLIF({column(n)}, '')" for n in wanted if n in names]
        return f"COALESCE({', '.join(present)})" if present else "CAST(NULL AS VARCHAR)"

    def prop(key: str) -> str:
        """A property, keys without regard to case: a flattened `properties.KEY` column
        (the last one wins), else the JSON object's (its last such key wins)."""
        flat = [n for n in names if "." in n and n.split(".", 1)[0].lower() in ("properties", "request_properties")
                and n.split(".", 1)[1].lower() == key.lower()]
        test = f"lower(e.key) = {_quote(key.lower())}"
        from_json = f"NULLIF(list_filter(map_entries(props), {_lambda('e', test)})[-1].value, '')"
        return f"COALESCE({', '.join([f'NULLIF({column(n)}, {chr(39)}{chr(39)})' for n in reversed(flat)] + [from_json])})"

    def seconds(raw: str) -> tuple[str, str]:
        """(epoch seconds, unreadable?): digits are nanoseconds, as `readers._time` reads them."""
        parsed = (f"CASE WHEN regexp_full_match({raw}, '[0-9]+') THEN CAST({raw} AS DOUBLE) / 1e9 "
                  f"ELSE epoch(TRY_CAST({raw} AS TIMESTAMPTZ)) END")
        return parsed, f"({raw} IS NOT NULL AND ({parsed}) IS NULL)"

    start, start_bad = seconds("start_raw")
    end, end_bad = seconds("end_raw")
    cause = "\n".join([
        "WHEN request_id IS NULL THEN 'no request_id'",
        "WHEN props_raw IS NOT NULL AND NOT json_valid(props_raw) THEN 'request_properties is not JSON'",
        "WHEN name IS NULL THEN 'no Component property, session path or model'",
        "WHEN start_bad OR end_bad THEN 'unreadable start or end time'",
        "WHEN own_end IS NULL AND start_s IS NOT NULL AND latency IS NOT NULL AND TRY_CAST(latency AS DOUBLE) IS NULL "
        "THEN 'latency is not a number'",
        *_count_checks("cached_raw", "prompt_cache_read_tokens"),
        *_count_checks("prompt_raw", "prompt_tokens"),
        "WHEN TRY_CAST(cached_raw AS DOUBLE) > TRY_CAST(prompt_raw AS DOUBLE) "
        "THEN 'prompt_cache_read_tokens exceeds prompt_tokens'",
        *_count_checks("written_raw", "prompt_cache_write_tokens"),
        *_count_checks("output_raw", "completion_tokens"),
        "WHEN status_raw IS NOT NULL AND TRY_CAST(status_raw AS DOUBLE) IS NULL THEN 'response_status is not a number'",
        "WHEN cost_raw IS NOT NULL AND TRY_CAST(cost_raw AS DOUBLE) IS NULL THEN 'recorded cost is not a number'",
        "WHEN isnan(TRY_CAST(cost_raw AS DOUBLE)) OR TRY_CAST(cost_raw AS DOUBLE) < 0 OR TRY_CAST(cost_raw AS DOUBLE) > 1e6 "
        "THEN 'negative or absurd recorded cost'",
        f"WHEN end_s < start_s THEN '{CLOCK_SKEW}'",
    ])
    return f"""
SELECT {_quote(source)} AS source, COALESCE(session_id, request_id) AS trace_id, request_id AS span_id,
       CAST(NULL AS VARCHAR) AS parent_id, name, model, start_s, end_s,
       -- Helicone's prompt_tokens includes the cache reads (as OpenAI counts a prompt)
       {_whole('prompt_raw')} - COALESCE({_whole('cached_raw')}, 0) AS input_tokens,
       {_whole('cached_raw')} AS cached_tokens, {_whole('written_raw')} AS cache_write_tokens,
       {_whole('output_raw')} AS output_tokens,
       COALESCE(NOT (trunc(TRY_CAST(status_raw AS DOUBLE)) >= 200 AND trunc(TRY_CAST(status_raw AS DOUBLE)) < 300), FALSE)
           AS is_error,
       CASE WHEN hit IS NULL THEN NULL ELSE lower(hit) IN ('true', '1') END AS cache_hit,
       TRY_CAST(cost_raw AS DOUBLE) AS recorded_cost, CAST(NULL AS BIGINT) AS reasoning_tokens,
       CASE {cause} ELSE NULL END AS skip_cause
FROM (SELECT *, COALESCE(own_end, CASE WHEN start_s IS NOT NULL THEN start_s + TRY_CAST(latency AS DOUBLE) / 1000 END)
                AS end_s
      FROM (SELECT *, {start} AS start_s, {start_bad} AS start_bad, {end} AS own_end, {end_bad} AS end_bad,
                   COALESCE(component, NULLIF(string_split(session_path, '/')[-1], ''), model) AS name
            FROM (SELECT *, {prop(SESSION_ID)} AS session_id, {prop(COMPONENT_PROPERTY)} AS component,
                         NULLIF(trim({prop(SESSION_PATH)}, '/'), '') AS session_path, {prop('cache_hit')} AS hit
                  FROM (SELECT *, CASE WHEN json_valid(props_raw) AND json_type(props_raw) = 'OBJECT'
                                       THEN json_transform(props_raw, '"MAP(VARCHAR, VARCHAR)"') END AS props
                        FROM (SELECT {text('request_id', 'id')} AS request_id,
                                     {text('request_properties', 'properties')} AS props_raw,
                                     {text('response_model', 'model', 'request_model', 'model_override')} AS model,
                                     {text('request_created_at', 'created_at')} AS start_raw,
                                     {text('response_created_at')} AS end_raw, {text('latency', 'delay_ms')} AS latency,
                                     {text('prompt_cache_read_tokens')} AS cached_raw, {text('prompt_tokens')} AS prompt_raw,
                                     {text('prompt_cache_write_tokens')} AS written_raw,
                                     {text('completion_tokens')} AS output_raw,
                                     {text('response_status', 'status')} AS status_raw,
                                     {text('cost', 'cost_usd', 'costUSD')} AS cost_raw
                                     {''.join(f', {column(n)}' for n in names if '.' in n)}
                              FROM {relation}) raw_rows) parsed) with_properties) named) with_end
"""
