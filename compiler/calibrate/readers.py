"""Readers: trace files → normalized spans, one tuple per model or component call.

Every reader yields `Span` tuples (see `COLUMNS`) and counts what it skips, by cause, in a
`Skips`; nothing is dropped silently, and no reader looks at prompt or completion contents
(OTel's `gen_ai.input.messages`, Langfuse's `input`/`output` are never read).

Token counts follow one rule whatever the source: `input_tokens` is the *non-cached*
input, `cached_tokens` the input read from the provider's prompt cache, so that
`input_tokens + cached_tokens` is the whole prompt. Likewise `output_tokens` is the whole
output billed and `reasoning_tokens` the part of it spent reasoning: OpenTelemetry's
`gen_ai.usage.reasoning.output_tokens` "SHOULD be included in `gen_ai.usage.output_tokens`",
while Langfuse's SDKs move reasoning out of `usage_details.output` into
`output_reasoning_tokens` (OpenAI) or `output_reasoning` (LangChain), so that reader adds it
back. OpenTelemetry's
`gen_ai.usage.input_tokens` includes the cached tokens (GenAI semantic conventions), so
the OTLP reader subtracts `gen_ai.usage.cache_read.input_tokens`; Langfuse's
`usage_details.input` already excludes them (its OpenAI/Anthropic usage mapping puts them
under `input_cached_tokens` / `cache_read_input_tokens`). Helicone's `prompt_tokens` is the
provider's prompt count, which (as OpenAI counts it) includes `prompt_cache_read_tokens`,
so the Helicone reader subtracts them, as the OTLP reader does.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections import Counter
from datetime import datetime, timezone
from typing import Iterable, Iterator, NamedTuple, Optional

__all__ = ["Span", "COLUMNS", "Skips", "CalibrationError", "read_traces", "FORMATS", "MAX_TOKENS", "CLOCK_SKEW"]

#: A token count above this in one call is "absurd" (no model has a 10M-token window).
MAX_TOKENS = 10_000_000
FORMATS = ("otlp", "langfuse", "helicone")


class CalibrationError(Exception):
    """Input that calibration cannot use at all (no file, another format, an empty window)."""


class Span(NamedTuple):
    source: str
    trace_id: str
    span_id: str
    parent_id: Optional[str]
    name: str
    model: Optional[str]
    start_s: Optional[float]       # seconds since the epoch
    end_s: Optional[float]
    input_tokens: Optional[int]    # not cached
    cached_tokens: Optional[int]
    cache_write_tokens: Optional[int]
    output_tokens: Optional[int]
    is_error: bool
    cache_hit: Optional[bool]
    recorded_cost: Optional[float]  # USD, as the source recorded it
    #: output tokens spent reasoning, a part of `output_tokens` (which is the whole output billed)
    reasoning_tokens: Optional[int] = None


COLUMNS = Span._fields


class Skips(Counter):
    """Spans (or lines) skipped, by cause, and notes on spans kept (`orphan`)."""

    def describe(self) -> list[str]:
        return [f"skipped {n:,} {'span' if n == 1 else 'spans'}: {cause}" for cause, n in self.most_common()]


class _Bad(Exception):
    """One span that cannot be used; its message is the skip cause."""


def _count(value, what: str) -> Optional[int]:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _Bad(f"{what} is not a number") from None
    if number != number or number < 0:
        raise _Bad(f"negative {what}")
    if number > MAX_TOKENS:
        raise _Bad(f"absurd {what} (over {MAX_TOKENS:,})")
    return int(number)


def _cost(value) -> Optional[float]:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _Bad("recorded cost is not a number") from None
    if number != number or number < 0 or number > 1e6:
        raise _Bad("negative or absurd recorded cost")
    return number


def _time(value) -> Optional[float]:
    """Seconds since the epoch from nanoseconds (OTLP) or an ISO 8601 text (Langfuse)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        if isinstance(value, float) and not math.isfinite(value):
            raise _Bad("unreadable start or end time")
        return int(value) / 1e9
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise _Bad("unreadable start or end time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _split_cached(total_input: Optional[int], cached: Optional[int],
                  words: tuple[str, str] = ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.input_tokens")
                  ) -> Optional[int]:
    if total_input is None or cached is None:
        return total_input
    if cached > total_input:
        raise _Bad(f"{words[0]} exceeds {words[1]}")
    return total_input - cached


