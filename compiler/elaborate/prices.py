"""Pass `prices`: every `model` declaration becomes an `ir.Price` (USD per token). Prices
are written in the body, or taken from the catalog (`model x = "openai:gpt-4o"`), whose
prices a body field replaces and `discount` scales. A self-hosted model (`gpu { }`) has no
per-token price: its GPU replicas become a fixed monthly cost (pass `hosting`)."""

from __future__ import annotations

from typing import Optional

import sympy

from llmarch.dsl import ast

from .. import ir
from ..provenance import PriceSource
from ..units import DIMENSIONLESS, REQUEST, TIME, TOKEN, USD
from .common import SPEED_FIELDS, fields, optional, speed_fields
from .expressions import PRICE_PER_TOKEN, ExpressionCompiler
from .state import State

__all__ = ["run", "MODEL_FIELDS", "CATALOG_MODEL_FIELDS"]

_PRICE_FIELDS = ("input", "output", "cached_input", "cache_write")
#: the fields of a self-hosted model's `gpu { }` block
GPU_FIELDS = ("price", "throughput", "utilisation", "min_replicas")
_GPU_EXAMPLE = "gpu { price = 2.49 USD/h; throughput = 2400 tokens/s; utilisation = 70%; min_replicas = 1 }"
#: the fields of a model priced by hand (or self-hosted, `gpu { }`), and of one from the
#: catalog (which may be discounted); the language server's completion reads them too
MODEL_FIELDS = _PRICE_FIELDS + SPEED_FIELDS + ir.LIMIT_FIELDS + ("gpu",)
CATALOG_MODEL_FIELDS = _PRICE_FIELDS + ("discount",) + SPEED_FIELDS + ir.LIMIT_FIELDS

#: a provider limit's dimension: requests or tokens a minute, requests in flight
_LIMIT_DIMS = {"rpm": (REQUEST / TIME,), "tpm": (TOKEN / TIME,), "input_tpm": (TOKEN / TIME,),
               "output_tpm": (TOKEN / TIME,), "concurrency": (REQUEST, DIMENSIONLESS)}
_LIMIT_HINTS = {"rpm": "write requests per minute with their unit, e.g. `500 requests/min`",
                "tpm": "write tokens per minute with their unit, e.g. `30000 tokens/min`",
                "input_tpm": "write tokens per minute with their unit, e.g. `30000 tokens/min`",
                "output_tpm": "write tokens per minute with their unit, e.g. `30000 tokens/min`",
                "concurrency": "write the requests in flight as a number, e.g. `50 requests`"}


def run(state: State) -> None:
    x = ExpressionCompiler(state)
    for _, s in state.statements:
        if isinstance(s, ast.Model) and state.declared_here(s.name, s.name_span):
            if s.catalog is not None:
                _catalog_model(x, s)
            else:
                _model(x, s)


def _model(x: ExpressionCompiler, m: ast.Model) -> None:
    state = x.state
    f = fields(state, m.body, MODEL_FIELDS, f"model `{m.name}`", blocks=("gpu",))
    if "gpu" in f:
        _self_hosted(x, m, f)
        return
    values = _price_fields(x, m, f)
    ttft, speed, broken = speed_fields(x, f, f"model `{m.name}`")
    for key in ("input", "output"):
        if key not in f:
            state.collector.error("E210", f"model `{m.name}` has no `{key}` price", m.name_span,
                                  help=f"add `{key} = … USD/Mtok`, or take the catalog's: "
                                  f"`model {m.name} = \"openai:gpt-4o\"` (see `llmarch prices`)")
    if any(values.get(k) is None for k in ("input", "output")):
        return
    cached = values.get("cached_input")
    state.prices[m.name] = ir.Price(m.name, m.label, values["input"], values["output"],
                                    cached if cached is not None else values["input"], m.span,
                                    cache_write=values.get("cache_write"), source=PriceSource(m.name),
                                    ttft=ttft, tokens_per_second=speed, speed_broken=broken,
                                    limits=_limits(x, m, f))


def _self_hosted(x: ExpressionCompiler, m: ast.Model, f: dict) -> None:
    """A model with `gpu { }`: it runs on replicas the architecture pays by the hour, so it has
    no per-token price (its calls cost 0 per token; pass `hosting` prices the replicas)."""
    state = x.state
    for key in _PRICE_FIELDS:
        if key in f:
            state.collector.error("E270", f"self-hosted model `{m.name}` has a per-token `{key}` price", f[key].span,
                                  help="a model with `gpu { }` is paid by its GPU hours: remove the token prices, "
                                  "or remove `gpu { }` to call the model through an API")
    ttft, speed, broken = speed_fields(x, f, f"model `{m.name}`")
    item = f["gpu"]
    if not isinstance(item, ast.Block):
        state.collector.error("E211", f"`gpu` of model `{m.name}` is a block, not a value", item.span,
                              help=f"write `{_GPU_EXAMPLE}`")
        gpu = None
    else:
        gpu = _gpu(x, m, item)
    zero = sympy.Integer(0)
    state.prices[m.name] = ir.Price(m.name, m.label, zero, zero, zero, m.span, source=PriceSource(m.name),
                                    ttft=ttft, tokens_per_second=speed, speed_broken=broken,
                                    limits=_limits(x, m, f), gpu=gpu)


