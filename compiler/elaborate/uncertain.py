"""Uncertain values: `low to high`, `choice { }` and the distribution calls (`normal(…)`,
`pert(…)` …), checked and turned into a `distributions.Distribution` with its median (the
point value). Used by the `parameters` and `scenarios` passes, the only places such a
value may be written; the expression visitor reports it anywhere else (E800).

Arguments are constants (no parameters), in the unit of the parameter: a bare number next
to a quantity takes its unit (`300 to 900 tokens`). Bounds a distribution cannot have are
errors at their span (E801): an inverted interval, a share's interval touching 0% or 100%,
a negative amount, a standard deviation of zero, choice weights that do not add up to 100%.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import sympy

from llmarch.dsl import ast

from ..distributions import FUNCTIONS, Z95, Distribution, interval_kind, weighted
from ..units import DIMENSIONLESS, Dim, format_dim, unit_of
from .expressions import ExpressionCompiler

__all__ = ["Uncertain", "is_uncertain", "uncertain_value"]


@dataclass(frozen=True)
class Uncertain:
    """An uncertain value: its median (sympy, base units), dimension, the unit it was
    written in (or None) with that unit's scale, and the distribution in that unit."""

    median: sympy.Expr
    dim: Dim
    unit: Optional[str]
    scale: sympy.Expr
    distribution: Distribution


def is_uncertain(node) -> bool:
    return isinstance(node, (ast.Interval, ast.Choice)) or (isinstance(node, ast.Call) and node.func in FUNCTIONS)


def _bare(node) -> bool:
    """A number written without a unit (it takes the unit of the others)."""
    if isinstance(node, ast.Neg):
        node = node.operand
    return isinstance(node, ast.Quantity) and node.unit is None


def _unit_written(node) -> Optional[str]:
    if isinstance(node, ast.Neg):
        node = node.operand
    return node.unit if isinstance(node, ast.Quantity) else None


def uncertain_value(x: ExpressionCompiler, node, what: str) -> Optional[Uncertain]:
    """Check an uncertain value (`is_uncertain(node)`) and build it, or report and give None."""
    state = x.state
    error = state.collector.error
    text = _snippet(state, node.span)
    if isinstance(node, ast.Choice):
        return _choice(x, node, what, text)
    if isinstance(node, ast.Interval):
        nodes, kind = [node.low, node.high], None
    else:
        names = FUNCTIONS[node.func]
        if len(node.args) != len(names):
            error("E204", f"`{node.func}` takes {len(names)} arguments ({', '.join(names)}), got {len(node.args)}",
                  node.span)
            return None
        nodes, kind = list(node.args), node.func
    if kind == "beta":
        shapes = [x.expect(n, (DIMENSIONLESS,), f"a shape of `beta`", allow_params=False) for n in nodes]
        if any(s is None for s in shapes):
            return None
        a, b = (float(s) for s in shapes)
        for value, n in zip((a, b), nodes):
            if value <= 0:
                error("E801", f"a shape of `beta` must be above 0, got {value:g}", n.span,
                      help="`beta(a, b)` has mean a / (a + b): `beta(2, 8)` is about 20%")
                return None
        d = Distribution("beta", (a, b), (), node.span, text)
        return Uncertain(_point(d), DIMENSIONLESS, None, sympy.Integer(1), d)
    measured = _measure(x, nodes, what)
    if measured is None:
        return None
    values, dim, unit, scale = measured
    floats = [float(v) for v in values]
    amount = not dim.is_dimensionless
    if kind is None or kind in ("lognormal", "logitnormal"):
        low, high = floats
        if not low < high:
            error("E801", f"the low end of an interval must be below its high end "
                  f"(got {_written(nodes[0], low, scale, unit)} to {_written(nodes[1], high, scale, unit)})", node.span,
                  help=f"write the 5th percentile first: `{_written(nodes[1], high, scale, unit)} to "
                  f"{_written(nodes[0], low, scale, unit)}`" if low != high else
                  "for a value you are sure of, write the number itself")
            return None
        if kind is None:
            kind = interval_kind(low, high, dim.is_dimensionless)
            percent = all(isinstance(n, ast.Percent) for n in nodes)
            if percent and 0 <= low and high <= 1 and kind != "logitnormal":
                at = nodes[0] if low == 0 else nodes[1]
                error("E801", "a share's 90% interval must lie strictly between 0% and 100% "
                      "(its ends are the 5th and 95th percentiles of a logit-normal)", at.span,
                      help="for a range that reaches 0% or 100%, write `uniform(…)`, `pert(low, mode, high)` "
                      "or `beta(a, b)`")
                return None
            if amount and low <= 0:
                error("E801", f"an amount's 90% interval must be above zero (got {_show(low, scale)})", nodes[0].span,
                      help="its ends are the 5th and 95th percentiles of a lognormal; for a range from zero "
                      "write `uniform(…)` or `pert(low, mode, high)`")
                return None
        elif kind == "lognormal" and low <= 0:
            error("E801", f"a lognormal's 5th percentile must be above zero (got {_show(low, scale)})", nodes[0].span)
            return None
        elif kind == "logitnormal" and not (dim.is_dimensionless and 0 < low and high < 1):
            error("E801", "a logit-normal's 5th and 95th percentiles must be shares strictly between 0% and 100%",
                  node.span)
            return None
        if kind == "normal":
            # `a to b` below zero: the normal whose 5th and 95th percentiles are a and b
            d = Distribution("normal", ((low + high) / 2, (high - low) / (2 * Z95)), (), node.span, text)
            values = [(values[0] + values[1]) / 2]      # its mean and median, exactly
        else:
            d = Distribution(kind, (low, high), (), node.span, text)
    elif kind == "normal":
        mean, sd = floats
        if sd <= 0:
            error("E801", f"a standard deviation must be above zero (got {_show(sd, scale)})", nodes[1].span,
                  help="`normal(mean, sd)`; for a value you are sure of, write the number itself")
            return None
        d = Distribution("normal", (mean, sd), (), node.span, text)
    elif kind == "uniform":
        low, high = floats
        if not low < high:
            error("E801", f"`uniform` needs low < high (got {_show(low, scale)}, {_show(high, scale)})", node.span)
            return None
        d = Distribution("uniform", (low, high), (), node.span, text)
    else:   # triangular, pert
        low, mode, high = floats
        if not low < high:
            error("E801", f"the low end of `{kind}` must be below its high end "
                  f"(got {_show(low, scale)} and {_show(high, scale)})", node.span,
                  help=f"`{kind}(low, mode, high)`")
            return None
        if not low <= mode <= high:
            error("E801", f"the mode of `{kind}` must lie between its low and high ends, {_show(low, scale)} and "
                  f"{_show(high, scale)} (got {_show(mode, scale)})", nodes[1].span,
                  help=f"`{kind}(low, mode, high)`: the mode is the most likely value")
            return None
        d = Distribution(kind, (low, mode, high), (), node.span, text)
    if amount and kind in ("uniform", "triangular", "pert") and d.args[0] < 0:
        error("E801", f"an amount cannot be negative (the low end is {_show(d.args[0], scale)})", nodes[0].span)
        return None
    return Uncertain(_point(d, exact=values) * scale, dim, unit, scale, d)