# --- OpenTelemetry ---------------------------------------------------------------------------

def _otlp_value(value):
    """An OTLP JSON AnyValue (`{"intValue": "12"}`, …) as a Python value."""
    if not isinstance(value, dict):
        return value
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    if "intValue" in value:
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            return value["intValue"]     # reported where it is read as a number
    return None


def _otlp_attributes(raw) -> dict:
    if isinstance(raw, dict):          # JSON lines written by hand or by a collector's transform
        return {k: _otlp_value(v) for k, v in raw.items()}
    if raw is not None and not isinstance(raw, list):
        raise _Bad("attributes are not a list or an object")
    out = {}
    for item in raw or ():
        if isinstance(item, dict) and "key" in item:
            out[item["key"]] = _otlp_value(item.get("value"))
    return out


#: The reasoning-token attribute: the GenAI conventions' name, then OpenLLMetry's older one.
_OTEL_REASONING = ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens")


def _otlp_span(source: str, raw: dict) -> Span:
    if not isinstance(raw, dict):
        raise _Bad("a span is not a JSON object")
    a = _otlp_attributes(raw.get("attributes"))
    trace_id = raw.get("traceId") or raw.get("trace_id")
    span_id = raw.get("spanId") or raw.get("span_id")
    if not trace_id or not span_id:
        raise _Bad("no trace id or span id")
    name = raw.get("name")
    if not name:
        raise _Bad("no span name")
    status = raw.get("status") or {}
    code = status.get("code") if isinstance(status, dict) else None
    is_error = code in (2, "2", "STATUS_CODE_ERROR", "ERROR") or bool(a.get("error.type"))
    cached = _count(a.get("gen_ai.usage.cache_read.input_tokens"), "gen_ai.usage.cache_read.input_tokens")
    hit = a.get("llmarch.cache_hit", a.get("cache.hit"))
    output = _count(a.get("gen_ai.usage.output_tokens"), "gen_ai.usage.output_tokens")
    reasoning_key = next((k for k in _OTEL_REASONING if a.get(k) not in (None, "")), _OTEL_REASONING[0])
    reasoning = _count(a.get(reasoning_key), reasoning_key)
    if reasoning is not None and output is not None and reasoning > output:
        raise _Bad(f"{reasoning_key} exceeds gen_ai.usage.output_tokens")
    return Span(
        source, str(trace_id), str(span_id), (raw.get("parentSpanId") or raw.get("parent_span_id") or None),
        str(name), a.get("gen_ai.response.model") or a.get("gen_ai.request.model"),
        _time(raw.get("startTimeUnixNano")), _time(raw.get("endTimeUnixNano")),
        _split_cached(_count(a.get("gen_ai.usage.input_tokens"), "gen_ai.usage.input_tokens"), cached),
        cached,
        _count(a.get("gen_ai.usage.cache_creation.input_tokens"), "gen_ai.usage.cache_creation.input_tokens"),
        output, is_error, None if hit is None else hit in (True, "true", 1),
        _cost(a.get("llmarch.cost_usd")), reasoning)


def _otlp_document(source: str, doc, skips: Skips) -> Iterator[Span]:
    """An ExportTraceServiceRequest (`resourceSpans`), a list of them, or one span."""
    if isinstance(doc, list):
        for item in doc:
            yield from _otlp_document(source, item, skips)
        return
    if not isinstance(doc, dict):
        skips["a line is not a JSON object"] += 1
        return
    if "resourceSpans" in doc:
        for resource in _objects(doc.get("resourceSpans"), "resourceSpans", skips):
            for scope in _objects(resource.get("scopeSpans"), "scopeSpans", skips):
                spans = scope.get("spans")
                if spans is not None and not isinstance(spans, list):
                    skips["`spans` is not a list"] += 1
                    continue
                for raw in spans or ():
                    yield from _guarded(source, raw, _otlp_span, skips)
    elif "traceId" in doc or "trace_id" in doc:
        yield from _guarded(source, doc, _otlp_span, skips)
    else:
        skips["a JSON object that is neither OTLP resourceSpans nor a span"] += 1


