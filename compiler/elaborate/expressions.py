"""The expression visitor: an AST expression compiled to sympy, in base units, with its
dimension.

`ExpressionCompiler.value` dispatches on the node's class to `visit_<Class>`; every
problem (unknown names and units, mismatched dimensions, division by zero, numbers out
of range) is reported to the state's collector and gives None. Names are looked up in
the state as the passes have filled it so far: in `settings { }` no parameter exists yet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Optional

import sympy

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import did_you_mean
from llmarch.dsl.vocabulary import CALENDAR_WORDS, KNOWN_UNIT_WORDS, UNIT_WORDS

from ..distributions import FUNCTIONS as DISTRIBUTION_FUNCTIONS
from ..units import DIMENSIONLESS, REQUEST, TIME, TOKEN, USD, Dim, UnitError, format_dim, unit_of
from .state import State

__all__ = ["ExpressionCompiler", "Value", "MAX_EXPONENT", "PRICE_PER_TOKEN", "COST_PER_VISIT", "names_in", "walk"]

MAX_EXPONENT = 1000

PRICE_PER_TOKEN = USD / TOKEN
#: A cost per visit may be written per request (`0.002 USD/query`) or as a plain amount.
COST_PER_VISIT = (USD, USD / REQUEST)

#: Built-in functions: (least, most) arguments, None for no limit.
_FUNCTIONS = {"min": (2, None), "max": (2, None), "ceil": (1, 1), "floor": (1, 1), "sqrt": (1, 1),
              "log": (1, 1), "exp": (1, 1)}


@dataclass
class Value:
    """A compiled expression: sympy in base units, its dimension, and whether it is a
    number (no parameter in it)."""

    expr: sympy.Expr
    dim: Dim
    constant: bool


class ExpressionCompiler:
    """Compiles expressions against one elaboration state."""

    #: node class -> its visit_<Class> method, filled on first use
    _visitors: dict[type, Callable] = {}

    def __init__(self, state: State):
        self.state = state

    def value(self, expr: ast.Expr, allow_params: bool = True) -> Optional[Value]:
        """Compile an expression to sympy (base units) with its dimension, or None on error."""
        visit = self._visitors.get(type(expr))
        if visit is None:
            visit = self._visitors[type(expr)] = getattr(ExpressionCompiler, f"visit_{type(expr).__name__}")
        result = visit(self, expr, allow_params)
        if result is not None and result.constant and not (result.expr.is_real and result.expr.is_finite):
            # 0^-1, 0^-0.5 …: sympy's complex infinity or NaN must never reach evaluation
            self.state.collector.error(
                "E303" if result.expr.has(sympy.zoo) else "E305",
                "division by zero" if result.expr.has(sympy.zoo) else "not a finite real number",
                expr.span, help="zero raised to a negative power divides by zero"
                if isinstance(expr, ast.BinOp) and expr.op == "^" else None)
            return None
        return result

    def expect(self, expr: ast.Expr, dims: Iterable[Dim], what: str, allow_params: bool = True,
               hint: Optional[str] = None) -> Optional[sympy.Expr]:
        """Compile `expr` and require one of `dims`; USD/request counts as USD for per-visit costs.
        `hint` replaces the help a wrong unit gets."""
        dims = tuple(dims)
        v = self.value(expr, allow_params)
        if v is None:
            return None
        if v.dim not in dims:
            wanted = " or ".join(format_dim(d) for d in dims)
            if hint is not None:
                pass
            elif USD in dims and v.dim == USD / TIME:
                hint = ("this field is paid per visit, in USD (or USD/request); a monthly amount belongs in a "
                        "`fixed` component (`fixed x { cost = 500 USD/month }`), or multiply the rate by the "
                        "time one visit takes (`45 USD/hour * 6 min`)")
            elif dims[0] == PRICE_PER_TOKEN:
                hint = "write prices with their unit, e.g. `2.50 USD/Mtok` (per million) or `0.0025 USD/Ktok`"
            elif dims[0] == DIMENSIONLESS:
                hint = "write shares as a plain number or a percentage: `0.3` or `30%`"
            elif dims[0] == TOKEN:
                hint = "write token counts with their unit, e.g. `300 tokens`"
            elif dims[0] == TIME:
                hint = "write a time with its unit, e.g. `300 ms`, `2 s` or `5 min`"
            elif dims[0] == TOKEN / TIME:
                hint = "write a speed with its unit, e.g. `80 tokens/s`"
            elif dims[0] == USD / TIME:
                hint = "write a rate with its unit, e.g. `500 USD/month`"
            elif dims[0] == REQUEST / TIME:
                hint = "write traffic with its unit, e.g. `1200 requests/day`"
            self.state.collector.error("E300", f"{what} must be in {wanted}, got {format_dim(v.dim)}", expr.span,
                                       help=hint)
            return None
        return v.expr

    # --- one method per node class ----------------------------------------------------
    def visit_Text(self, e: ast.Text, allow_params: bool) -> Optional[Value]:
        self.state.collector.error("E227", f"text where a value belongs: \"{e.value}\"", e.span,
                                   help="only a component's `span` takes text; a value is a number, a name or a formula")
        return None

    def visit_Quantity(self, e: ast.Quantity, allow_params: bool) -> Optional[Value]:
        number = sympy.Rational(e.value)
        if e.unit is None:
            return Value(number, DIMENSIONLESS, True)
        try:
            dim, scale = unit_of(e.unit, self.state.month_days)
        except UnitError as exc:
            self.state.collector.error("E302", f"unknown unit `{exc}`", e.span,
                                       help=did_you_mean(str(exc), [*UNIT_WORDS, *CALENDAR_WORDS])
                                       or "units: " + ", ".join(KNOWN_UNIT_WORDS))
            return None
        return Value(number * scale, dim, True)

    def visit_Percent(self, e: ast.Percent, allow_params: bool) -> Optional[Value]:
        return Value(sympy.Rational(e.value) / 100, DIMENSIONLESS, True)

    def visit_Name(self, e: ast.Name, allow_params: bool) -> Optional[Value]:
        state = self.state
        param = state.params.get(e.id)
        if param is not None and allow_params:
            return Value(param.expr, param.dim, False)
        if param is not None:
            state.collector.error("E207", f"`{e.id}` must be a constant here, not a parameter", e.span)
            return None
        if e.id in state.declared and state.declared[e.id][0] != "parameter":
            kind = state.declared[e.id][0]
            state.collector.error("E202", f"`{e.id}` is a {kind}, not a parameter", e.span,
                                  help="only parameters can appear in formulas")
            return None
        if e.id in state.pending_params:
            return None  # reported where that parameter was defined
        hint = did_you_mean(e.id, state.params)
        if hint is None and (e.id in UNIT_WORDS or e.id in CALENDAR_WORDS):
            hint = f"`{e.id}` is a unit: write it right after a number, with no space around `/` (e.g. `1200 requests/day`)"
        state.collector.error("E201", f"unknown parameter `{e.id}`", e.span, help=hint)
        return None

    def visit_Neg(self, e: ast.Neg, allow_params: bool) -> Optional[Value]:
        inner = self.value(e.operand, allow_params)
        return None if inner is None else Value(-inner.expr, inner.dim, inner.constant)

    def visit_BinOp(self, e: ast.BinOp, allow_params: bool) -> Optional[Value]:
        left, right = self.value(e.left, allow_params), self.value(e.right, allow_params)
        if left is None or right is None:
            return None
        constant = left.constant and right.constant
        if e.op in "+-":
            if left.dim != right.dim:
                verb = "add" if e.op == "+" else "subtract"
                self.state.collector.error("E301", f"cannot {verb} {format_dim(left.dim)} and {format_dim(right.dim)}",
                                           e.span, help="both sides of `+` and `-` need the same unit")
                return None
            expr = left.expr + right.expr if e.op == "+" else left.expr - right.expr
            return Value(expr, left.dim, constant)
        if e.op == "*":
            return Value(left.expr * right.expr, left.dim * right.dim, constant)
        if e.op == "/":
            if right.constant and right.expr == 0:
                self.state.collector.error("E303", "division by zero", e.span)
                return None
            return Value(left.expr / right.expr, left.dim / right.dim, constant)
        return self._power(e, left, right)

    def _power(self, e: ast.BinOp, base: Value, exponent: Value) -> Optional[Value]:
        error = self.state.collector.error
        if not exponent.dim.is_dimensionless:
            error("E304", f"an exponent must be a plain number, not {format_dim(exponent.dim)}", e.right.span)
            return None
        if exponent.constant:
            k = exponent.expr
            if abs(k) > MAX_EXPONENT:
                error("E105", f"exponent {k} is too large (limit {MAX_EXPONENT})", e.right.span)
                return None
            if base.constant and base.expr != 0:
                magnitude = float(k) * math.log10(abs(float(base.expr))) if base.expr.is_real else 0
                if abs(magnitude) > 300:
                    size = "large" if magnitude > 0 else "small"
                    error("E105", f"number is too {size}: about 1e{magnitude:.0f}", e.span)
                    return None
            if not base.dim.is_dimensionless:
                if not (k.is_Integer):
                    error("E304", f"{format_dim(base.dim)} can only be raised to a whole power", e.span)
                    return None
                return Value(base.expr ** k, base.dim ** int(k), base.constant)
            if base.constant and base.expr < 0 and not k.is_Integer:
                error("E305", "a negative number raised to a fractional power", e.span)
                return None
            return Value(base.expr ** k, DIMENSIONLESS, base.constant)
        if not base.dim.is_dimensionless:
            error("E304", "only plain numbers can be raised to a parameter's power", e.span)
            return None
        return Value(base.expr ** exponent.expr, DIMENSIONLESS, False)

    def visit_Interval(self, e, allow_params: bool) -> Optional[Value]:
        return self._uncertain_here(e)

    def visit_Choice(self, e, allow_params: bool) -> Optional[Value]:
        return self._uncertain_here(e)

    def _uncertain_here(self, e) -> None:
        self.state.collector.error(
            "E800", "an uncertain value can only be the value of a `param` (or a scenario's override of one)",
            e.span, help="declare it as a parameter, `param name = …`, and use the name here")
        return None

    def visit_Call(self, e: ast.Call, allow_params: bool) -> Optional[Value]:
        error = self.state.collector.error
        if e.func in DISTRIBUTION_FUNCTIONS:
            return self._uncertain_here(e)
        if e.func not in _FUNCTIONS:
            error("E203", f"unknown function `{e.func}`", e.span,
                  help=did_you_mean(e.func, [*_FUNCTIONS, *DISTRIBUTION_FUNCTIONS])
                  or "functions: " + ", ".join(_FUNCTIONS))
            return None
        low, high = _FUNCTIONS[e.func]
        if len(e.args) < low or (high is not None and len(e.args) > high):
            wanted = f"{low}" if high == low else f"at least {low}"
            error("E204", f"`{e.func}` takes {wanted} argument{'s' if low > 1 else ''}, got {len(e.args)}", e.span)
            return None
        args = [self.value(a, allow_params) for a in e.args]
        if any(a is None for a in args):
            return None
        constant = all(a.constant for a in args)
        if e.func in ("min", "max"):
            dims = {a.dim for a in args}
            if len(dims) > 1:
                error("E301", f"`{e.func}` of values in different units: "
                      + ", ".join(sorted(format_dim(d) for d in dims)), e.span)
                return None
            fn = sympy.Min if e.func == "min" else sympy.Max
            return Value(fn(*[a.expr for a in args]), args[0].dim, constant)
        (arg,) = args
        if not arg.dim.is_dimensionless:
            error("E306", f"`{e.func}` needs a plain number, not {format_dim(arg.dim)}", e.span,
                  help="divide by a unit first, e.g. `ceil(docs / (1000 docs))`")
            return None
        if e.func in ("log", "sqrt") and arg.constant and arg.expr <= 0 and not (e.func == "sqrt" and arg.expr == 0):
            error("E305", f"`{e.func}` of a non-positive number", e.span)
            return None
        if e.func == "exp" and arg.constant and arg.expr > 690:
            error("E105", "number is too large: `exp` of more than 690", e.span)
            return None
        fn = {"ceil": sympy.ceiling, "floor": sympy.floor, "sqrt": sympy.sqrt, "log": sympy.log,
              "exp": sympy.exp}[e.func]
        return Value(fn(arg.expr), DIMENSIONLESS, constant)


def names_in(expr: ast.Expr) -> set[str]:
    """Every name an expression mentions."""
    return {e.id for e in walk(expr) if isinstance(e, ast.Name)}


def walk(expr: ast.Expr) -> Iterator[ast.Expr]:
    """Every node of an expression, the expression first."""
    stack = [expr]
    while stack:
        e = stack.pop()
        yield e
        if isinstance(e, ast.BinOp):
            stack += [e.left, e.right]
        elif isinstance(e, ast.Neg):
            stack.append(e.operand)
        elif isinstance(e, ast.Call):
            stack.extend(e.args)
        elif isinstance(e, ast.Interval):
            stack += [e.low, e.high]
        elif isinstance(e, ast.Choice):
            for item in e.items:
                stack += [item.weight, item.value]
