"""Pass `components`: every component declaration, checked by its kind, becomes an
`ir.Component` (or, for `fixed`, an `ir.FixedCost`): its cost per visit (a fixed amount,
a model's tokens, a person's time), its failure behaviour and, once every component is
known, where its `fallback` and `on_hit` lead. A component made by a template instance
reports its problems with notes on where the instance was made."""

from __future__ import annotations

import dataclasses
from typing import Optional

import sympy

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import did_you_mean

from .. import ir
from ..units import DIMENSIONLESS, SECONDS_PER_DAY, TIME, TOKEN, USD
from .common import SPEED_FIELDS, fields, optional, speed_fields
from .expressions import COST_PER_VISIT, PRICE_PER_TOKEN, ExpressionCompiler
from .state import State

__all__ = ["run", "MAX_ATTEMPTS", "FIELDS"]

MAX_ATTEMPTS = 50

_DEFAULT_CATEGORY = {"llm": "inference", "embedding": "retrieval", "retrieval": "retrieval",
                     "cache": "retrieval", "guardrail": "ops", "tool": "retrieval", "router": "inference", "human": "human",
                     "observe": "ops", "fixed": "infra"}

#: Which fields each kind of component takes ("common" fields are shared by every kind that
#: sits in the flow); the language server's completion reads it too.
_MODEL_FIELDS = ("model", "input", "output", "cached", "cache_write", "fallback_model") + SPEED_FIELDS
_COMMON = ("cost", "category", "fail_rate", "attempts", "retries", "fallback", "latency", "backoff", "span")
FIELDS = {
    "llm": _MODEL_FIELDS + _COMMON,
    "embedding": _MODEL_FIELDS + _COMMON,
    "guardrail": _MODEL_FIELDS + _COMMON,
    "retrieval": _COMMON,
    "tool": _COMMON,
    "router": ("cost", "category", "latency", "span"),
    "cache": _COMMON + ("hit_rate", "on_hit", "match"),
    "human": _COMMON + ("time", "rate"),
    "observe": ("per_request", "per_call", "per_token", "sample", "category"),
    "fixed": ("cost", "category", "model", "tokens"),
}
_REQUIRED = {"llm": ("model", "input", "output"), "embedding": ("model", "input"),
             "cache": ("hit_rate",), "human": ("time", "rate")}

_FIELD_HELP = {
    "model": "add `model = <a declared model>`",
    "input": "add `input = 500 tokens`, or `input { system = 300 tokens; user = 200 tokens }`",
    "output": "add `output = 200 tokens`",
    "hit_rate": "add `hit_rate = 30%`",
    "time": "add `time = 5 min`",
    "rate": "add `rate = 45 USD/hour`",
    "cost": "add `cost = 500 USD/month`",
}


def run(state: State) -> None:
    x = ExpressionCompiler(state)
    for _, s in state.statements:
        if isinstance(s, ast.Component) and state.declared_here(s.name, s.name_span):
            state.collector.context = state.instance_notes(s.name)
            _component(x, s)
    for _, s in state.statements:
        if isinstance(s, ast.Component) and s.name in state.components:
            state.collector.context = state.instance_notes(s.name)
            _links(state, s)
    state.collector.context = ()
    _untimed_concurrency(state)
    for name, instance in state.origin.items():
        if name in state.components:
            state.components[name].group = instance.name
        if name in state.fixed:
            state.fixed[name] = dataclasses.replace(state.fixed[name], group=instance.name)


def _untimed_concurrency(state: State) -> None:
    """A model's `concurrency` limit counts calls in flight (Little's law: arrivals × time of
    a call), so every call on it must declare a time."""
    for price in state.prices.values():
        span = next((at for key, _, at in price.limits if key == "concurrency"), None)
        if span is None or price.speed_broken:   # a speed in the wrong unit is reported already
            continue
        for comp in state.components.values():
            untimed = ((comp.model == price.name and comp.latency is None)
                       or (comp.fallback_model is not None and comp.fallback_model.name == price.name
                           and comp.fallback_latency is None))
            if untimed:
                state.collector.error(
                    "E229", f"model `{price.name}` has a `concurrency` limit but {comp.kind} `{comp.name}` gives no "
                    "time for its calls", span,
                    help=f"add `ttft` and `tokens_per_second` to model `{price.name}`, or `latency` to `{comp.name}`")
                break