#: The skip cause of a span whose end precedes its start: two clocks that disagree, or a
#: broken exporter; its times cannot place it, so it is not used.
CLOCK_SKEW = "ends before it starts (clock skew)"


def _objects(items, what: str, skips: Skips) -> Iterator[dict]:
    """The objects of an OTLP list (`resourceSpans`, `scopeSpans`); a list that is not one,
    or an entry that is not an object, is counted."""
    if items is None:
        return
    if not isinstance(items, list):
        skips[f"`{what}` is not a list"] += 1
        return
    for item in items:
        if isinstance(item, dict):
            yield item
        else:
            skips[f"a `{what}` entry is not a JSON object"] += 1


def _guarded(source, raw, make, skips) -> Iterator[Span]:
    try:
        span = make(source, raw)
    except _Bad as bad:
        skips[str(bad)] += 1
        return
    except (TypeError, ValueError, OverflowError, AttributeError, KeyError):
        # a field of a type no reader expects (a list where a number belongs, …): counted,
        # never a traceback
        skips["a field of an unexpected type"] += 1
        return
    if span.start_s is not None and span.end_s is not None and span.end_s < span.start_s:
        skips[CLOCK_SKEW] += 1
        return
    yield span


def _json_documents(path: str, skips: Skips) -> Iterator:
    """The file as JSON lines (malformed lines counted), streamed a line at a time so that
    memory stays bounded by the longest line; or as one JSON document (pretty-printed, or a
    single array) when its first line is not JSON on its own — only then is it read whole."""
    with open(path, "rb") as handle:
        first = handle.readline()
        while first and not first.strip():
            first = handle.readline()
        head = _text(path, first).lstrip()
        if not head:
            return
        if head[0] not in "{[":
            raise CalibrationError(f"{path}: not JSON (the file starts with {head[:20]!r})")
        try:
            doc = json.loads(head)
        except json.JSONDecodeError:
            doc = _NOT_JSON
        if doc is _NOT_JSON:
            # one document over several lines, or JSON lines whose first line is damaged
            handle.seek(0)
            try:
                yield json.loads(_text(path, handle.read()))
                return
            except json.JSONDecodeError:
                pass
            handle.seek(0)
        else:
            yield doc
        good = doc is not _NOT_JSON
        for raw in handle:
            line = _text(path, raw)
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except json.JSONDecodeError:
                skips["malformed JSON line"] += 1
                continue
            good = True
            yield doc
    if not good:
        raise CalibrationError(f"{path}: no line is valid JSON")


_NOT_JSON = object()


