"""Semantic checks: resolve names, check units and build the `ir.Architecture`.

Every problem is collected with its source span and reported together; a later
problem that only follows from an earlier one is not reported twice.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

import networkx as nx
import sympy

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import Collector, SourceCache, Span, did_you_mean
from llmarch.dsl.vocabulary import CALENDAR_WORDS, KNOWN_UNIT_WORDS, UNIT_WORDS

from . import ir
from .settings import LINT_THRESHOLDS, SETTING_NAMES
from .templates import Instance, Scope, expand, port_in, port_out
from .units import DIMENSIONLESS, REQUEST, TIME, TOKEN, USD, Dim, UnitError, format_dim, unit_of

__all__ = ["elaborate", "RESERVED_NODES", "MAX_ATTEMPTS"]

RESERVED_NODES = ("start", "success", "failure")
#: The built-in parameter: months since launch, for growth over time.
TIME_PARAMETER = "time"
MAX_ATTEMPTS = 50
MAX_EXPONENT = 1000
DEFAULT_MONTH_DAYS = sympy.Integer(30)

_FUNCTIONS = {"min": (2, None), "max": (2, None), "ceil": (1, 1), "floor": (1, 1), "sqrt": (1, 1),
              "log": (1, 1), "exp": (1, 1)}

_DEFAULT_CATEGORY = {"llm": "inference", "embedding": "retrieval", "retrieval": "retrieval",
                     "cache": "retrieval", "guardrail": "ops", "tool": "retrieval", "router": "inference", "human": "human",
                     "observe": "ops", "fixed": "infra"}

PRICE_PER_TOKEN = USD / TOKEN
COST_PER_VISIT = (USD, USD / REQUEST)

# Which fields each kind of component takes. "common" fields are shared by every
# kind that sits in the flow.
_MODEL_FIELDS = ("model", "input", "output", "cached", "cache_write", "fallback_model")
_PRICE_FIELDS = ("input", "output", "cached_input", "cache_write")
_COMMON = ("cost", "category", "fail_rate", "attempts", "retries", "fallback")
_FIELDS = {
    "llm": _MODEL_FIELDS + _COMMON,
    "embedding": _MODEL_FIELDS + _COMMON,
    "guardrail": _MODEL_FIELDS + _COMMON,
    "retrieval": _COMMON,
    "tool": _COMMON,
    "router": ("cost", "category"),
    "cache": _COMMON + ("hit_rate", "on_hit", "match"),
    "human": _COMMON + ("time", "rate"),
    "observe": ("per_request", "per_call", "per_token", "sample", "category"),
    "fixed": ("cost", "category", "model", "tokens"),
}
_REQUIRED = {"llm": ("model", "input", "output"), "embedding": ("model", "input"),
             "cache": ("hit_rate",), "human": ("time", "rate")}


@dataclass
class _Value:
    expr: sympy.Expr
    dim: Dim
    constant: bool


class _Elaborator:
    def __init__(self, modules: list[ast.Module], sources: SourceCache):
        self.modules = modules
        self.main = modules[0]
        self.c = Collector(sources)
        self.month_days = DEFAULT_MONTH_DAYS
        self.params: dict[str, ir.Parameter] = {}
        self.prices: dict[str, ir.Price] = {}
        self.components: dict[str, ir.Component] = {}
        self.fixed: dict[str, ir.FixedCost] = {}
        self.checks: list[ir.Check] = []
        self.declared: dict[str, tuple[str, Span]] = {}
        self.lint_settings: dict[str, float] = {}
        self.lint_spans: dict[str, Span] = {}
        self._symbols = 0
        self.instances: dict[str, Instance] = {}
        self.failed_instances: set[str] = set()
        self.origin: dict[str, Instance] = {}
        self._edge_scope: dict[str, Scope] = {}

    # --- expressions -----------------------------------------------------------
    def value(self, expr: ast.Expr, allow_params: bool = True) -> Optional[_Value]:
        """Compile an expression to sympy (base units) with its dimension, or None on error."""
        method: Callable = getattr(self, f"_expr_{type(expr).__name__}")
        result = method(expr, allow_params)
        if result is not None and result.constant and not (result.expr.is_real and result.expr.is_finite):
            # 0^-1, 0^-0.5 …: sympy's complex infinity or NaN must never reach evaluation
            self.c.error("E303" if result.expr.has(sympy.zoo) else "E305",
                         "division by zero" if result.expr.has(sympy.zoo) else "not a finite real number",
                         expr.span, help="zero raised to a negative power divides by zero"
                         if isinstance(expr, ast.BinOp) and expr.op == "^" else None)
            return None
        return result

    def _expr_Quantity(self, e: ast.Quantity, allow_params: bool) -> Optional[_Value]:
        number = sympy.Rational(e.value)
        if e.unit is None:
            return _Value(number, DIMENSIONLESS, True)
        try:
            dim, scale = unit_of(e.unit, self.month_days)
        except UnitError as exc:
            self.c.error("E302", f"unknown unit `{exc}`", e.span,
                         help=did_you_mean(str(exc), [*UNIT_WORDS, *CALENDAR_WORDS])
                         or "units: " + ", ".join(KNOWN_UNIT_WORDS))
            return None
        return _Value(number * scale, dim, True)

    def _expr_Percent(self, e: ast.Percent, allow_params: bool) -> Optional[_Value]:
        return _Value(sympy.Rational(e.value) / 100, DIMENSIONLESS, True)

    def _expr_Name(self, e: ast.Name, allow_params: bool) -> Optional[_Value]:
        param = self.params.get(e.id)
        if param is not None and allow_params:
            return _Value(param.expr, param.dim, False)
        if param is not None:
            self.c.error("E207", f"`{e.id}` must be a constant here, not a parameter", e.span)
            return None
        if e.id in self.declared and self.declared[e.id][0] != "parameter":
            kind = self.declared[e.id][0]
            self.c.error("E202", f"`{e.id}` is a {kind}, not a parameter", e.span,
                         help="only parameters can appear in formulas")
            return None
        if e.id in self._pending_params:
            return None  # reported where that parameter was defined
        hint = did_you_mean(e.id, self.params)
        if hint is None and (e.id in UNIT_WORDS or e.id in CALENDAR_WORDS):
            hint = f"`{e.id}` is a unit: write it right after a number, with no space around `/` (e.g. `1200 requests/day`)"
        self.c.error("E201", f"unknown parameter `{e.id}`", e.span, help=hint)
        return None

    def _expr_Neg(self, e: ast.Neg, allow_params: bool) -> Optional[_Value]:
        inner = self.value(e.operand, allow_params)
        return None if inner is None else _Value(-inner.expr, inner.dim, inner.constant)

    def _expr_BinOp(self, e: ast.BinOp, allow_params: bool) -> Optional[_Value]:
        left, right = self.value(e.left, allow_params), self.value(e.right, allow_params)
        if left is None or right is None:
            return None
        constant = left.constant and right.constant
        if e.op in "+-":
            if left.dim != right.dim:
                verb = "add" if e.op == "+" else "subtract"
                self.c.error("E301", f"cannot {verb} {format_dim(left.dim)} and {format_dim(right.dim)}", e.span,
                             help="both sides of `+` and `-` need the same unit")
                return None
            expr = left.expr + right.expr if e.op == "+" else left.expr - right.expr
            return _Value(expr, left.dim, constant)
        if e.op == "*":
            return _Value(left.expr * right.expr, left.dim * right.dim, constant)
        if e.op == "/":
            if right.constant and right.expr == 0:
                self.c.error("E303", "division by zero", e.span)
                return None
            return _Value(left.expr / right.expr, left.dim / right.dim, constant)
        return self._power(e, left, right)

    def _power(self, e: ast.BinOp, base: _Value, exponent: _Value) -> Optional[_Value]:
        if not exponent.dim.is_dimensionless:
            self.c.error("E304", f"an exponent must be a plain number, not {format_dim(exponent.dim)}", e.right.span)
            return None
        if exponent.constant:
            k = exponent.expr
            if abs(k) > MAX_EXPONENT:
                self.c.error("E105", f"exponent {k} is too large (limit {MAX_EXPONENT})", e.right.span)
                return None
            if base.constant and base.expr != 0:
                magnitude = float(k) * math.log10(abs(float(base.expr))) if base.expr.is_real else 0
                if abs(magnitude) > 300:
                    size = "large" if magnitude > 0 else "small"
                    self.c.error("E105", f"number is too {size}: about 1e{magnitude:.0f}", e.span)
                    return None
            if not base.dim.is_dimensionless:
                if not (k.is_Integer):
                    self.c.error("E304", f"{format_dim(base.dim)} can only be raised to a whole power", e.span)
                    return None
                return _Value(base.expr ** k, base.dim ** int(k), base.constant)
            if base.constant and base.expr < 0 and not k.is_Integer:
                self.c.error("E305", "a negative number raised to a fractional power", e.span)
                return None
            return _Value(base.expr ** k, DIMENSIONLESS, base.constant)
        if not base.dim.is_dimensionless:
            self.c.error("E304", "only plain numbers can be raised to a parameter's power", e.span)
            return None
        return _Value(base.expr ** exponent.expr, DIMENSIONLESS, False)

    def _expr_Call(self, e: ast.Call, allow_params: bool) -> Optional[_Value]:
        if e.func not in _FUNCTIONS:
            self.c.error("E203", f"unknown function `{e.func}`", e.span,
                         help=did_you_mean(e.func, _FUNCTIONS) or "functions: " + ", ".join(_FUNCTIONS))
            return None
        low, high = _FUNCTIONS[e.func]
        if len(e.args) < low or (high is not None and len(e.args) > high):
            wanted = f"{low}" if high == low else f"at least {low}"
            self.c.error("E204", f"`{e.func}` takes {wanted} argument{'s' if low > 1 else ''}, got {len(e.args)}", e.span)
            return None
        args = [self.value(a, allow_params) for a in e.args]
        if any(a is None for a in args):
            return None
        constant = all(a.constant for a in args)
        if e.func in ("min", "max"):
            dims = {a.dim for a in args}
            if len(dims) > 1:
                self.c.error("E301", f"`{e.func}` of values in different units: "
                             + ", ".join(sorted(format_dim(d) for d in dims)), e.span)
                return None
            fn = sympy.Min if e.func == "min" else sympy.Max
            return _Value(fn(*[a.expr for a in args]), args[0].dim, constant)
        (arg,) = args
        if not arg.dim.is_dimensionless:
            self.c.error("E306", f"`{e.func}` needs a plain number, not {format_dim(arg.dim)}", e.span,
                         help="divide by a unit first, e.g. `ceil(docs / (1000 docs))`")
            return None
        if e.func in ("log", "sqrt") and arg.constant and arg.expr <= 0 and not (e.func == "sqrt" and arg.expr == 0):
            self.c.error("E305", f"`{e.func}` of a non-positive number", e.span)
            return None
        if e.func == "exp" and arg.constant and arg.expr > 690:
            self.c.error("E105", "number is too large: `exp` of more than 690", e.span)
            return None
        fn = {"ceil": sympy.ceiling, "floor": sympy.floor, "sqrt": sympy.sqrt, "log": sympy.log,
              "exp": sympy.exp}[e.func]
        return _Value(fn(arg.expr), DIMENSIONLESS, constant)

    def expect(self, expr: ast.Expr, dims: Iterable[Dim], what: str, allow_params: bool = True) -> Optional[sympy.Expr]:
        """Compile `expr` and require one of `dims`; USD/request counts as USD for per-visit costs."""
        dims = tuple(dims)
        v = self.value(expr, allow_params)
        if v is None:
            return None
        if v.dim not in dims:
            wanted = " or ".join(format_dim(d) for d in dims)
            hint = None
            if dims[0] == PRICE_PER_TOKEN:
                hint = "write prices with their unit, e.g. `2.50 USD/Mtok` (per million) or `0.0025 USD/Ktok`"
            elif dims[0] == DIMENSIONLESS:
                hint = "write shares as a plain number or a percentage: `0.3` or `30%`"
            elif dims[0] == TOKEN:
                hint = "write token counts with their unit, e.g. `300 tokens`"
            elif dims[0] == USD / TIME:
                hint = "write a rate with its unit, e.g. `500 USD/month`"
            elif dims[0] == REQUEST / TIME:
                hint = "write traffic with its unit, e.g. `1200 requests/day`"
            self.c.error("E300", f"{what} must be in {wanted}, got {format_dim(v.dim)}", expr.span, help=hint)
            return None
        return v.expr

    # --- declarations ----------------------------------------------------------
    def declare(self, name: str, kind: str, span: Span) -> bool:
        if name == TIME_PARAMETER:
            self.c.error("E102", f"`{name}` is built in: the months since launch", span,
                         help="choose another name; use `time` in formulas for growth over time")
            return False
        if name in RESERVED_NODES:
            self.c.error("E102", f"`{name}` is reserved for the flow", span, help="choose another name")
            return False
        if name in self.declared:
            other_kind, other_span = self.declared[name]
            self.c.error("E101", f"`{name}` is already declared (as a {other_kind})", span,
                         notes=(("first declared here", other_span),))
            return False
        self.declared[name] = (kind, span)
        return True

    def run(self) -> ir.Architecture:
        statements = [(m is self.main, s) for m in self.modules for s in m.statements]
        expansion = expand(statements, self.c)
        statements = expansion.statements
        self.instances, self.origin = expansion.instances, expansion.origin
        self.failed_instances = expansion.failed
        title, traffic_stmt, flow_stmt, settings = None, None, None, None
        for in_main, s in statements:
            if isinstance(s, (ast.Architecture, ast.Traffic, ast.Flow, ast.Settings)):
                word = {ast.Architecture: "architecture", ast.Traffic: "traffic", ast.Flow: "flow",
                        ast.Settings: "settings"}[type(s)]
                if not in_main:
                    self.c.error("E021", f"`{word}` belongs in the main file, not in an imported one", s.span)
                    continue
                previous = {"architecture": title, "traffic": traffic_stmt, "flow": flow_stmt,
                            "settings": settings}[word]
                if previous is not None:
                    self.c.error("E022", f"`{word}` is given twice", s.span,
                                 notes=(("first given here", previous.span),))
                    continue
                if word == "architecture":
                    title = s
                elif word == "traffic":
                    traffic_stmt = s
                elif word == "flow":
                    flow_stmt = s
                else:
                    settings = s
        if settings is not None:
            self.settings(settings)
        for _, s in statements:
            if isinstance(s, ast.Param):
                self.declare(s.name, "parameter", s.name_span)
            elif isinstance(s, ast.Model):
                self.declare(s.name, "model", s.name_span)
            elif isinstance(s, ast.Component):
                self.c.context = self.origin[s.name].notes if s.name in self.origin else ()
                self.declare(s.name, f"{s.kind} component", s.name_span)
        self.c.context = ()
        for instance in self.instances.values():
            self.declare(instance.name, f"instance of template `{instance.template}`", instance.span)
        self.parameters([s for _, s in statements if isinstance(s, ast.Param)])
        for _, s in statements:
            if isinstance(s, ast.Model) and self.declared.get(s.name, ("",))[1:] == (s.name_span,):
                self.model(s)
        for _, s in statements:
            if isinstance(s, ast.Component) and self.declared.get(s.name, ("",))[1:] == (s.name_span,):
                self.c.context = self.origin[s.name].notes if s.name in self.origin else ()
                self.component(s)
        for _, s in statements:
            if isinstance(s, ast.Component) and s.name in self.components:
                self.c.context = self.origin[s.name].notes if s.name in self.origin else ()
                self.component_links(s)
        self.c.context = ()
        for name, instance in self.origin.items():
            if name in self.components:
                self.components[name].group = instance.name
            if name in self.fixed:
                self.fixed[name] = dataclasses.replace(self.fixed[name], group=instance.name)
        traffic = None
        if traffic_stmt is None:
            self.c.error("E401", "no `traffic` given", Span(file=self.main.path, line=1, column=1, end_line=1, end_column=2),
                         help="add a line such as `traffic = 1200 requests/day`")
        else:
            traffic = self.expect(traffic_stmt.value, (REQUEST / TIME,), "traffic")
            if traffic is not None:
                self.checks.append(ir.Check("nonnegative", traffic, "traffic", traffic_stmt.value.span))
        edges, entry = self.flow(flow_stmt, expansion.flows)
        scenarios = self.scenarios([s for _, s in statements if isinstance(s, ast.Scenario)])
        budgets = [b for b in (self.budget(s, scenarios) for in_main, s in statements
                               if isinstance(s, ast.Budget) and in_main) if b is not None]
        for in_main, s in statements:
            if isinstance(s, ast.Budget) and not in_main:
                self.c.error("E021", "`budget` belongs in the main file, not in an imported one", s.span)
        self.c.raise_if_errors()
        return ir.Architecture(
            title=title.title if title else self.main.path, path=self.main.path, month_days=self.month_days,
            traffic=traffic, traffic_span=traffic_stmt.span if traffic_stmt else None,
            parameters=self.params, prices=self.prices, components=self.components, edges=edges,
            entry=entry, fixed=self.fixed, scenarios=scenarios, checks=self.checks, budgets=budgets,
            lint_settings=self.lint_settings, lint_spans=self.lint_spans,
            groups={name: i.label or name for name, i in self.instances.items()},
            instance_spans={name: i.span for name, i in self.instances.items()})

    _pending_params: frozenset = frozenset()

    def settings(self, s: ast.Settings) -> None:
        for item in s.body.items:
            if not isinstance(item, ast.Block) and item.name in LINT_THRESHOLDS:
                value = self.expect(item.value, (DIMENSIONLESS,), f"lint threshold `{item.name}`", allow_params=False)
                if value is not None:
                    self.lint_settings[item.name] = float(value)
                    self.lint_spans[item.name] = item.span
                continue
            if isinstance(item, ast.Block) or item.name != "month":
                self.c.error("E205", f"unknown setting `{item.name}`", item.span,
                             help=did_you_mean(item.name, SETTING_NAMES) or "settings: " + ", ".join(SETTING_NAMES))
                continue
            if _mentions_month(item.value):
                self.c.error("E300", "`month` must be given in days, hours or weeks, not in months", item.value.span)
                continue
            days = self.expect(item.value, (TIME,), "month", allow_params=False)
            if days is not None:
                if days <= 0:
                    self.c.error("E307", "`month` must be longer than zero", item.value.span)
                else:
                    self.month_days = days

    def parameters(self, params: list[ast.Param]) -> None:
        self.params[TIME_PARAMETER] = ir.Parameter(
            name=TIME_PARAMETER, symbol=sympy.Symbol("_p0", real=True), dim=TIME, scale=self.month_days,
            unit="months", definition=sympy.Integer(0), low=0.0, high=None,
            description="months since launch (0 unless a projection or --set moves it)",
            span=Span(file=self.main.path, line=1, column=1, end_line=1, end_column=2), builtin=True)
        by_name = {p.name: p for p in params if self.declared.get(p.name, ("",))[1:] == (p.name_span,)}
        graph = nx.DiGraph()
        for p in by_name.values():
            graph.add_node(p.name)
            for ref in _names_in(p.value):
                if ref in by_name:
                    graph.add_edge(ref, p.name)
        cyclic: set[str] = set()
        for component in nx.strongly_connected_components(graph):
            if len(component) > 1 or any(graph.has_edge(n, n) for n in component):
                cyclic |= component
                for name in sorted(component):
                    self.c.error("E206", f"parameter `{name}` is defined in terms of itself",
                                 by_name[name].name_span,
                                 help="cycle: " + " -> ".join(sorted(component)))
        self._pending_params = frozenset(cyclic)
        order = [n for n in nx.lexicographical_topological_sort(graph.subgraph(set(by_name) - cyclic),
                                                                  key=lambda n: by_name[n].span.start)]
        for name in order:
            self.parameter(by_name[name])

    def parameter(self, p: ast.Param) -> None:
        v = self.value(p.value)
        if v is None:
            self._pending_params = self._pending_params | {p.name}
            return
        unit, scale = None, sympy.Integer(1)
        if isinstance(p.value, ast.Quantity) and p.value.unit:
            unit = p.value.unit
            scale = unit_of(unit, self.month_days)[1]
        bounds: list[Optional[float]] = [None, None]
        for i, bound in enumerate((p.low, p.high)):
            if bound is None:
                continue
            b = self.value(bound, allow_params=False)
            if b is None:
                continue
            if b.dim == DIMENSIONLESS and isinstance(bound, (ast.Quantity, ast.Neg)) and v.dim != DIMENSIONLESS:
                bounds[i] = float(b.expr)  # a bare number is in the parameter's declared unit
                continue
            if b.dim != v.dim:
                self.c.error("E300", f"range of `{p.name}` must be in {format_dim(v.dim)}, got {format_dim(b.dim)}",
                             bound.span)
                continue
            bounds[i] = float(b.expr / scale)
        if bounds[0] is not None and bounds[1] is not None and bounds[0] >= bounds[1]:
            self.c.error("E308", f"range of `{p.name}` is empty or inverted: [{_num(bounds[0])}, {_num(bounds[1])}]",
                         p.low.span, help="write the range as [low, high] with low < high")
        symbol = sympy.Symbol(f"_p{len(self.params)}", real=True)
        self.params[p.name] = ir.Parameter(
            name=p.name, symbol=symbol, dim=v.dim, scale=scale, unit=unit, definition=v.expr,
            low=bounds[0], high=bounds[1], description=p.description, span=p.span)

    def model(self, m: ast.Model) -> None:
        if m.catalog is not None:
            return self.catalog_model(m)
        fields = self.fields(m.body, _PRICE_FIELDS, f"model `{m.name}`")
        values = self.price_fields(m, fields)
        for key in ("input", "output"):
            if key not in fields:
                self.c.error("E210", f"model `{m.name}` has no `{key}` price", m.name_span,
                             help=f"add `{key} = … USD/Mtok`, or take the catalog's: "
                             f"`model {m.name} = \"openai:gpt-4o\"` (see `llmarch prices`)")
        if any(values.get(k) is None for k in ("input", "output")):
            return
        cached = values.get("cached_input")
        self.prices[m.name] = ir.Price(m.name, m.label, values["input"], values["output"],
                                       cached if cached is not None else values["input"], m.span,
                                       cache_write=values.get("cache_write"))

    def price_fields(self, m: ast.Model, fields: dict) -> dict[str, Optional[sympy.Expr]]:
        values: dict[str, Optional[sympy.Expr]] = {}
        for key in _PRICE_FIELDS:
            if key in fields and not isinstance(fields[key], ast.Block):
                values[key] = self.expect(fields[key].value, (PRICE_PER_TOKEN,), f"`{key}` price of model `{m.name}`")
                if values[key] is not None:
                    self.checks.append(ir.Check("nonnegative", values[key], f"`{key}` price", fields[key].value.span))
        return values

    def catalog_model(self, m: ast.Model) -> None:
        """`model x = "provider:model" [as of "date"] [{ overrides }]`: prices from the
        installed genai-prices snapshot; a field in the body replaces the catalog's, and
        `discount` scales every price."""
        from llmarch.stdlib import catalog
        as_of = None
        if m.as_of is not None:
            try:
                as_of = catalog.parse_date(m.as_of)
            except catalog.CatalogError as exc:
                self.c.error("E261", exc.message, m.as_of_span, help="write the date as \"2025-06-01\"")
                return
        try:
            found = catalog.lookup(m.catalog, as_of)
        except catalog.CatalogError as exc:
            self.c.error("E260", exc.message, m.catalog_span,
                         help=exc.help or "`llmarch prices PATTERN` lists the catalog's models")
            return
        fields = self.fields(m.body, _PRICE_FIELDS + ("discount",), f"model `{m.name}`")
        values = self.price_fields(m, fields)
        discount = self.opt(fields, "discount", (DIMENSIONLESS,), "`discount`", "probability")
        rates = {"input": found.input, "output": found.output, "cached_input": found.cache_read,
                 "cache_write": found.cache_write}
        prices: dict[str, Optional[sympy.Expr]] = {}
        for key in _PRICE_FIELDS:
            if key in fields:
                prices[key] = values.get(key)
            elif rates[key] is not None:
                prices[key] = _rate(rates[key])
            else:
                prices[key] = None
        if prices["output"] is None and "output" not in fields:
            # genai-prices lists what a model charges for: an embedding model has no output
            # price because its output is free (its own calc_price counts it as 0)
            prices["output"] = sympy.Integer(0)
        if prices["input"] is None and "input" not in fields:
            self.c.error("E210", f"the catalog has no `input` price for `{found.ref}`", m.catalog_span,
                         help="give it in the model's body: `{ input = … USD/Mtok }`")
        if prices["input"] is None or prices["output"] is None:
            return
        keep = 1 - discount
        scaled = {k: (v * keep if v is not None else None) for k, v in prices.items()}
        when = f"as of {as_of.isoformat()}" if as_of else "newest price"
        self.prices[m.name] = ir.Price(
            m.name, m.label or found.name or found.ref, scaled["input"], scaled["output"],
            scaled["cached_input"] if scaled["cached_input"] is not None else scaled["input"], m.span,
            cache_write=scaled["cache_write"], catalog=found.ref, source=f"{found.source}, {when}")

    def fields(self, body: ast.Body, allowed: tuple[str, ...], owner: str,
               blocks: tuple[str, ...] = ()) -> dict[str, ast.Field | ast.Block]:
        found: dict[str, ast.Field | ast.Block] = {}
        for item in body.items:
            is_block = isinstance(item, ast.Block)
            if item.name not in allowed or (is_block and item.name not in blocks):
                if is_block and item.name in allowed:
                    self.c.error("E211", f"`{item.name}` of {owner} is a value, not a block", item.span,
                                 help=f"write `{item.name} = …`")
                else:
                    self.c.error("E211", f"{owner} has no field `{item.name}`", item.span,
                                 help=did_you_mean(item.name, allowed) or "fields: " + ", ".join(allowed))
                continue
            if item.name in found:
                self.c.error("E212", f"`{item.name}` is given twice in {owner}", item.span,
                             notes=(("first given here", found[item.name].span),))
                continue
            found[item.name] = item
        return found

    def component(self, s: ast.Component) -> None:
        owner = f"{s.kind} `{s.name}`"
        allowed = _FIELDS[s.kind]
        f = self.fields(s.body, allowed, owner, blocks=("input",))
        for key in _REQUIRED.get(s.kind, ()):
            if key not in f:
                self.c.error("E213", f"{owner} needs `{key}`", s.name_span, help=_FIELD_HELP.get(key))
        comp = ir.Component(name=s.name, kind=s.kind, label=s.label, category=_DEFAULT_CATEGORY[s.kind],
                            span=s.span, spans={k: v.span for k, v in f.items()})
        if "category" in f:
            comp.category = self.enum(f["category"], ir.CATEGORIES, "category") or comp.category
        elif s.kind == "guardrail" and "model" in f:
            comp.category = "inference"
        if "match" in f:
            self.enum(f["match"], ("exact", "semantic"), "cache match")
        if s.kind == "fixed":
            return self.fixed_cost(s, f, comp)
        if s.kind == "observe":
            comp.per_request = self.opt(f, "per_request", COST_PER_VISIT, "observability cost per request", "nonnegative")
            comp.per_call = self.opt(f, "per_call", COST_PER_VISIT, "observability cost per model call", "nonnegative")
            comp.per_token = self.opt(f, "per_token", (PRICE_PER_TOKEN,), "observability cost per traced token", "nonnegative")
            comp.sample = self.opt(f, "sample", (DIMENSIONLESS,), "`sample`", "probability", default=1)
            if not any(k in f for k in ("per_request", "per_call", "per_token")):
                self.c.error("E213", f"{owner} needs `per_request`, `per_call` or `per_token`", s.name_span)
            self.components[s.name] = comp
            return
        cost = self.opt(f, "cost", COST_PER_VISIT, f"`cost` of {owner}", "nonnegative")
        if "model" in f:
            tokens = self.token_cost(s, f, comp)
            if tokens is not None:
                cost = cost + tokens
        elif any(k in f for k in ("input", "output", "cached", "fallback_model")):
            key = next(k for k in ("input", "output", "cached", "fallback_model") if k in f)
            self.c.error("E213", f"`{key}` of {owner} needs a `model`", f[key].span)
        if s.kind == "human" and "time" in f and "rate" in f:
            minutes = self.expect(f["time"].value, (TIME,), f"`time` of {owner}")
            rate = self.expect(f["rate"].value, (USD / TIME,), f"`rate` of {owner}")
            if minutes is not None and rate is not None:
                self.checks.append(ir.Check("nonnegative", minutes, "review time", f["time"].value.span))
                self.checks.append(ir.Check("nonnegative", rate, "hourly rate", f["rate"].value.span))
                cost = cost + minutes * rate
        comp.cost = cost
        comp.fail_rate = self.opt(f, "fail_rate", (DIMENSIONLESS,), "`fail_rate`", "probability")
        if "attempts" in f and "retries" in f:
            self.c.error("E214", f"{owner} gives both `attempts` and `retries`", f["retries"].span,
                         help="`attempts = 3` means the same as `retries = 2`: keep one")
        elif "attempts" in f:
            comp.attempts = self.count(f["attempts"], 1, "attempts")
        elif "retries" in f:
            comp.attempts = self.count(f["retries"], 0, "retries", MAX_ATTEMPTS - 1) + 1
        if s.kind == "cache":
            comp.hit_rate = self.opt(f, "hit_rate", (DIMENSIONLESS,), "`hit_rate`", "probability")
        self.components[s.name] = comp

    def fixed_cost(self, s: ast.Component, f: dict, comp: ir.Component) -> None:
        """`cost = … USD/month`, and/or `model` with `tokens = … tokens/month`: a batch job
        (re-embedding the documents) priced at the model's input price."""
        if "cost" not in f and "tokens" not in f:
            self.c.error("E213", f"fixed `{s.name}` needs `cost`, or `model` and `tokens`", s.name_span,
                         help=_FIELD_HELP["cost"] + ", or `model = embed; tokens = documents * doc_tokens / 7 days`")
            return
        cost = self.expect(f["cost"].value, (USD / TIME,), f"cost of fixed `{s.name}`") if "cost" in f else sympy.Integer(0)
        if cost is not None and "cost" in f:
            self.checks.append(ir.Check("nonnegative", cost, "fixed cost", f["cost"].value.span))
        if ("model" in f) != ("tokens" in f):
            have, need = ("model", "tokens") if "model" in f else ("tokens", "model")
            self.c.error("E213", f"`{have}` of fixed `{s.name}` needs `{need}`", f[have].span)
            return
        if "model" in f:
            price = self.model_ref(f["model"])
            tokens = self.expect(f["tokens"].value, (TOKEN / TIME,), f"`tokens` of fixed `{s.name}`")
            if price is None or tokens is None or cost is None:
                return
            self.checks.append(ir.Check("nonnegative", tokens, "tokens per month", f["tokens"].value.span))
            comp.model = price.name
            # a batch job's calls have no known size: a tiered price is taken at its base rate
            cost = cost + tokens * price.input.xreplace({ir.CALL_INPUT_TOKENS: 0})
        if cost is not None:
            self.fixed[s.name] = ir.FixedCost(s.name, s.label, comp.category, cost * self.month_days, s.span)

    def token_cost(self, s: ast.Component, f: dict, comp: ir.Component) -> Optional[sympy.Expr]:
        owner = f"{s.kind} `{s.name}`"
        price = self.model_ref(f["model"])
        if "input" in f and isinstance(f["input"], ast.Block):
            parts = []
            for item in f["input"].body.items:
                if isinstance(item, ast.Block):
                    self.c.error("E211", f"input parts of {owner} are values, not blocks", item.span)
                    continue
                part = self.expect(item.value, (TOKEN,), f"input part `{item.name}` of {owner}")
                if part is not None:
                    self.checks.append(ir.Check("nonnegative", part, f"input part `{item.name}`", item.value.span))
                    parts.append(part)
                    comp.input_parts[item.name] = part
            if not f["input"].body.items:
                self.c.error("E213", f"`input` of {owner} has no parts", f["input"].span)
            tokens_in = sympy.Add(*parts)
        elif "input" in f:
            tokens_in = self.expect(f["input"].value, (TOKEN,), f"`input` of {owner}")
            if tokens_in is not None:
                self.checks.append(ir.Check("nonnegative", tokens_in, "input tokens", f["input"].value.span))
        else:
            tokens_in = sympy.Integer(0) if s.kind == "guardrail" else None
        tokens_out = self.opt(f, "output", (TOKEN,), f"`output` of {owner}", "nonnegative")
        cached = self.opt(f, "cached", (DIMENSIONLESS,), "`cached`", "probability")
        written = self.opt(f, "cache_write", (DIMENSIONLESS,), "`cache_write`", "probability")
        if "cached" in f and "cache_write" in f:
            self.checks.append(ir.Check("probability", cached + written, "`cached` plus `cache_write`",
                                        f["cache_write"].span))
        if price is None or tokens_in is None:
            return None
        comp.model = price.name
        comp.tokens = tokens_in + tokens_out
        comp.input_tokens = tokens_in

        def priced(p: ir.Price) -> sympy.Expr:
            return p.priced(tokens_in, tokens_out, cached, written)

        if "fallback_model" in f:
            other = self.model_ref(f["fallback_model"])
            if other is not None:
                comp.fallback_model = other
                comp.fallback_cost = priced(other) + self.opt(f, "cost", COST_PER_VISIT, f"`cost` of {owner}")
                comp.fallback_tokens = comp.tokens
        return priced(price)

    def model_ref(self, item) -> Optional[ir.Price]:
        if isinstance(item, ast.Block) or not isinstance(item.value, ast.Name):
            self.c.error("E215", f"`{item.name}` must name a model", item.span)
            return None
        name = item.value.id
        if name in self.prices:
            return self.prices[name]
        if name in self.declared and self.declared[name][0] == "model":
            return None  # the model itself had errors, already reported
        self.c.error("E216", f"unknown model `{name}`", item.value.span,
                     help=did_you_mean(name, [n for n, (k, _) in self.declared.items() if k == "model"]))
        return None

    def component_links(self, s: ast.Component) -> None:
        comp = self.components[s.name]
        for item in s.body.items:
            if item.name not in ("fallback", "on_hit") or isinstance(item, ast.Block):
                continue
            if not isinstance(item.value, ast.Name):
                self.c.error("E215", f"`{item.name}` must name a component, `success` or `failure`", item.value.span)
                continue
            target = item.value.id
            if s.name in self.origin and target in ("in", "out"):
                self.c.error("E217", f"`{item.name}` cannot lead to the instance's `{target}` port", item.value.span,
                             help=f"`{item.name}` names a component, `success` or `failure`; to leave the "
                             "instance, send the flow there: e.g. a `router` before the cache, with edges to `out`")
                continue
            if target not in self.components and target not in ("success", "failure"):
                self.c.error("E217", f"unknown component `{target}`", item.value.span,
                             help=did_you_mean(target, list(self._flow_components()) + ["success", "failure"]))
                continue
            if target in self.components and self.components[target].kind == "observe":
                self.c.error("E218", f"`{target}` is an observability overlay and cannot be a flow target", item.value.span)
                continue
            if item.name == "fallback":
                if comp.fallback_model is not None:
                    self.c.error("E214", f"`{s.name}` gives both `fallback` and `fallback_model`", item.span)
                if target == s.name:
                    self.c.error("E219", f"`{s.name}` falls back to itself", item.value.span,
                                 help="use `attempts` for retries of the same component")
                comp.fallback = None if target == "failure" else target
            else:
                comp.on_hit = target

    def _flow_components(self):
        return (n for n, c in self.components.items() if c.kind != "observe")

    def opt(self, f: dict, key: str, dims, what: str, check: str | None = None, default=0) -> sympy.Expr:
        if key not in f:
            return sympy.Integer(default)
        item = f[key]
        if isinstance(item, ast.Block):
            return sympy.Integer(default)
        v = self.expect(item.value, dims, what)
        if v is None:
            return sympy.Integer(default)
        if check:
            self.checks.append(ir.Check(check, v, what, item.value.span))
        return v

    def enum(self, item, choices: tuple[str, ...], what: str) -> Optional[str]:
        if isinstance(item, ast.Field) and isinstance(item.value, ast.Name) and item.value.id in choices:
            return item.value.id
        shown = item.value.id if isinstance(item, ast.Field) and isinstance(item.value, ast.Name) else None
        self.c.error("E220", f"unknown {what}" + (f" `{shown}`" if shown else ""), item.span,
                     help=(did_you_mean(shown, choices) if shown else None) or "one of: " + ", ".join(choices))
        return None

    def count(self, item, least: int, what: str, most: int = MAX_ATTEMPTS) -> int:
        value = item.value if isinstance(item, ast.Field) else None
        if isinstance(value, ast.Quantity) and value.unit is None and sympy.Rational(value.value).is_Integer:
            n = int(sympy.Rational(value.value))
            if least <= n <= most:
                return n
        if isinstance(value, ast.Name):
            self.c.error("E221", f"`{what}` must be written as a number, not a parameter", item.span,
                         help="the number of attempts shapes the graph, so it is fixed in the file; "
                         "use a scenario on `fail_rate` to explore reliability")
            return least if what == "attempts" else 0
        self.c.error("E221", f"`{what}` must be a whole number from {least} to {most}", item.span,
                     help="`attempts` counts every try including the first: `attempts = 3` is `retries = 2`")
        return least if what == "attempts" else 0

    # --- flow --------------------------------------------------------------------
    def flow(self, flow: Optional[ast.Flow], scoped: list[tuple[ast.Flow, Scope]] = ()) -> tuple[list[ir.Edge], str]:
        """The file's flow plus every instance's: edges with probabilities, ports removed."""
        where = Span(file=self.main.path, line=1, column=1, end_line=1, end_column=2)
        if flow is None:
            self.c.error("E402", "no `flow` given", where, help="add `flow { start -> first_component }`")
            return [], ""
        raw: dict[str, list[tuple[str, ast.Chain, Span]]] = {}
        seen: dict[tuple[str, str], Span] = {}
        ok = True
        for block, scope in [(flow, None), *scoped]:
            self.c.context = scope.instance.notes if scope else ()
            for chain in block.chains:
                if chain.attrs and len(chain.nodes) > 2:
                    self.c.error("E403", "edge attributes need a single edge", chain.attrs[0].span,
                                 help="write `a -> b (p = …)` on its own line")
                    ok = False
                pairs = zip(zip(chain.nodes, chain.nodes[1:]), zip(chain.node_spans, chain.node_spans[1:]))
                for i, ((a, b), (sa, sb)) in enumerate(pairs):
                    u = self.flow_node(a, sa, scope, "source", report=i == 0)
                    v = self.flow_node(b, sb, scope, "target")
                    if u is None or v is None:
                        ok = False
                        if u is not None:  # keep the edge so `start -> unknown` reports only the name
                            raw.setdefault(u, []).append((b, chain, sb))
                        continue
                    if (u, v) in seen:
                        self.c.error("E406", f"edge `{a} -> {b}` is given twice", sb,
                                     notes=(("first given here", seen[(u, v)]),))
                        ok = False
                        continue
                    seen[(u, v)] = sb
                    raw.setdefault(u, []).append((v, chain, sb))
                    if scope is not None:
                        self._edge_scope[u] = scope
        self.c.context = ()
        for target, chain, span in raw.get("start", []):
            if chain.attrs:
                self.c.error("E407", "the `start` edge takes no probability: every request enters there",
                             chain.attrs[0].span, help="branch from the first component instead")
                ok = False
        starts = raw.get("start", [])
        if not starts:
            self.c.error("E407", "the flow has no `start -> …` edge", flow.span,
                         help="say where a request enters, e.g. `start -> cache`")
            ok = False
        elif len(starts) > 1:
            self.c.error("E407", "`start` has more than one edge", starts[1][2],
                         help="a request enters at one component; branch from there")
            ok = False
        elif starts[0][0] in ("success", "failure"):
            self.c.error("E407", "`start` leads straight to an outcome", starts[0][2])
            ok = False
        for block, scope in scoped:
            if port_in(scope.instance.name) not in raw and ok:
                self.c.error("E407", f"the flow of template `{scope.instance.template}` never leaves `in`",
                             block.span, notes=scope.instance.notes, help="add `in -> first_component`")
                ok = False
        if not ok:
            return [], ""
        edges: list[ir.Edge] = []
        for source, outs in raw.items():
            if source == "start":
                continue
            scope = self._edge_scope.get(source)
            self.c.context = scope.instance.notes if scope else ()
            edges.extend(self.edges_from(source, outs))
        self.c.context = ()
        entry = starts[0][0]
        if self.instances:
            edges.append(ir.Edge("start", entry, sympy.Integer(1), False, starts[0][2]))
            edges = self.eliminate_ports(edges)
            if not edges:  # a loop of ports, reported (the `start` edge is always there otherwise)
                return [], ""
            entries = [e for e in edges if e.source == "start"]
            if len(entries) == 1 and entries[0].probability == 1:
                edges = [e for e in edges if e.source != "start"]
                entry = entries[0].target
            else:
                # the first instance branches at once (`in -> a (p = …)`): the request
                # enters at `start`, which lowering makes a node of its own that costs nothing
                entry = "start"
            if entry in ("success", "failure") or not entries:
                self.c.error("E407", "`start` leads straight to an outcome", starts[0][2],
                             help="an instance whose flow goes from `in` to `out` has no component to enter")
                return [], ""
        return edges, entry

    def flow_node(self, name: str, span: Span, scope: Optional[Scope], role: str, report: bool = True) -> Optional[str]:
        """The graph node a name in a flow stands for: a component, an outcome, `start`, or an
        instance's port (`in` where a request enters it, `out` where it leaves). A name in the
        middle of a chain is looked up twice; `report=False` keeps the second lookup quiet
        about what the first one already reported."""
        if name in RESERVED_NODES:
            if name == "start" and scope is not None:
                self.c.error("E405", "`start` belongs to the file's flow: a template's flow begins at `in`", span)
                return None
            if role == "source" and name in ("success", "failure"):
                self.c.error("E405", f"`{name}` is an outcome: nothing follows it", span)
                return None
            if role == "target" and name == "start":
                self.c.error("E405", "nothing leads back to `start`", span)
                return None
            return name
        if scope is not None and name in ("in", "out"):
            if (name, role) == ("in", "target"):
                self.c.error("E405", "nothing leads back to `in`: it is where a request enters the instance", span)
                return None
            if (name, role) == ("out", "source"):
                self.c.error("E405", "`out` is where a request leaves the instance: nothing follows it inside "
                             "the template", span)
                return None
            return port_in(scope.instance.name) if name == "in" else port_out(scope.instance.name)
        full = (scope.prefix if scope else "") + name
        if full in self.failed_instances:
            return None  # its `use` was reported
        if full in self.instances:
            if not self.instances[full].has_flow:
                if report:
                    self.c.error("E404", f"`{name}` is an instance of template `{self.instances[full].template}`, "
                                 "which has no flow: it applies to every request and stays out of the flow", span)
                return None
            return port_out(full) if role == "source" else port_in(full)
        if full not in self.components:
            if not report:
                return None
            if full in self.declared:
                self.c.error("E404", f"`{name}` is a {self.declared[full][0]}, not a component", span)
            else:
                prefix = scope.prefix if scope else ""
                near = [n[len(prefix):] for n in list(self._flow_components()) + list(self.instances)
                        if n.startswith(prefix)]
                self.c.error("E217", f"unknown component `{name}`", span,
                             help=did_you_mean(name, near + list(RESERVED_NODES)))
            return None
        kind = self.components[full].kind
        if not report and kind in ("fixed", "observe"):
            return None  # reported where the chain led to it
        if kind == "fixed":
            self.c.error("E218", f"`{name}` is a fixed monthly cost: it is not visited by requests and "
                         "stays out of the flow", span)
            return None
        if kind == "observe":
            self.c.error("E218", f"`{name}` is an observability overlay: it applies to every request and "
                         "stays out of the flow", span)
            return None
        return full

    def eliminate_ports(self, edges: list[ir.Edge]) -> list[ir.Edge]:
        """Join every edge into a port with every edge out of it (probabilities multiply): a
        port costs nothing and takes no time, so the chain's expected visits are unchanged.
        Linear in the edges for instances in a chain; edges keep their order."""
        by_id = dict(enumerate(edges))
        next_id = len(edges)
        into: dict[str, list[int]] = {}
        out_of: dict[str, list[int]] = {}
        for i, e in by_id.items():
            out_of.setdefault(e.source, []).append(i)
            into.setdefault(e.target, []).append(i)
        for instance in self.instances.values():
            for port in (port_in(instance.name), port_out(instance.name)):
                # ids of edges already joined away are skipped (removed lazily)
                ins = [by_id.pop(i) for i in into.pop(port, []) if i in by_id]
                outs = [by_id.pop(i) for i in out_of.pop(port, []) if i in by_id]
                loop = next((e for e in ins if e.source == port), None)
                if loop is not None:
                    self.c.error("E412", f"a loop through `{instance.name}` passes through no component",
                                 loop.span, notes=instance.notes,
                                 help="a request would go round it forever at no cost: put a component on the loop")
                    return []
                for a in ins:
                    for b in outs:
                        by_id[next_id] = ir.Edge(a.source, b.target, a.probability * b.probability,
                                                 a.on_failure or b.on_failure, a.span)
                        out_of.setdefault(a.source, []).append(next_id)
                        into.setdefault(b.target, []).append(next_id)
                        next_id += 1
        return [e for _, e in sorted(by_id.items())]

    def edges_from(self, source: str, outs: list[tuple[str, ast.Chain, Span]]) -> list[ir.Edge]:
        explicit: list[sympy.Expr] = []
        result: list[tuple[str, Optional[sympy.Expr], bool, Span]] = []
        otherwise: Optional[tuple[str, bool, Span]] = None
        for target, chain, span in outs:
            attrs = {a.kind: a for a in chain.attrs} if len(chain.nodes) == 2 else {}
            on_failure = "on_failure" in attrs or target == "failure"
            if "p" in attrs and "otherwise" in attrs:
                self.c.error("E408", "an edge takes `p = …` or `otherwise`, not both", attrs["otherwise"].span)
                continue
            if "otherwise" in attrs:
                if otherwise is not None:
                    self.c.error("E409", f"`{self._shown(source)}` has two `otherwise` edges", attrs["otherwise"].span,
                                 notes=(("the other one", otherwise[2]),))
                    continue
                otherwise = (target, on_failure, span)
                continue
            if "p" in attrs:
                p = self.expect(attrs["p"].value, (DIMENSIONLESS,), "an edge probability")
                if p is None:
                    continue
                self.checks.append(ir.Check("probability", p, f"probability of `{self._shown(source)} -> {self._shown(target)}`",
                                            attrs["p"].value.span))
                if on_failure:
                    p = p * ir.FAILURE_SWITCH
                explicit.append(p)
                result.append((target, p, on_failure, span))
            else:
                result.append((target, None, on_failure, span))
        unlabelled = [r for r in result if r[1] is None]
        if unlabelled and (len(result) > 1 or otherwise is not None):
            names = ", ".join(f"`{self._shown(source)} -> {self._shown(t)}`" for t, *_ in result)
            self.c.error("E410", f"`{self._shown(source)}` branches to {len(result) + (otherwise is not None)} places; "
                         "each branch needs a probability", unlabelled[0][3],
                         help=f"write `(p = …)` on each of {names}, or mark one `(otherwise)`")
            return []
        total = sympy.Add(*explicit)
        phi = ir.FAILURE_SWITCH
        # explicit probabilities carry the failure switch already; an unconditional or
        # `otherwise` failure edge gets it here, so the happy path drops every failure edge
        edges = [ir.Edge(source, t, p if p is not None else (phi if failed else sympy.Integer(1)), failed, span)
                 for t, p, failed, span in result]
        if explicit:
            self.checks.append(ir.Check("probability_sum", total.xreplace({phi: 1}),
                                        f"probabilities leaving `{self._shown(source)}`", result[0][3] if result else outs[0][2]))
        if otherwise is not None:
            rest = 1 - total
            edges.append(ir.Edge(source, otherwise[0], rest * phi if otherwise[1] else rest, otherwise[1], otherwise[2]))
        return edges

    @staticmethod
    def _shown(node: str) -> str:
        """A flow node as the user wrote it: ports are an instance's `in` and `out`."""
        if "::" in node:
            instance, port = node.split("::")
            return f"{instance}.{port}" if port == "in" else instance
        return node

    # --- budgets --------------------------------------------------------------------
    def budget(self, b: ast.Budget, scenarios: dict) -> Optional[ir.Budget]:
        kind = ir.BUDGET_METRICS.get(b.metric)
        if kind is None:
            self.c.error("E240", f"unknown budget metric `{b.metric}`", b.metric_span,
                         help=did_you_mean(b.metric, ir.BUDGET_METRICS) or "metrics: " + ", ".join(ir.BUDGET_METRICS))
            return None
        if b.scenario is not None and b.scenario not in scenarios:
            self.c.error("E231", f"unknown scenario `{b.scenario}`", b.scenario_span,
                         help=did_you_mean(b.scenario, scenarios))
            return None
        dims = {"monthly": (USD / TIME,), "per_request": COST_PER_VISIT, "share": (DIMENSIONLESS,)}[kind]
        limit = self.expect(b.limit, dims, f"the limit of budget `{b.metric}`", allow_params=False)
        if limit is None:
            return None
        value = float(limit * self.month_days) if kind == "monthly" else float(limit)
        return ir.Budget(b.metric, b.op, value, b.scenario, b.span)

    # --- scenarios -----------------------------------------------------------------
    def scenarios(self, stmts: list[ast.Scenario]) -> dict[str, ir.Scenario]:
        by_name: dict[str, ast.Scenario] = {}
        for s in stmts:
            if s.name in by_name:
                self.c.error("E101", f"scenario `{s.name}` is already declared", s.name_span,
                             notes=(("first declared here", by_name[s.name].name_span),))
                continue
            by_name[s.name] = s
        own: dict[str, dict[str, tuple[sympy.Expr, Span]]] = {}
        for s in by_name.values():
            values: dict[str, tuple[sympy.Expr, Span]] = {}
            for item in s.body.items:
                if isinstance(item, ast.Block):
                    self.c.error("E211", f"scenario `{s.name}` sets parameters, not blocks", item.span)
                    continue
                param = self.params.get(item.name)
                if param is None:
                    if item.name not in self._pending_params:
                        self.c.error("E201", f"unknown parameter `{item.name}` in scenario `{s.name}`", item.span,
                                     help=did_you_mean(item.name, self.params))
                    continue
                if item.name in values:
                    self.c.error("E212", f"`{item.name}` is set twice in scenario `{s.name}`", item.span)
                    continue
                v = self.expect(item.value, (param.dim,), f"`{item.name}`")
                if v is not None:
                    values[item.name] = (v, item.value.span)
            own[s.name] = values
        result: dict[str, ir.Scenario] = {}
        for name, s in by_name.items():
            chain, current, ok = [], s, True
            while current is not None:
                if current.name in chain:
                    self.c.error("E230", f"scenario `{name}` extends itself: "
                                 + " -> ".join(chain + [current.name]), s.extends_span or s.name_span)
                    ok = False
                    break
                chain.append(current.name)
                if current.extends is None:
                    current = None
                elif current.extends not in by_name:
                    self.c.error("E231", f"unknown scenario `{current.extends}`", current.extends_span,
                                 help=did_you_mean(current.extends, by_name))
                    ok = False
                    current = None
                else:
                    current = by_name[current.extends]
            if not ok:
                continue
            merged: dict[str, tuple[sympy.Expr, Span]] = {}
            for ancestor in reversed(chain):
                merged.update(own[ancestor])
            result[name] = ir.Scenario(name, s.description, {k: v for k, (v, _) in merged.items()},
                                       {k: sp for k, (_, sp) in merged.items()}, s.span)
        return result


