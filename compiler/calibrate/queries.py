"""The aggregation, as plain SQL over two tables — the one place calibration computes over spans.

`spans` holds the normalized spans (`readers.COLUMNS`); `span_map` says which span names
(`LIKE` patterns, escape `!`) and model-name prefixes are which row of the cost table:

    span_map(span_pattern VARCHAR, model_prefix VARCHAR NULL, row_name VARCHAR,
             component VARCHAR, is_copy BOOLEAN, priority INTEGER)

The queries use only standard SQL (CREATE TABLE … AS SELECT, joins, GROUP BY, CASE, window functions `LAG`, `LEAD`,
`ROW_NUMBER`, `COUNT(DISTINCT …)`, `COALESCE`), so they run unchanged on Spark SQL and
Trino once the two tables exist there (docs/calibrate.md). Nothing here is DuckDB-only.
Each query returns plain rows; `estimate.py` turns them into estimates with intervals.
Money is summed as DECIMAL: a parallel sum of doubles depends on the order the threads
finish in, and the printed cost must not.
"""

from __future__ import annotations

__all__ = ["NAME_MAP", "MAPPED", "TRAFFIC", "ROWS", "CALLS_PER_TRACE", "ATTEMPT_GROUPS", "TRANSITIONS", "FIRST_STEPS", "UNMATCHED", "ORPHANS", "QUERIES"]

#: Each distinct (span name, model) with the cost-table row it belongs to: a component's
#: own name before a `span` glob (priority), then the longest matching model prefix
#: (`gpt-4o-mini` is not `gpt-4o`). The pattern join runs over the distinct pairs (a few
#: hundred), not over the spans; pairs that match no row keep a NULL row.
NAME_MAP = """
CREATE TABLE name_map AS
SELECT span_name, span_model, row_name, component, is_copy, matched_prefix FROM (
  SELECT d.span_name, d.span_model, m.row_name, m.component, COALESCE(m.is_copy, FALSE) AS is_copy,
         m.model_prefix AS matched_prefix,
         ROW_NUMBER() OVER (PARTITION BY d.span_name, d.span_model
                            ORDER BY m.priority DESC, LENGTH(COALESCE(m.model_prefix, '')) DESC,
                                     m.row_name) AS rank_of_match
  FROM (SELECT DISTINCT name AS span_name, COALESCE(model, '') AS span_model FROM spans) d
  LEFT JOIN span_map m
    ON d.span_name LIKE m.span_pattern ESCAPE '!'
   AND (m.model_prefix IS NULL OR LOWER(d.span_model) LIKE m.model_prefix || '%')
) ranked
WHERE rank_of_match = 1
"""

#: Each span with its row (an equality join on the name and model), made once as a table
#: that every query below reads.
MAPPED = """
CREATE TABLE mapped AS
SELECT s.*, n.row_name, n.component, COALESCE(n.is_copy, FALSE) AS is_copy, n.matched_prefix
FROM spans s
LEFT JOIN name_map n ON s.name = n.span_name AND COALESCE(s.model, '') = n.span_model
"""

#: Requests (traces) and the window they span.
TRAFFIC = """
SELECT COUNT(DISTINCT trace_id) AS traces, MIN(start_s) AS first_start, MAX(COALESCE(end_s, start_s)) AS last_end
FROM mapped
"""

#: Per cost-table row: spans, errors, hits, token sums and sums of squares, recorded cost,
#: and the reasoning tokens (a part of the output) of the spans that report them.
ROWS = """
SELECT row_name, component, is_copy,
       COUNT(*) AS spans,
       SUM(CASE WHEN is_error THEN 1 ELSE 0 END) AS errors,
       SUM(CASE WHEN cache_hit THEN 1 ELSE 0 END) AS hits_marked,
       SUM(CASE WHEN cache_hit IS NOT NULL THEN 1 ELSE 0 END) AS hit_marks,
       SUM(CASE WHEN input_tokens IS NOT NULL THEN 1 ELSE 0 END) AS with_tokens,
       SUM(COALESCE(input_tokens, 0) + COALESCE(cached_tokens, 0)) AS prompt_sum,
       SUM(CAST(COALESCE(input_tokens, 0) + COALESCE(cached_tokens, 0) AS DOUBLE)
           * (COALESCE(input_tokens, 0) + COALESCE(cached_tokens, 0))) AS prompt_sq,
       SUM(COALESCE(input_tokens, 0)) AS uncached_sum,
       SUM(COALESCE(cached_tokens, 0)) AS cached_sum,
       SUM(CAST(COALESCE(cached_tokens, 0) AS DOUBLE) * COALESCE(cached_tokens, 0)) AS cached_sq,
       SUM(COALESCE(cache_write_tokens, 0)) AS written_sum,
       SUM(COALESCE(output_tokens, 0)) AS output_sum,
       SUM(CAST(COALESCE(output_tokens, 0) AS DOUBLE) * COALESCE(output_tokens, 0)) AS output_sq,
       SUM(CASE WHEN recorded_cost IS NOT NULL THEN 1 ELSE 0 END) AS with_cost,
       CAST(SUM(CAST(COALESCE(recorded_cost, 0) AS DECIMAL(38, 12))) AS DOUBLE) AS recorded_cost,
       SUM(CASE WHEN model IS NOT NULL AND matched_prefix IS NULL THEN 1 ELSE 0 END) AS unknown_model,
       SUM(CASE WHEN reasoning_tokens IS NOT NULL THEN 1 ELSE 0 END) AS with_reasoning,
       SUM(COALESCE(reasoning_tokens, 0)) AS reasoning_sum,
       SUM(CAST(COALESCE(reasoning_tokens, 0) AS DOUBLE) * COALESCE(reasoning_tokens, 0)) AS reasoning_sq
FROM mapped
WHERE row_name IS NOT NULL
GROUP BY row_name, component, is_copy
"""