def _component(x: ExpressionCompiler, s: ast.Component) -> None:
    state = x.state
    error = state.collector.error
    owner = f"{s.kind} `{s.name}`"
    allowed = FIELDS[s.kind]
    f = fields(state, s.body, allowed, owner, blocks=("input",))
    for key in _REQUIRED.get(s.kind, ()):
        if key not in f:
            error("E213", f"{owner} needs `{key}`", s.name_span, help=_FIELD_HELP.get(key))
    comp = ir.Component(name=s.name, kind=s.kind, label=s.label, category=_DEFAULT_CATEGORY[s.kind],
                        span=s.span, spans={k: v.span for k, v in f.items()})
    if "category" in f:
        comp.category = _enum(state, f["category"], ir.CATEGORIES, "category") or comp.category
    elif s.kind == "guardrail" and "model" in f:
        comp.category = "inference"
    if "match" in f:
        _enum(state, f["match"], ("exact", "semantic"), "cache match")
    if "span" in f:
        comp.telemetry_span = _telemetry_span(state, f["span"], owner)
    if s.kind == "fixed":
        return _fixed_cost(x, s, f, comp)
    if s.kind == "observe":
        comp.per_request = optional(x, f, "per_request", COST_PER_VISIT, "observability cost per request", "nonnegative")
        comp.per_call = optional(x, f, "per_call", COST_PER_VISIT, "observability cost per model call", "nonnegative")
        comp.per_token = optional(x, f, "per_token", (PRICE_PER_TOKEN,), "observability cost per traced token",
                                  "nonnegative")
        comp.sample = optional(x, f, "sample", (DIMENSIONLESS,), "`sample`", "probability", default=1)
        if not any(k in f for k in ("per_request", "per_call", "per_token")):
            error("E213", f"{owner} needs `per_request`, `per_call` or `per_token`", s.name_span)
        state.components[s.name] = comp
        return
    cost = optional(x, f, "cost", COST_PER_VISIT, f"`cost` of {owner}", "nonnegative")
    if "model" in f:
        tokens = _token_cost(x, s, f, comp)
        if tokens is not None:
            cost = cost + tokens
    elif any(k in f for k in ("input", "output", "cached", "fallback_model") + SPEED_FIELDS):
        key = next(k for k in ("input", "output", "cached", "fallback_model") + SPEED_FIELDS if k in f)
        error("E213", f"`{key}` of {owner} needs a `model`", f[key].span)
    if s.kind == "human" and "time" in f and "rate" in f:
        minutes = x.expect(f["time"].value, (TIME,), f"`time` of {owner}")
        rate = x.expect(f["rate"].value, (USD / TIME,), f"`rate` of {owner}")
        if minutes is not None and rate is not None:
            state.checks.append(ir.Check("nonnegative", minutes, "review time", f["time"].value.span))
            state.checks.append(ir.Check("nonnegative", rate, "hourly rate", f["rate"].value.span))
            cost = cost + minutes * rate
        comp.latency = minutes   # a review takes its time (unless `latency` says otherwise)
    comp.cost = cost
    comp.fail_rate = optional(x, f, "fail_rate", (DIMENSIONLESS,), "`fail_rate`", "probability")
    if "attempts" in f and "retries" in f:
        error("E214", f"{owner} gives both `attempts` and `retries`", f["retries"].span,
              help="`attempts = 3` means the same as `retries = 2`: keep one")
    elif "attempts" in f:
        comp.attempts = _count(state, f["attempts"], 1, "attempts")
    elif "retries" in f:
        comp.attempts = _count(state, f["retries"], 0, "retries", MAX_ATTEMPTS - 1) + 1
    if s.kind == "cache":
        comp.hit_rate = optional(x, f, "hit_rate", (DIMENSIONLESS,), "`hit_rate`", "probability")
    _time(x, s, f, comp)
    state.components[s.name] = comp