def _text(path: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CalibrationError(f"{path}: not UTF-8 text, so not a JSON trace file") from None


def read_otlp(path: str, skips: Skips) -> Iterator[Span]:
    source = os.path.basename(path)
    for doc in _json_documents(path, skips):
        yield from _otlp_document(source, doc, skips)


# --- Langfuse --------------------------------------------------------------------------------

def _first(row: dict, *keys):
    for key in keys:
        if key in row and row[key] not in (None, ""):
            return row[key]
    return None


def _mapping(value) -> dict:
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise _Bad("usage_details or cost_details is not JSON") from None
    return value if isinstance(value, dict) else {}


def _langfuse_span(source: str, row: dict) -> Span:
    if not isinstance(row, dict):
        raise _Bad("an observation is not a JSON object")
    trace_id = _first(row, "trace_id", "traceId")
    span_id = _first(row, "id")
    if not trace_id or not span_id:
        raise _Bad("no trace_id or id")
    name = _first(row, "name")
    if not name:
        raise _Bad("no observation name")
    usage = _mapping(_first(row, "usage_details", "usageDetails"))
    costs = _mapping(_first(row, "cost_details", "costDetails"))
    cached = _count(_first(usage, "input_cached_tokens", "cache_read_input_tokens", "input_cache_read"),
                    "cached input tokens")
    metadata = _first(row, "metadata")
    hit = None
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except json.JSONDecodeError:
            metadata = None
    if isinstance(metadata, dict) and "cache_hit" in metadata:
        hit = metadata["cache_hit"] in (True, "true", 1)
    total = _first(row, "total_cost", "calculatedTotalCost")
    if total is None:
        total = costs.get("total")
    output = _count(usage.get("output"), "usage_details.output")
    reasoning = _count(_first(usage, "output_reasoning_tokens", "output_reasoning"), "reasoning output tokens")
    if reasoning is not None:
        output = (output or 0) + reasoning        # Langfuse's `output` leaves reasoning out
    return Span(
        source, str(trace_id), str(span_id), _first(row, "parent_observation_id", "parentObservationId"),
        str(name), _first(row, "provided_model_name", "model"),
        _time(_first(row, "start_time", "startTime")), _time(_first(row, "end_time", "endTime")),
        _count(usage.get("input"), "usage_details.input"), cached,
        _count(_first(usage, "input_cache_creation", "cache_creation_input_tokens"), "cache creation tokens"),
        output, str(_first(row, "level") or "").upper() == "ERROR", hit, _cost(total), reasoning)


def _csv_rows(path: str, column: str, what: str) -> Iterator[dict]:
    """The rows of a CSV export, a row at a time; a file without `column` is not `what`."""
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or column not in reader.fieldnames:
            raise CalibrationError(f"{path}: not {what} (no `{column}` column)")
        yield from reader


def read_langfuse(path: str, skips: Skips) -> Iterator[Span]:
    source = os.path.basename(path)
    lower = path.lower()
    if lower.endswith(".csv"):
        for row in _csv_rows(path, "trace_id", "a Langfuse observations CSV"):
            yield from _guarded(source, row, _langfuse_span, skips)
        return
    if lower.endswith(".parquet"):
        import duckdb
        try:
            cursor = duckdb.connect().execute("SELECT * FROM read_parquet(?)", [path])
        except duckdb.Error as error:
            raise CalibrationError(f"{path}: not a readable Parquet file ({str(error).splitlines()[0]})") from None
        names = [d[0] for d in cursor.description]
        if "trace_id" not in names:
            raise CalibrationError(f"{path}: not a Langfuse observations Parquet file (no `trace_id` column)")
        while True:
            batch = cursor.fetchmany(100_000)
            if not batch:
                return
            for values in batch:
                yield from _guarded(source, dict(zip(names, values)), _langfuse_span, skips)
    for doc in _json_documents(path, skips):
        for row in (doc if isinstance(doc, list) else [doc]):
            if isinstance(row, dict) and "resourceSpans" in row:
                raise CalibrationError(f"{path}: an OpenTelemetry file, not a Langfuse export: use --trace-format otlp")
            yield from _guarded(source, row, _langfuse_span, skips)


# --- Helicone --------------------------------------------------------------------------------

#: The custom property (header `Helicone-Property-Component`) that names the component a
#: request is; Helicone keys properties by the header's tail.
COMPONENT_PROPERTY = "Component"
#: Helicone's session headers: the session groups a request's calls (a trace); the path
#: (`/request/answer`) places a call in it.
SESSION_ID = "Helicone-Session-Id"
SESSION_PATH = "Helicone-Session-Path"


def _properties(row: dict) -> dict:
    """A Helicone row's custom properties, from `request_properties` / `properties` (an
    object, or JSON text in a CSV) and flattened `properties.KEY` columns; keys matched
    without regard to case."""
    out: dict = {}
    raw = _first(row, "request_properties", "properties")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise _Bad("request_properties is not JSON") from None
    if isinstance(raw, dict):
        out.update({str(k).lower(): v for k, v in raw.items()})
    for key, value in row.items():
        if isinstance(key, str) and key.lower().startswith(("properties.", "request_properties.")) \
                and value not in (None, ""):
            out[key.split(".", 1)[1].lower()] = value
    return out


def _status_is_error(value) -> bool:
    if value in (None, ""):
        return False
    try:
        code = int(float(value))
    except (TypeError, ValueError):
        raise _Bad("response_status is not a number") from None
    return not 200 <= code < 300


def _helicone_span(source: str, row: dict) -> Span:
    if not isinstance(row, dict):
        raise _Bad("a request is not a JSON object")
    request_id = _first(row, "request_id", "id")
    if not request_id:
        raise _Bad("no request_id")
    props = _properties(row)
    model = _first(row, "response_model", "model", "request_model", "model_override")
    path = str(props.get(SESSION_PATH.lower()) or "").strip("/")
    name = props.get(COMPONENT_PROPERTY.lower()) or (path.rsplit("/", 1)[-1] if path else None) or model
    if not name:
        raise _Bad("no Component property, session path or model")
    start = _time(_first(row, "request_created_at", "created_at"))
    end = _time(_first(row, "response_created_at"))
    latency = _first(row, "latency", "delay_ms")
    if end is None and start is not None and latency is not None:
        try:
            end = start + float(latency) / 1000     # milliseconds
        except (TypeError, ValueError):
            raise _Bad("latency is not a number") from None
    cached = _count(_first(row, "prompt_cache_read_tokens"), "prompt_cache_read_tokens")
    hit = props.get("cache_hit")
    return Span(
        source, str(props.get(SESSION_ID.lower()) or request_id), str(request_id), None, str(name),
        model, start, end,
        _split_cached(_count(_first(row, "prompt_tokens"), "prompt_tokens"), cached,
                      ("prompt_cache_read_tokens", "prompt_tokens")),
        cached, _count(_first(row, "prompt_cache_write_tokens"), "prompt_cache_write_tokens"),
        _count(_first(row, "completion_tokens"), "completion_tokens"),
        _status_is_error(_first(row, "response_status", "status")),
        None if hit is None else str(hit).lower() in ("true", "1"),
        _cost(_first(row, "cost", "cost_usd", "costUSD")))


def read_helicone(path: str, skips: Skips) -> Iterator[Span]:
    """A Helicone export (`@helicone/export`: JSON, JSONL or CSV of request rows)."""
    source = os.path.basename(path)
    if path.lower().endswith(".csv"):
        for row in _csv_rows(path, "request_id", "a Helicone export CSV"):
            yield from _guarded(source, row, _helicone_span, skips)
        return
    for doc in _json_documents(path, skips):
        for row in (doc if isinstance(doc, list) else [doc]):
            if isinstance(row, dict) and "resourceSpans" in row:
                raise CalibrationError(f"{path}: an OpenTelemetry file, not a Helicone export: use --trace-format otlp")
            yield from _guarded(source, row, _helicone_span, skips)


_READERS = {"otlp": read_otlp, "langfuse": read_langfuse, "helicone": read_helicone}


def read_traces(paths: Iterable[str], trace_format: str, skips: Skips) -> Iterator[Span]:
    """Every usable span of every file, in order; unusable ones counted in `skips`."""
    if trace_format not in _READERS:
        raise CalibrationError(f"unknown trace format {trace_format!r}: one of {', '.join(FORMATS)}")
    for path in paths:
        path = os.fspath(path)
        check_trace_file(path)
        yield from _READERS[trace_format](path, skips)


def check_trace_file(path: str) -> None:
    """A trace file must be a regular file: a missing path, a folder or a device is one clear error."""
    if not os.path.exists(path):
        raise CalibrationError(f"{path}: no such trace file")
    if not os.path.isfile(path):
        what = "a folder" if os.path.isdir(path) else "not a regular file (a device, pipe or socket)"
        raise CalibrationError(f"{path}: {what}, not a trace file")