#: Per row: the sum and sum of squares of its spans per trace (traces without one add 0).
CALLS_PER_TRACE = """
SELECT row_name, SUM(calls) AS calls, SUM(CAST(calls AS DOUBLE) * calls) AS calls_sq, COUNT(*) AS traces_with
FROM (SELECT row_name, trace_id, COUNT(*) AS calls FROM mapped WHERE row_name IS NOT NULL
      GROUP BY row_name, trace_id) per_trace
GROUP BY row_name
"""

#: Sibling spans of one component under one parent, one after the other, are the attempts
#: of one call (a run: a span of another component under that parent in between starts a
#: new call, so a loop that comes back is a second call, not a retry). Per component: the
#: calls, their attempts, and how many ended on a fallback copy (`name@model`).
ATTEMPT_GROUPS = """
SELECT component,
       COUNT(*) AS calls,
       SUM(attempts) AS attempts, SUM(CAST(attempts AS DOUBLE) * attempts) AS attempts_sq,
       MAX(attempts) AS most_attempts,
       SUM(CASE WHEN copies > 0 THEN 1 ELSE 0 END) AS fell_back,
       SUM(CASE WHEN failed = attempts AND attempts > 0 THEN 1 ELSE 0 END) AS all_failed
FROM (SELECT component, trace_id, parent, call_number,
             SUM(CASE WHEN is_copy THEN 0 ELSE 1 END) AS attempts,
             SUM(CASE WHEN is_copy THEN 1 ELSE 0 END) AS copies,
             SUM(CASE WHEN is_error AND NOT is_copy THEN 1 ELSE 0 END) AS failed
      FROM (SELECT component, trace_id, parent, is_copy, is_error,
                   SUM(starts_call) OVER (PARTITION BY trace_id, parent ORDER BY start_s, span_id
                                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS call_number
            FROM (SELECT component, trace_id, COALESCE(parent_id, '') AS parent, is_copy, is_error, start_s, span_id,
                         CASE WHEN LAG(component) OVER (PARTITION BY trace_id, COALESCE(parent_id, '')
                                                        ORDER BY start_s, span_id) = component
                              THEN 0 ELSE 1 END AS starts_call
                  FROM mapped WHERE component IS NOT NULL) marked) numbered
      GROUP BY component, trace_id, parent, call_number) calls
GROUP BY component
"""

#: The walk of each trace: its component spans in start order. A run of spans of one
#: component (retries, fallback copies) is one step; each step's last span says whether the
#: call ended failed, and what follows it (NULL: the trace ended there).
TRANSITIONS = """
SELECT component, next_component, ended_failed, COUNT(*) AS times
FROM (SELECT component, is_error AS ended_failed,
             LEAD(component) OVER (PARTITION BY trace_id ORDER BY start_s, span_id) AS next_component
      FROM mapped WHERE component IS NOT NULL) walk
WHERE next_component IS NULL OR next_component <> component
GROUP BY component, next_component, ended_failed
"""

#: The first component of each trace's walk (the edges that leave `start`).
FIRST_STEPS = """
SELECT component, COUNT(*) AS traces
FROM (SELECT component, ROW_NUMBER() OVER (PARTITION BY trace_id ORDER BY start_s, span_id) AS step
      FROM mapped WHERE component IS NOT NULL) walk
WHERE step = 1
GROUP BY component
"""

#: Spans that match no row, by name, with what they cost (tokens and recorded cost).
UNMATCHED = """
SELECT name, COALESCE(model, '') AS model, COUNT(*) AS spans,
       SUM(COALESCE(input_tokens, 0)) AS uncached_sum, SUM(COALESCE(cached_tokens, 0)) AS cached_sum,
       SUM(COALESCE(output_tokens, 0)) AS output_sum,
       SUM(CASE WHEN recorded_cost IS NOT NULL THEN 1 ELSE 0 END) AS with_cost,
       CAST(SUM(CAST(COALESCE(recorded_cost, 0) AS DECIMAL(38, 12))) AS DOUBLE) AS recorded_cost
FROM mapped
WHERE row_name IS NULL
GROUP BY name, COALESCE(model, '')
ORDER BY COUNT(*) DESC, name
"""

#: Spans whose parent is not in their trace (kept, counted).
ORPHANS = """
SELECT COUNT(*) FROM mapped s
WHERE s.parent_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM mapped p WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_id)
"""

QUERIES = {"traffic": TRAFFIC, "rows": ROWS, "calls_per_trace": CALLS_PER_TRACE,
           "attempt_groups": ATTEMPT_GROUPS, "transitions": TRANSITIONS, "first_steps": FIRST_STEPS, "unmatched": UNMATCHED,
           "orphans": ORPHANS}
