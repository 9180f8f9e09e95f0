"""Pass `prices`: every `model` declaration becomes an `ir.Price` (USD per token). Prices
are written in the body, or taken from the catalog (`model x = "openai:gpt-4o"`), whose
prices a body field replaces and `discount` scales."""

from __future__ import annotations

from typing import Optional

import sympy

from llmarch.dsl import ast

from .. import ir
from ..provenance import PriceSource
from ..units import DIMENSIONLESS, REQUEST, TIME, TOKEN
from .common import SPEED_FIELDS, fields, optional, speed_fields
from .expressions import PRICE_PER_TOKEN, ExpressionCompiler
from .state import State

__all__ = ["run", "MODEL_FIELDS", "CATALOG_MODEL_FIELDS"]

_PRICE_FIELDS = ("input", "output", "cached_input", "cache_write")
#: the fields of a model priced by hand, and of one from the catalog (which may be discounted);
#: the language server's completion reads them too
MODEL_FIELDS = _PRICE_FIELDS + SPEED_FIELDS + ir.LIMIT_FIELDS
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
    f = fields(state, m.body, MODEL_FIELDS, f"model `{m.name}`")
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