def _time(x: ExpressionCompiler, s: ast.Component, f: dict, comp: ir.Component) -> None:
    """How long one visit takes: `latency`; else, for a model call, `ttft` plus the output
    tokens over `tokens_per_second` (the component's, else its model's); a review keeps its
    `time` (set with its cost). And `backoff`, waited before each retry."""
    state = x.state
    error = state.collector.error
    owner = f"{s.kind} `{s.name}`"
    if "latency" in f and not isinstance(f["latency"], ast.Block):
        comp.declares_time = True
        latency = x.expect(f["latency"].value, (TIME,), f"`latency` of {owner}")
        if latency is not None:
            state.checks.append(ir.Check("nonnegative", latency * SECONDS_PER_DAY,
                                         f"`latency` of {owner} (in seconds)", f["latency"].value.span))
            comp.latency = comp.fallback_latency = latency
        for key in SPEED_FIELDS:
            if key in f:
                error("E224", f"{owner} gives both `latency` and `{key}`", f[key].span,
                      help="`latency` is the whole time of a visit; `ttft` and `tokens_per_second` compute it "
                      "from the output tokens: keep one")
    elif comp.model is not None:
        price = state.prices[comp.model]
        ttft, speed, broken = speed_fields(x, f, owner)
        comp.latency = _call_time(x, s, f, price, ttft, speed, "model", comp.output_tokens, broken)
        if comp.latency is not None:
            comp.declares_time = True
            if comp.fallback_model is not None:
                comp.fallback_latency = _call_time(x, s, f, comp.fallback_model, None, None, "fallback_model",
                                                 comp.output_tokens)
    if "backoff" in f and not isinstance(f["backoff"], ast.Block):
        comp.declares_time = True
        if comp.attempts < 2:
            error("E213", f"`backoff` of {owner} needs `attempts` (or `retries`): it is waited before each retry",
                  f["backoff"].span, help="add `attempts = 3`, or delete `backoff`")
        backoff = x.expect(f["backoff"].value, (TIME,), f"`backoff` of {owner}")
        if backoff is not None:
            state.checks.append(ir.Check("nonnegative", backoff * SECONDS_PER_DAY,
                                         f"`backoff` of {owner} (in seconds)", f["backoff"].value.span))
            comp.backoff = backoff


def _call_time(x: ExpressionCompiler, s: ast.Component, f: dict, price: ir.Price, ttft, speed,
               where: str, tokens_out: sympy.Expr, own_broken: bool = False) -> Optional[sympy.Expr]:
    """ttft + output ÷ tokens_per_second of one call on `price`'s model (the component's own
    `ttft` and `tokens_per_second`, when given, before the model's); None when neither the
    component nor the model declares a speed."""
    ttft = ttft if ttft is not None else price.ttft
    speed = speed if speed is not None else price.tokens_per_second
    # a fallback model must say its speed when the component's own model does
    declared = any(k in f for k in SPEED_FIELDS) if where == "model" else True
    if ttft is None and speed is None and not declared:
        return None
    if price.speed_broken or (where == "model" and own_broken):
        return None   # a speed field in the wrong unit, already reported
    owner = f"{s.kind} `{s.name}`"
    at = f[where].span
    if ttft is None:
        x.state.collector.error("E225", f"{owner} has no `ttft` on model `{price.name}`: its calls' time is unknown",
                                at, help=f"add `ttft = 400 ms` to model `{price.name}`"
                                + (f" or to {owner}" if where == "model" else ""))
        return None
    if "output" not in f:
        return ttft
    if speed is None:
        x.state.collector.error("E225", f"{owner} has output tokens but model `{price.name}` has no "
                                "`tokens_per_second`", at,
                                help=f"add `tokens_per_second = 80 tokens/s` to model `{price.name}`"
                                + (f" or to {owner}" if where == "model" else ""))
        return None
    return ttft + tokens_out / speed