def _gpu(x: ExpressionCompiler, m: ast.Model, block: ast.Block) -> Optional[ir.GpuHosting]:
    """The `gpu { }` block: a replica's hourly `price` and `throughput` (required), the target
    `utilisation` (default 100%) and `min_replicas` (default 1); None when one is wrong."""
    state = x.state
    owner = f"`gpu` of model `{m.name}`"
    g = fields(state, block.body, GPU_FIELDS, owner)
    helps = {"price": "add `price = 2.49 USD/h`: what one replica (the GPUs one copy of the model runs on) "
                      "costs an hour",
             "throughput": "add `throughput = 2400 tokens/s`: the input and output tokens one replica serves "
                           "a second at its batch size"}
    missing = False
    for key in ("price", "throughput"):
        if key not in g:
            state.collector.error("E213", f"{owner} has no `{key}`", block.span, help=helps[key])
            missing = True
    if missing:
        return None
    price = x.expect(g["price"].value, (USD / TIME,), f"`price` of {owner}",
                     hint="write what one replica costs an hour, e.g. `2.49 USD/h`")
    throughput = x.expect(g["throughput"].value, (TOKEN / TIME,), f"`throughput` of {owner}",
                          hint="write the tokens one replica serves a second, e.g. `2400 tokens/s`")
    utilisation = sympy.Integer(1)
    if "utilisation" in g:
        utilisation = x.expect(g["utilisation"].value, (DIMENSIONLESS,), f"`utilisation` of {owner}")
        if utilisation is not None:
            # a share of the throughput, more than 0: a replica sized to run at 0% serves nothing
            x.state.checks.append(ir.Check("probability", utilisation, f"`utilisation` of {owner}",
                                           g["utilisation"].value.span))
            x.state.checks.append(ir.Check("positive", utilisation, f"`utilisation` of {owner}",
                                           g["utilisation"].value.span))
    min_replicas = _min_replicas(state, g["min_replicas"], owner) if "min_replicas" in g else 1
    if price is None or throughput is None or utilisation is None or min_replicas is None:
        return None
    x.state.checks.append(ir.Check("nonnegative", price, f"`price` of {owner}", g["price"].value.span))
    x.state.checks.append(ir.Check("positive", throughput, f"`throughput` of {owner}", g["throughput"].value.span))
    if utilisation.is_zero or throughput.is_zero:
        return None      # reported by the checks (`E423`); a replica count would divide by 0
    tokens = sympy.Symbol(f"_gpu_tokens{sum(p.gpu is not None for p in state.prices.values()) + 1}", real=True)
    return ir.GpuHosting(price, throughput, utilisation, min_replicas, tokens, block.span)


def _min_replicas(state: State, item, owner: str) -> Optional[int]:
    """`min_replicas`: a whole number written in the file (it decides a count of machines)."""
    value = item.value if isinstance(item, ast.Field) else None
    if isinstance(value, ast.Quantity) and value.unit is None and sympy.Rational(value.value).is_Integer:
        return int(sympy.Rational(value.value))
    shown = "a parameter" if isinstance(value, ast.Name) else "not a whole number"
    state.collector.error("E271", f"`min_replicas` of {owner} must be a whole number of 0 or more written in the file "
                          f"({shown} here)", item.span,
                          help="write `min_replicas = 1` (0 lets the replicas scale to none when no request comes)")
    return None


def _price_fields(x: ExpressionCompiler, m: ast.Model, f: dict) -> dict[str, Optional[sympy.Expr]]:
    values: dict[str, Optional[sympy.Expr]] = {}
    for key in _PRICE_FIELDS:
        if key in f and not isinstance(f[key], ast.Block):
            values[key] = x.expect(f[key].value, (PRICE_PER_TOKEN,), f"`{key}` price of model `{m.name}`")
            if values[key] is not None:
                x.state.checks.append(ir.Check("nonnegative", values[key], f"`{key}` price", f[key].value.span))
    return values


