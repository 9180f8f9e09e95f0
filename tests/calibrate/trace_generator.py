"""A trace generator for the calibration tests: simulated walks of a known model, written
as OpenTelemetry (OTLP JSON lines), Langfuse (observations JSONL / CSV) and Helicone
(request rows, JSONL / CSV) exports.

Each request is one trace: a root span `request`, and under it one span per component
visit, named like the component (attempts of a retried call are siblings; a
`fallback_model` copy is a sibling on the other model; a cache span ends the trace on a
hit). Token counts scatter ±10% around the file's values at the chosen scenario; a share
of the input is read from the provider's prompt cache, so the OTLP trap (input tokens
include cached ones) is exercised. The recorded cost is the tokens at the file's prices.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass

import sympy

from llmarch.compiler import ir

DAY = 86400.0
START = 1_780_000_000.0      # 2026-05-28, an arbitrary fixed start


@dataclass
class GenSpan:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    model: str | None
    start: float
    end: float
    input_tokens: int | None = None     # cached included (as OpenTelemetry counts)
    cached_tokens: int | None = None
    output_tokens: int | None = None
    error: bool = False
    cache_hit: bool | None = None
    cost: float | None = None
    reasoning_tokens: int | None = None   # a part of output_tokens


def _value(expr, env) -> float:
    return float(sympy.sympify(expr).xreplace({ir.FAILURE_SWITCH: 1, ir.CALL_INPUT_TOKENS: 0}).xreplace(env))


def _model_id(price: ir.Price) -> str:
    ref = price.source.entry or price.source.reference if price.source is not None else None
    return (ref or price.name).split(":", 1)[-1]


def simulate(model, scenario=None, requests=2000, days=7.0, seed=0, cached_share=0.25, reasoning_share=0.0):
    """Spans of `requests` simulated requests of `model` (an `llmarch.Model`); up to
    `reasoning_share` of a call's output is reasoning (drawn from a second generator, so
    the spans do not change with it)."""
    compiled = model.compiled
    arch = compiled.arch
    env = dict(model.evaluation(scenario).resolution.env)
    rng = random.Random(seed)
    reasoning_rng = random.Random(seed + 1)
    out: list[GenSpan] = []
    edges: dict[str, list[tuple[str, float]]] = {}
    for e in arch.edges:
        edges.setdefault(e.source, []).append((e.target, _value(e.probability, env)))
    comps = arch.components
    counter = [0]

    def new_id() -> str:
        counter[0] += 1
        return f"{counter[0]:016x}"

    def scatter(mean: float) -> int:
        return max(0, round(rng.gauss(mean, 0.1 * mean))) if mean > 0 else 0

    def call(trace, parent, comp, price, clock, error):
        tokens_in = scatter(_value(comp.input_tokens, env)) if comp.input_tokens is not None else None
        tokens_out = scatter(_value(comp.tokens - comp.input_tokens, env)) if comp.tokens is not None else None
        cached = None
        cost = None
        if tokens_in is not None and price is not None:
            cached = round(tokens_in * cached_share * rng.random())
            cost = ((tokens_in - cached) * _value(price.input, env) + cached * _value(price.cached_input, env)
                    + tokens_out * _value(price.output, env))
        elif comp.cost is not None:
            cost = _value(comp.cost, env)
        s = GenSpan(trace, new_id(), parent, comp.name, _model_id(price) if price is not None else None,
                    clock, clock + 0.5, tokens_in, cached, tokens_out, error, None, cost)
        if tokens_out is not None and reasoning_share:
            s.reasoning_tokens = round(tokens_out * reasoning_share * reasoning_rng.random())
        out.append(s)
        return s

    for r in range(requests):
        trace = f"{r:032x}"
        clock = START + rng.random() * days * DAY
        root = GenSpan(trace, new_id(), None, "request", None, clock, clock + 30)
        out.append(root)
        node = arch.entry
        if node == "start":
            node = _choose(rng, edges.get("start", []))
        steps = 0
        while node is not None and steps < 60:
            steps += 1
            comp = comps[node]
            clock += 1.0
            price = arch.prices.get(comp.model) if comp.model else None
            if comp.kind == "observe":
                node = _choose(rng, edges.get(node, []))
                continue
            if comp.kind == "cache" and comp.hit_rate is not None:
                hit = rng.random() < _value(comp.hit_rate, env)
                s = call(trace, root.span_id, comp, None, clock, False)
                s.cache_hit = hit
                if hit:
                    node = None if comp.on_hit == "success" else comp.on_hit
                    continue
                node = _choose(rng, edges.get(node, []))
                continue
            fail = _value(comp.fail_rate, env)
            tries = comp.attempts if fail else 1
            ok = False
            for _ in range(tries):
                failed = rng.random() < fail
                call(trace, root.span_id, comp, price, clock, failed)
                clock += 1.0
                if not failed:
                    ok = True
                    break
            if not ok:
                if comp.fallback_model is not None:
                    call(trace, root.span_id, comp, comp.fallback_model, clock, False)
                    ok = True
                elif comp.fallback is not None:
                    node = comp.fallback
                    continue
                else:
                    node = None      # the request failed
                    continue
            node = _choose(rng, edges.get(node, []))
    return out


def _choose(rng, options):
    x = rng.random()
    for target, p in options:
        if x < p:
            return target
        x -= p
    return None


# --- writers ---------------------------------------------------------------------------------

def _ns(seconds: float) -> str:
    return str(int(round(seconds * 1e9)))


def _attr(key, value):
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": str(value)}}


def otlp_span(s: GenSpan) -> dict:
    """One span in OTLP JSON (opentelemetry-proto's JSON mapping: ids as hex strings,
    times as nanosecond strings, attributes as key/value lists, int64 as strings)."""
    attributes = []
    if s.model is not None:
        attributes += [_attr("gen_ai.operation.name", "chat"), _attr("gen_ai.provider.name", "openai"),
                       _attr("gen_ai.request.model", s.model), _attr("gen_ai.response.model", s.model)]
    if s.input_tokens is not None:
        attributes += [_attr("gen_ai.usage.input_tokens", s.input_tokens),
                       _attr("gen_ai.usage.output_tokens", s.output_tokens)]
        if s.cached_tokens:
            attributes.append(_attr("gen_ai.usage.cache_read.input_tokens", s.cached_tokens))
        if s.reasoning_tokens is not None:     # a part of gen_ai.usage.output_tokens
            attributes.append(_attr("gen_ai.usage.reasoning.output_tokens", s.reasoning_tokens))
    if s.error:
        attributes.append(_attr("error.type", "timeout"))
    if s.cache_hit is not None:
        attributes.append(_attr("llmarch.cache_hit", s.cache_hit))
    if s.cost is not None:
        attributes.append(_attr("llmarch.cost_usd", s.cost))
    span = {"traceId": s.trace_id, "spanId": s.span_id, "name": s.name, "kind": 3,
            "startTimeUnixNano": _ns(s.start), "endTimeUnixNano": _ns(s.end), "attributes": attributes,
            "status": {"code": 2} if s.error else {}}
    if s.parent_id:
        span["parentSpanId"] = s.parent_id
    return span


def write_otlp(spans, path, per_line=200) -> None:
    """The OTel Collector file exporter's format: one ExportTraceServiceRequest per line."""
    with open(path, "w", encoding="utf-8") as f:
        for i in range(0, len(spans), per_line):
            doc = {"resourceSpans": [{"resource": {"attributes": [_attr("service.name", "support")]},
                                      "scopeSpans": [{"scope": {"name": "llmarch-tests"},
                                                      "spans": [otlp_span(s) for s in spans[i:i + per_line]]}]}]}
            f.write(json.dumps(doc, separators=(",", ":")) + "\n")