def _fixed_cost(x: ExpressionCompiler, s: ast.Component, f: dict, comp: ir.Component) -> None:
    """`cost = … USD/month`, and/or `model` with `tokens = … tokens/month`: a batch job
    (re-embedding the documents) priced at the model's input price."""
    state = x.state
    if "cost" not in f and "tokens" not in f:
        state.collector.error("E213", f"fixed `{s.name}` needs `cost`, or `model` and `tokens`", s.name_span,
                              help=_FIELD_HELP["cost"] + ", or `model = embed; tokens = documents * doc_tokens / 7 days`")
        return
    cost = x.expect(f["cost"].value, (USD / TIME,), f"cost of fixed `{s.name}`") if "cost" in f else sympy.Integer(0)
    if cost is not None and "cost" in f:
        state.checks.append(ir.Check("nonnegative", cost, "fixed cost", f["cost"].value.span))
    if ("model" in f) != ("tokens" in f):
        have, need = ("model", "tokens") if "model" in f else ("tokens", "model")
        state.collector.error("E213", f"`{have}` of fixed `{s.name}` needs `{need}`", f[have].span)
        return
    if "model" in f:
        price = _model_ref(state, f["model"])
        tokens = x.expect(f["tokens"].value, (TOKEN / TIME,), f"`tokens` of fixed `{s.name}`")
        if price is None or tokens is None or cost is None:
            return
        if price.gpu is not None:
            state.collector.error("E272", f"fixed `{s.name}` runs a batch job on self-hosted model `{price.name}`",
                                  f["model"].span,
                                  help="its replicas are sized for the flow's calls only: give the job's GPU time "
                                  "as `cost = … USD/month` instead of `model` and `tokens`")
            return
        state.checks.append(ir.Check("nonnegative", tokens, "tokens per month", f["tokens"].value.span))
        comp.model = price.name
        # a batch job's calls have no known size: a tiered price is taken at its base rate
        cost = cost + tokens * price.input.xreplace({ir.CALL_INPUT_TOKENS: sympy.Integer(0)})
    if cost is not None:
        state.fixed[s.name] = ir.FixedCost(s.name, s.label, comp.category, cost * state.month_days, s.span,
                                           model=comp.model)


def _telemetry_span(state: State, item: ast.Field, owner: str) -> Optional[str]:
    """`span = "chat gpt-4*"`: the trace span name (a glob) that `llmarch calibrate` reads
    as this component, instead of the component's own name."""
    if not isinstance(item.value, ast.Text) or not item.value.value.strip():
        state.collector.error("E226", f"`span` of {owner} must be a quoted span name or pattern", item.value.span,
                              help='write the name its trace spans carry: `span = "chat gpt-4o"` (`*` matches any text)')
        return None
    return item.value.value


def _token_cost(x: ExpressionCompiler, s: ast.Component, f: dict, comp: ir.Component) -> Optional[sympy.Expr]:
    """The model's price of one call (input, output, prompt-cache shares), and the tokens
    the component sends and receives."""
    state = x.state
    owner = f"{s.kind} `{s.name}`"
    price = _model_ref(state, f["model"])
    if "input" in f and isinstance(f["input"], ast.Block):
        parts = []
        for item in f["input"].body.items:
            if isinstance(item, ast.Block):
                state.collector.error("E211", f"input parts of {owner} are values, not blocks", item.span)
                continue
            part = x.expect(item.value, (TOKEN,), f"input part `{item.name}` of {owner}")
            if part is not None:
                state.checks.append(ir.Check("nonnegative", part, f"input part `{item.name}`", item.value.span))
                parts.append(part)
                comp.input_parts[item.name] = ir.InputPart(part, item.role, item.span)
        if not f["input"].body.items:
            state.collector.error("E213", f"`input` of {owner} has no parts", f["input"].span)
        tokens_in = sympy.Add(*parts)
    elif "input" in f:
        tokens_in = x.expect(f["input"].value, (TOKEN,), f"`input` of {owner}")
        if tokens_in is not None:
            state.checks.append(ir.Check("nonnegative", tokens_in, "input tokens", f["input"].value.span))
    else:
        tokens_in = sympy.Integer(0) if s.kind == "guardrail" else None
    tokens_out = optional(x, f, "output", (TOKEN,), f"`output` of {owner}", "nonnegative")
    cached = optional(x, f, "cached", (DIMENSIONLESS,), "`cached`", "probability")
    written = optional(x, f, "cache_write", (DIMENSIONLESS,), "`cache_write`", "probability")
    if "cached" in f and "cache_write" in f:
        state.checks.append(ir.Check("probability", cached + written, "`cached` plus `cache_write`",
                                     f["cache_write"].span))
    if price is None or tokens_in is None:
        return None
    comp.model = price.name
    comp.tokens = tokens_in + tokens_out
    comp.output_tokens = tokens_out
    comp.input_tokens = tokens_in

    def priced(p: ir.Price) -> sympy.Expr:
        return p.priced(tokens_in, tokens_out, cached, written)

    if "fallback_model" in f:
        other = _model_ref(state, f["fallback_model"])
        if other is not None:
            comp.fallback_model = other
            comp.fallback_cost = priced(other) + optional(x, f, "cost", COST_PER_VISIT, f"`cost` of {owner}")
            comp.fallback_tokens = comp.tokens
    return priced(price)