def _catalog_model(x: ExpressionCompiler, m: ast.Model) -> None:
    """`model x = "provider:model" [as of "date"] [{ overrides }]`: prices from the
    installed genai-prices snapshot; a field in the body replaces the catalog's, and
    `discount` scales every price."""
    from llmarch.stdlib import catalog
    state = x.state
    as_of = None
    if m.as_of is not None:
        try:
            as_of = catalog.parse_date(m.as_of)
        except catalog.CatalogError as exc:
            state.collector.error("E261", exc.message, m.as_of_span, help="write the date as \"2025-06-01\"")
            return
    try:
        found = catalog.lookup(m.catalog, as_of)
    except catalog.NotYetPriced as exc:
        state.collector.error("E263", exc.message, m.as_of_span, help=exc.help,
                              notes=((exc.note, None),) if exc.note else ())
        return
    except catalog.AmbiguousReference as exc:
        state.collector.error("E262", exc.message, m.catalog_span, help=exc.help)
        return
    except catalog.CatalogError as exc:
        state.collector.error("E260", exc.message, m.catalog_span,
                              help=exc.help or "`llmarch prices PATTERN` lists the catalog's models")
        return
    gpu = next((item for item in m.body.items if item.name == "gpu"), None) if m.body is not None else None
    if gpu is not None:
        state.collector.error("E270", f"self-hosted model `{m.name}` takes per-token prices from the catalog",
                              gpu.span, help=f"declare a self-hosted model with a body of its own: "
                              f"`model {m.name} \"label\" {{ {_GPU_EXAMPLE} }}`")
        return
    f = fields(state, m.body, CATALOG_MODEL_FIELDS, f"model `{m.name}`")
    values = _price_fields(x, m, f)
    ttft, speed, broken = speed_fields(x, f, f"model `{m.name}`")
    discount = optional(x, f, "discount", (DIMENSIONLESS,), "`discount`", "probability")
    rates = {"input": found.input, "output": found.output, "cached_input": found.cache_read,
             "cache_write": found.cache_write}
    prices: dict[str, Optional[sympy.Expr]] = {}
    for key in _PRICE_FIELDS:
        if key in f:
            prices[key] = values.get(key)
        elif rates[key] is not None:
            prices[key] = _rate(rates[key])
        else:
            prices[key] = None
    if prices["output"] is None and "output" not in f:
        # genai-prices lists what a model charges for: an embedding model has no output
        # price because its output is free (its own calc_price counts it as 0)
        prices["output"] = sympy.Integer(0)
    if prices["input"] is None and "input" not in f:
        state.collector.error("E210", f"the catalog has no `input` price for `{found.ref}`", m.catalog_span,
                              help="give it in the model's body: `{ input = … USD/Mtok }`")
    if prices["input"] is None or prices["output"] is None:
        return
    keep = 1 - discount
    scaled = {k: (v * keep if v is not None else None) for k, v in prices.items()}
    source = PriceSource(
        m.name, reference=m.catalog.strip(), entry=found.ref, name=found.name, priced_as=found.priced_as,
        as_of=as_of.isoformat() if as_of else None,
        price_since=found.price_since.isoformat() if found.price_since else None,
        catalog=f"genai-prices {found.version}",
        overrides=tuple(k for k in _PRICE_FIELDS + ("discount",) if k in f))
    state.prices[m.name] = ir.Price(
        m.name, m.label or found.name or found.ref, scaled["input"], scaled["output"],
        scaled["cached_input"] if scaled["cached_input"] is not None else scaled["input"], m.span,
        cache_write=scaled["cache_write"], source=source, ttft=ttft, tokens_per_second=speed,
        speed_broken=broken, limits=_limits(x, m, f))


def _limits(x: ExpressionCompiler, m: ast.Model, f: dict) -> tuple:
    """The provider limits the model declares, (field, value in base units, span), each
    more than 0 in every scenario; a limit in the wrong unit is reported and left out."""
    found = []
    for key in ir.LIMIT_FIELDS:
        if key in f and not isinstance(f[key], ast.Block):
            value = x.expect(f[key].value, _LIMIT_DIMS[key], f"`{key}` of model `{m.name}`", hint=_LIMIT_HINTS[key])
            if value is not None:
                x.state.checks.append(ir.Check("positive", value, f"`{key}` of model `{m.name}`", f[key].value.span))
                found.append((key, value, f[key].span))
    return tuple(found)


def _rate(rate) -> sympy.Expr:
    """A catalog rate (USD per million tokens, maybe tiered) as USD per token; a tier is a
    cliff: above its start, its rate applies to every token of the call."""
    def per_token(value) -> sympy.Expr:
        return sympy.Rational(str(value)) / 1_000_000
    if not rate.tiers:
        return per_token(rate.base)
    pieces = [(per_token(t.per_mtok), sympy.StrictGreaterThan(ir.CALL_INPUT_TOKENS, t.start))
              for t in reversed(rate.tiers)]
    return sympy.Piecewise(*pieces, (per_token(rate.base), True))