def _iso(seconds: float) -> str:
    from datetime import datetime, timezone
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def langfuse_row(s: GenSpan) -> dict:
    """One observation as Langfuse exports it (snake_case export columns)."""
    usage = {}
    if s.input_tokens is not None:
        cached = s.cached_tokens or 0
        reasoning = s.reasoning_tokens or 0
        # Langfuse's SDKs move the details out of the totals: `input` without the cache
        # reads, `output` without the reasoning
        usage = {"input": s.input_tokens - cached, "output": s.output_tokens - reasoning, "input_cached_tokens": cached,
                 "total": s.input_tokens + s.output_tokens}
        if s.reasoning_tokens is not None:
            usage["output_reasoning_tokens"] = reasoning
    return {"id": s.span_id, "trace_id": s.trace_id, "parent_observation_id": s.parent_id,
            "type": "GENERATION" if s.model else "SPAN", "name": s.name, "provided_model_name": s.model,
            "start_time": _iso(s.start), "end_time": _iso(s.end), "level": "ERROR" if s.error else "DEFAULT",
            "usage_details": usage, "cost_details": {"total": s.cost} if s.cost is not None else {},
            "total_cost": s.cost, "metadata": {"cache_hit": s.cache_hit} if s.cache_hit is not None else {}}


def write_langfuse_jsonl(spans, path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for s in spans:
            f.write(json.dumps(langfuse_row(s)) + "\n")


def write_langfuse_csv(spans, path) -> None:
    rows = [langfuse_row(s) for s in spans]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: json.dumps(v) if isinstance(v, dict) else ("" if v is None else v)
                             for k, v in row.items()})


def helicone_row(s: GenSpan) -> dict:
    """One request as Helicone's export writes it (the REST API's HeliconeRequest): the
    trace is the `Helicone-Session-Id` property, the component the `Component` property;
    `prompt_tokens` counts the cache reads too, `latency` is in milliseconds."""
    props = {"Helicone-Session-Id": s.trace_id, "Helicone-Session-Path": f"/request/{s.name}", "Component": s.name}
    if s.cache_hit is not None:
        props["cache_hit"] = "true" if s.cache_hit else "false"
    return {"request_id": s.span_id, "request_created_at": _iso(s.start), "request_model": s.model,
            "response_model": s.model, "response_status": 500 if s.error else 200,
            "prompt_tokens": s.input_tokens, "prompt_cache_read_tokens": s.cached_tokens,
            "completion_tokens": s.output_tokens, "latency": round((s.end - s.start) * 1000), "cost": s.cost,
            "request_properties": props}


def _helicone_rows(spans):
    # Helicone logs the calls it proxies: the request's own root span is not one
    return [helicone_row(s) for s in spans if s.parent_id is not None]


def write_helicone_jsonl(spans, path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in _helicone_rows(spans):
            f.write(json.dumps(row) + "\n")


def write_helicone_csv(spans, path) -> None:
    rows = _helicone_rows(spans)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: json.dumps(v) if isinstance(v, dict) else ("" if v is None else v)
                             for k, v in row.items()})