def _model_ref(state: State, item) -> Optional[ir.Price]:
    if isinstance(item, ast.Block) or not isinstance(item.value, ast.Name):
        state.collector.error("E215", f"`{item.name}` must name a model", item.span)
        return None
    name = item.value.id
    if name in state.prices:
        return state.prices[name]
    if name in state.declared and state.declared[name][0] == "model":
        return None  # the model itself had errors, already reported
    state.collector.error("E216", f"unknown model `{name}`", item.value.span,
                          help=did_you_mean(name, [n for n, (k, _) in state.declared.items() if k == "model"])
                          or f"declare it: `model {name} = \"openai:gpt-4o\" as of \"2025-06-15\"` (prices from "
                             f"the catalog; `llmarch prices` lists them) or `model {name} {{ input = … USD/Mtok; "
                             "output = … USD/Mtok }`")
    return None


def _links(state: State, s: ast.Component) -> None:
    """Where `fallback` and `on_hit` lead: a component in the flow, `success` or `failure`."""
    error = state.collector.error
    comp = state.components[s.name]
    for item in s.body.items:
        if item.name not in ("fallback", "on_hit") or isinstance(item, ast.Block):
            continue
        if not isinstance(item.value, ast.Name):
            error("E215", f"`{item.name}` must name a component, `success` or `failure`", item.value.span)
            continue
        target = item.value.id
        if s.name in state.origin and target in ("in", "out"):
            error("E217", f"`{item.name}` cannot lead to the instance's `{target}` port", item.value.span,
                  help=f"`{item.name}` names a component, `success` or `failure`; to leave the "
                  "instance, send the flow there: e.g. a `router` before the cache, with edges to `out`")
            continue
        if target not in state.components and target not in ("success", "failure"):
            error("E217", f"unknown component `{target}`", item.value.span,
                  help=did_you_mean(target, list(state.flow_components()) + ["success", "failure"]))
            continue
        if target in state.components and state.components[target].kind == "observe":
            error("E218", f"`{target}` is an observability overlay and cannot be a flow target", item.value.span)
            continue
        if item.name == "fallback":
            if comp.fallback_model is not None:
                error("E214", f"`{s.name}` gives both `fallback` and `fallback_model`", item.span)
            if target == s.name:
                error("E219", f"`{s.name}` falls back to itself", item.value.span,
                      help="use `attempts` for retries of the same component")
            comp.fallback = None if target == "failure" else target
        else:
            comp.on_hit = target


def _enum(state: State, item, choices: tuple[str, ...], what: str) -> Optional[str]:
    if isinstance(item, ast.Field) and isinstance(item.value, ast.Name) and item.value.id in choices:
        return item.value.id
    shown = item.value.id if isinstance(item, ast.Field) and isinstance(item.value, ast.Name) else None
    state.collector.error("E220", f"unknown {what}" + (f" `{shown}`" if shown else ""), item.span,
                          help=(did_you_mean(shown, choices) if shown else None) or "one of: " + ", ".join(choices))
    return None


def _count(state: State, item, least: int, what: str, most: int = MAX_ATTEMPTS) -> int:
    """`attempts` or `retries`: a whole number written in the file (it shapes the graph)."""
    value = item.value if isinstance(item, ast.Field) else None
    if isinstance(value, ast.Quantity) and value.unit is None and sympy.Rational(value.value).is_Integer:
        n = int(sympy.Rational(value.value))
        if least <= n <= most:
            return n
    if isinstance(value, ast.Name):
        state.collector.error("E221", f"`{what}` must be written as a number, not a parameter", item.span,
                              help="the number of attempts shapes the graph, so it is fixed in the file; "
                              "use a scenario on `fail_rate` to explore reliability")
        return least if what == "attempts" else 0
    state.collector.error("E221", f"`{what}` must be a whole number from {least} to {most}", item.span,
                          help="`attempts` counts every try including the first: `attempts = 3` is `retries = 2`")
    return least if what == "attempts" else 0