_FIELD_HELP = {
    "model": "add `model = <a declared model>`",
    "input": "add `input = 500 tokens`, or `input { system = 300 tokens; user = 200 tokens }`",
    "output": "add `output = 200 tokens`",
    "hit_rate": "add `hit_rate = 30%`",
    "time": "add `time = 5 min`",
    "rate": "add `rate = 45 USD/hour`",
    "cost": "add `cost = 500 USD/month`",
}


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


def _names_in(expr: ast.Expr) -> set[str]:
    found, stack = set(), [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, ast.Name):
            found.add(e.id)
        elif isinstance(e, ast.BinOp):
            stack += [e.left, e.right]
        elif isinstance(e, ast.Neg):
            stack.append(e.operand)
        elif isinstance(e, ast.Call):
            stack.extend(e.args)
    return found


def _mentions_month(expr: ast.Expr) -> bool:
    stack = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, ast.Quantity) and e.unit and any(w in ("month", "months", "year", "years")
                                                          for w in e.unit.split("/")):
            return True
        if isinstance(e, ast.BinOp):
            stack += [e.left, e.right]
        elif isinstance(e, ast.Neg):
            stack.append(e.operand)
        elif isinstance(e, ast.Call):
            stack.extend(e.args)
    return False


def _num(x: float) -> str:
    return f"{x:g}"


def elaborate(modules: list[ast.Module], sources: SourceCache) -> ir.Architecture:
    """Check the parsed modules (main file first) and build the architecture."""
    return _Elaborator(modules, sources).run()