def _measure(x: ExpressionCompiler, nodes: list, what: str):
    """The nodes' values (exact) in the unit written, with their common dimension, that unit
    and its scale (base units per unit); bare numbers are in that unit. None (reported) on
    a problem. Kept in the written unit, a distribution shows its numbers as written
    (`0.1 USD/Mtok`, never `0.09999999999999999`)."""
    state = x.state
    unit = next((u for u in map(_unit_written, nodes) if u), None)
    scale = sympy.Integer(1)
    if unit is not None:
        try:
            scale = unit_of(unit, state.month_days)[1]
        except Exception:   # reported where the quantity is compiled
            scale = sympy.Integer(1)
    compiled = [x.value(n, allow_params=False) for n in nodes]
    if any(c is None for c in compiled):
        return None
    dims = [c.dim for c, n in zip(compiled, nodes) if not _bare(n)]
    dim = dims[0] if dims else DIMENSIONLESS
    values = []
    for c, n in zip(compiled, nodes):
        if _bare(n) and not dim.is_dimensionless:
            values.append(c.expr)
        elif c.dim != dim:
            state.collector.error("E300", f"the values of {what} must all be in {format_dim(dim)}, "
                                  f"got {format_dim(c.dim)}", n.span)
            return None
        else:
            values.append(c.expr / scale)
    return values, dim, unit, scale


def _choice(x: ExpressionCompiler, node: ast.Choice, what: str, text: str) -> Optional[Uncertain]:
    error = x.state.collector.error
    weights = [x.expect(item.weight, (DIMENSIONLESS,), "a choice's weight", allow_params=False) for item in node.items]
    measured = _measure(x, [item.value for item in node.items], what)
    if measured is None or any(w is None for w in weights):
        return None
    values, dim, unit, scale = measured
    for w, item in zip(weights, node.items):
        if w < 0:
            error("E801", "a choice's weight cannot be negative", item.weight.span)
            return None
    total = sum(weights)
    if abs(float(total) - 1) > 1e-9:
        error("E801", f"a choice's weights add up to {float(total):.6g} ({float(total) * 100:.4g}%), not 100%",
              node.span, help="give each alternative its probability: `choice { 70%: 400 tokens, 30%: 900 tokens }`")
        return None
    if not dim.is_dimensionless and any(float(v) < 0 for v in values):
        error("E801", "an amount cannot be negative", node.span)
        return None
    kept, normalized = weighted([float(v) for v in values], [float(w) for w in weights])
    d = Distribution("choice", kept, normalized, node.span, text)
    return Uncertain(_point(d, exact=values) * scale, dim, unit, scale, d)


def _snippet(state, span) -> str:
    """The text of `span` as written (lines joined by a space), for `explain`."""
    sources = state.collector.sources
    if sources is None or span is None:
        return ""
    lines = [sources.line(span.file, n) or "" for n in range(span.line, span.end_line + 1)]
    if not lines:
        return ""
    if len(lines) == 1:
        return lines[0][span.column - 1:span.end_column - 1]
    lines[0], lines[-1] = lines[0][span.column - 1:], lines[-1][:span.end_column - 1]
    return " ".join(line.strip() for line in lines)


def _point(d: Distribution, exact=None) -> sympy.Expr:
    """The median as a sympy number: exact where it is a rational function of the written
    numbers (normal, uniform, choice), else the float's exact binary value."""
    if exact is not None:
        if d.kind == "normal":
            return exact[0]
        if d.kind == "uniform":
            return (exact[0] + exact[1]) / 2
        if d.kind == "choice":
            median = d.median
            return next(v for v in exact if float(v) == median)
    return sympy.Float(d.median, 17)


def _show(value: float, scale=None) -> str:
    """A value in the unit written (`scale` is kept for the callers' symmetry)."""
    return f"{value:g}"


def _written(node, value: float, scale, unit: Optional[str]) -> str:
    """`value` as the file would write it: `40%`, `300 tokens`, `2`."""
    if isinstance(node, ast.Percent):
        return f"{value * 100:g}%"
    return _show(value, scale) + (f" {unit}" if unit else "")
